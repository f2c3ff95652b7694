// Question: the one question a query asks, with the flags that shape the
// answer (RD, CD, DO) and the server it was asked of (a Corefile's listen
// address: which blocks answer, program.h), as every stage after admission sees it. Named
// conversions to the forms other parts need: the cache key, the query sent to
// a resolver, the same question for another name. A value; no allocation.
#pragma once

#include <cstdint>

#include "dnscore/acl.h"
#include "dnscore/dns_name.h"
#include "dnscore/packet_cache.h"
#include "dnscore/query_view.h"
#include "dnscore/upstream_query.h"

namespace meshdns {

// Who asked, as CoreDNS's whoami reports it: address, port and transport.
struct ClientAddress {
  IpAddress ip;
  uint16_t port = 0;
  bool tcp = false;
};

struct Question {
  DnsName name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;
  uint16_t server = 0;  // index into the program's servers
  // The client the question came from; unset for the server's own questions
  // (prefetch). Not part of the cache key: no stage that uses it is cached.
  ClientAddress client;

  static Question Of(const QueryView& view, uint16_t server = 0, const ClientAddress& client = {}) {
    return Question{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok, server, client};
  }
  // The same question, flags and server included, for another name (a CNAME
  // target, a cluster's part of a clusterset service): CoreDNS resolves those
  // through the server that was asked.
  Question Renamed(const DnsName& other) const {
    Question out = *this;
    out.name = other;
    return out;
  }
  CacheKey Key() const { return CacheKey(name, qtype, qclass, dnssec_ok, checking_disabled, server); }
  // This question as a resolver is asked it, for `ask` (the name after rewrites).
  UpstreamQuestion Upstream(const DnsName& ask) const {
    return UpstreamQuestion{ask, qtype, qclass, recursion_desired, checking_disabled, dnssec_ok};
  }
};

}  // namespace meshdns
