// Question: the one question a query asks, with the flags that shape the
// answer (RD, CD, DO) and the server it was asked of (a Corefile's listen
// address: which blocks answer, program.h), as every stage after admission sees it. Named
// conversions to the forms other parts need: the cache key, the query sent to
// a resolver, the same question for another name. A value; no allocation.
#pragma once

#include <cstdint>
#include <span>

#include "dnscore/acl.h"
#include "dnscore/dns_name.h"
#include "dnscore/edns_rewrite.h"
#include "dnscore/packet_cache.h"
#include "dnscore/query_view.h"
#include "dnscore/upstream_query.h"
#include "dnscore/view_expr.h"

namespace meshdns {

// Who asked, as CoreDNS's whoami reports it: address, port and transport;
// and whom: the listener's address and port (rewrite edns0's {server_ip}).
struct ClientAddress {
  IpAddress ip;
  uint16_t port = 0;
  bool tcp = false;
  IpAddress server_ip;
  uint16_t server_port = 0;
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
  bool has_client = false;
  // The client's EDNS options (its OPT's RDATA), which only rewrite edns0
  // rules pass on. They point into the client's query, which outlives the
  // question's resolution; empty for the server's own questions. Not part of
  // the cache key, as in CoreDNS.
  std::span<const uint8_t> edns_options;
  // The block the server's views chose (Program::RouteOf): part of the cache
  // key. 0 without views, and for a renamed question, which is dispatched anew.
  uint16_t route = 0;
  // The rest of what a view may ask (view_expr.h).
  uint16_t id = 0;
  uint8_t opcode = 0;
  uint16_t size = 0;
  bool edns = false;
  uint16_t edns_size = 0;

  // The question of `view`, with the route admission chose (a prefetch keeps it).
  static Question Of(const QueryView& view, uint16_t server = 0) {
    Question q{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok, server};
    q.route = view.route;
    q.id = view.header.id;
    q.opcode = view.header.opcode();
    q.size = view.size;
    q.edns = view.edns.present;
    q.edns_size = view.edns.udp_size;
    return q;
  }
  // A client's question; `query` is the query `view` was read from.
  static Question Of(const QueryView& view, std::span<const uint8_t> query, uint16_t server,
                     const ClientAddress& client) {
    Question q = Of(view, server);
    q.client = client;
    q.has_client = true;
    q.edns_options = view.EdnsOptions(query);
    return q;
  }
  // The same question, flags and server included, for another name (a CNAME
  // target, a cluster's part of a clusterset service): CoreDNS resolves those
  // through the server that was asked.
  Question Renamed(const DnsName& other) const {
    Question out = *this;
    out.name = other;
    out.route = 0;
    return out;
  }
  CacheKey Key() const { return CacheKey(name, qtype, qclass, dnssec_ok, checking_disabled, server, route); }
  // This question as a resolver is asked it, for `ask` (the name after rewrites).
  UpstreamQuestion Upstream(const DnsName& ask) const {
    return UpstreamQuestion{ask, qtype, qclass, recursion_desired, checking_disabled, dnssec_ok};
  }
  // What a view expression sees of this question; refers to it.
  ViewQuery ForView() const {
    return ViewQuery{.name = &name, .qtype = qtype, .qclass = qclass, .client = client.ip,
                     .client_port = client.port, .tcp = client.tcp, .server = client.server_ip,
                     .server_port = client.server_port, .id = id, .opcode = opcode, .size = size, .edns = edns,
                     .edns_size = edns_size, .dnssec_ok = dnssec_ok};
  }
  // The addresses rewrite edns0 rules read.
  EdnsRequest Addresses() const {
    return EdnsRequest{.has_client = has_client, .client_ip = client.ip, .client_port = client.port,
                       .tcp = client.tcp, .server_ip = client.server_ip, .server_port = client.server_port};
  }
};

}  // namespace meshdns
