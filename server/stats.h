// Counters for /metrics. Each worker owns its counters: plain integers
// written and read only on the worker's thread (a scrape posts to every
// worker for a snapshot), so counting a query costs an increment: no lock,
// no atomic, no cache line shared between cores.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "dnscore/admission.h"
#include "dnscore/pipeline.h"

namespace meshdns {

inline int64_t Micros(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since).count();
}

// Query types CoreDNS reports by name in its `type` labels; others are "other".
inline constexpr std::array<uint16_t, 17> kMonitoredTypes = {1,  28, 5,  15, 2,  12, 6,   33,  16,
                                                             65, 64, 43, 48, 35, 255, 252, 251};
inline constexpr size_t kTypeBuckets = kMonitoredTypes.size() + 1;
size_t TypeBucket(uint16_t qtype);
const char* TypeBucketLabel(size_t bucket);
const char* RcodeLabel(uint8_t rcode);

// CoreDNS's duration buckets: 0.25 ms doubling up to 8.192 s, then +Inf.
struct Histogram {
  static constexpr size_t kBounds = 16;
  static double Bound(size_t i) { return 0.00025 * static_cast<double>(1u << i); }

  std::array<uint64_t, kBounds + 1> counts{};  // not cumulative; [kBounds] is above the last bound
  uint64_t sum_micros = 0;

  void Observe(int64_t micros);
  void Add(const Histogram& other);
  uint64_t Count() const;
};

// CoreDNS's size buckets for request and response sizes, in bytes.
struct SizeHistogram {
  static constexpr std::array<uint32_t, 14> kBounds = {0,    100,  200,   300,   400,   511,   1023,
                                                       2047, 4095, 8291, 16000, 32000, 48000, 64000};
  std::array<uint64_t, kBounds.size() + 1> counts{};
  uint64_t sum = 0;

  void Observe(size_t bytes);
  void Add(const SizeHistogram& other);
};

// The queries a route (a block the views chose, Program::RouteOf) took, for
// the `view` label of CoreDNS's request metrics.
struct RouteCounts {
  std::array<std::array<std::array<uint64_t, kTypeBuckets>, 2>, 2> requests{};  // [proto][family][type]
  std::array<uint64_t, 16> responses{};
  uint64_t do_requests = 0;
  void Add(const RouteCounts& other);
};

// What the DNS side of one worker saw (CoreDNS's coredns_dns_* metrics).
struct ServerStats {
  enum Proto { kUdp = 0, kTcp = 1 };
  // [proto][family: 0 IPv4, 1 IPv6][type bucket]
  std::array<std::array<std::array<uint64_t, kTypeBuckets>, 2>, 2> requests{};
  std::array<uint64_t, 16> responses{};  // by rcode
  std::array<Histogram, kTypeBuckets> duration;
  std::array<SizeHistogram, 2> request_size, response_size;  // by proto
  uint64_t do_requests = 0;        // queries with the DNSSEC OK bit
  uint64_t dropped_malformed = 0;  // not DNS, or a response: dropped unanswered
  uint64_t dropped_oversized = 0;  // larger than any query
  uint64_t acl_blocked = 0;        // answered REFUSED: the client is outside the ACL
  uint64_t acl_filtered = 0;       // a block's acl answered an empty NOERROR
  uint64_t acl_allowed = 0;        // a block's acl let the query on
  uint64_t acl_dropped = 0;        // a block's acl dropped the query unanswered
  uint64_t tcp_rejected_global = 0;      // connections closed at accept: limits.tcp_connections reached
  uint64_t tcp_rejected_per_client = 0;  // ... limits.tcp_connections_per_client reached
  uint64_t tcp_timeouts = 0;       // connections closed after limits.tcp_idle (idle, slow, or not reading)
  // [route]: what the queries of each routed block count (also in the totals
  // above). Grows on a route's first query; empty without views.
  std::vector<RouteCounts> routes;
  RouteCounts& Route(uint16_t route) {
    if (route >= routes.size()) routes.resize(route + 1);
    return routes[route];
  }

  // A query as admission judged it: a dropped packet is not a request.
  void CountAdmitted(Proto proto, bool ipv6, const Admitted& admitted, const QueryView& view, size_t bytes) {
    if (admitted.verdict == Verdict::kDrop && !admitted.acl_dropped) {
      ++dropped_malformed;
      return;
    }
    CountRequest(proto, ipv6, view.qtype, bytes, view.edns.dnssec_ok, view.route);
    if (admitted.acl_refused) ++acl_blocked;
    if (admitted.acl_filtered) ++acl_filtered;
    if (admitted.acl_allowed) ++acl_allowed;
    if (admitted.acl_dropped) ++acl_dropped;
  }
  void CountRequest(Proto proto, bool ipv6, uint16_t qtype, size_t bytes, bool dnssec_ok, uint16_t route = 0) {
    ++requests[proto][ipv6 ? 1 : 0][TypeBucket(qtype)];
    request_size[proto].Observe(bytes);
    if (dnssec_ok) ++do_requests;
    if (route != 0) {
      RouteCounts& r = Route(route);
      ++r.requests[proto][ipv6 ? 1 : 0][TypeBucket(qtype)];
      if (dnssec_ok) ++r.do_requests;
    }
  }
  void CountResponse(Proto proto, uint16_t qtype, uint8_t rcode, size_t bytes, int64_t micros, uint16_t route = 0) {
    if (route != 0) ++Route(route).responses[rcode & 0xf];
    ++responses[rcode & 0xf];
    response_size[proto].Observe(bytes);
    duration[TypeBucket(qtype)].Observe(micros);
  }
  void Add(const ServerStats& other);
};

// The query engine's counters (one worker's).
// The pipeline's own (synthesized, stale answers, fan-out left out) and the forwarding's.
struct EngineCounters : PipelineCounters {
  uint64_t upstream_failures = 0;
  uint64_t overloaded = 0;
  uint64_t prefetches = 0;
};

}  // namespace meshdns
