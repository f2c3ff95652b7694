// Question: the one question a query asks, with the flags that shape the
// answer (RD, CD, DO), as every stage after admission sees it. Named
// conversions to the forms other parts need: the cache key, the query sent to
// a resolver, the same question for another name. A value; no allocation.
#pragma once

#include <cstdint>

#include "dnscore/dns_name.h"
#include "dnscore/packet_cache.h"
#include "dnscore/query_view.h"
#include "dnscore/upstream_query.h"

namespace meshdns {

struct Question {
  DnsName name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;

  static Question Of(const QueryView& view) {
    return Question{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok};
  }
  // The same question, flags included, for another name (a CNAME target, a
  // cluster's part of a clusterset service).
  Question Renamed(const DnsName& other) const {
    Question out = *this;
    out.name = other;
    return out;
  }
  CacheKey Key() const { return CacheKey(name, qtype, qclass, dnssec_ok, checking_disabled); }
  // This question as a resolver is asked it, for `ask` (the name after rewrites).
  UpstreamQuestion Upstream(const DnsName& ask) const {
    return UpstreamQuestion{ask, qtype, qclass, recursion_desired, checking_disabled, dnssec_ok};
  }
};

}  // namespace meshdns
