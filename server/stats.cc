#include "server/stats.h"

namespace meshdns {

size_t TypeBucket(uint16_t qtype) {
  for (size_t i = 0; i < kMonitoredTypes.size(); ++i) {
    if (kMonitoredTypes[i] == qtype) return i;
  }
  return kMonitoredTypes.size();
}

const char* TypeBucketLabel(size_t bucket) {
  static constexpr std::array<const char*, kTypeBuckets> kLabels = {
      "A",    "AAAA", "CNAME", "MX",    "NS",  "PTR", "SOA",  "SRV",  "TXT",
      "HTTPS", "SVCB", "DS",   "DNSKEY", "NAPTR", "ANY", "AXFR", "IXFR", "other"};
  return bucket < kLabels.size() ? kLabels[bucket] : "other";
}

const char* RcodeLabel(uint8_t rcode) {
  static constexpr std::array<const char*, 16> kLabels = {
      "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
      "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "RCODE15"};
  return kLabels[rcode & 0xf];
}

void Histogram::Observe(int64_t micros) {
  if (micros < 0) micros = 0;
  sum_micros += static_cast<uint64_t>(micros);
  // Bound(i) in microseconds is 250 << i.
  size_t i = 0;
  while (i < kBounds && micros > (int64_t{250} << i)) ++i;
  ++counts[i];
}

void Histogram::Add(const Histogram& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum_micros += other.sum_micros;
}

uint64_t Histogram::Count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

void SizeHistogram::Observe(size_t bytes) {
  sum += bytes;
  size_t i = 0;
  while (i < kBounds.size() && bytes > kBounds[i]) ++i;
  ++counts[i];
}

void SizeHistogram::Add(const SizeHistogram& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum += other.sum;
}

void RouteCounts::Add(const RouteCounts& other) {
  for (size_t p = 0; p < 2; ++p) {
    for (size_t f = 0; f < 2; ++f) {
      for (size_t t = 0; t < kTypeBuckets; ++t) requests[p][f][t] += other.requests[p][f][t];
    }
  }
  for (size_t r = 0; r < responses.size(); ++r) responses[r] += other.responses[r];
  do_requests += other.do_requests;
}

void ServerStats::Add(const ServerStats& other) {
  if (routes.size() < other.routes.size()) routes.resize(other.routes.size());
  for (size_t r = 0; r < other.routes.size(); ++r) routes[r].Add(other.routes[r]);
  for (size_t p = 0; p < 2; ++p) {
    for (size_t f = 0; f < 2; ++f) {
      for (size_t t = 0; t < kTypeBuckets; ++t) requests[p][f][t] += other.requests[p][f][t];
    }
  }
  for (size_t r = 0; r < responses.size(); ++r) responses[r] += other.responses[r];
  for (size_t t = 0; t < kTypeBuckets; ++t) duration[t].Add(other.duration[t]);
  for (size_t p = 0; p < 2; ++p) {
    request_size[p].Add(other.request_size[p]);
    response_size[p].Add(other.response_size[p]);
  }
  do_requests += other.do_requests;
  dropped_malformed += other.dropped_malformed;
  dropped_oversized += other.dropped_oversized;
  acl_blocked += other.acl_blocked;
  acl_filtered += other.acl_filtered;
  acl_allowed += other.acl_allowed;
  acl_dropped += other.acl_dropped;
  tcp_rejected_global += other.tcp_rejected_global;
  tcp_rejected_per_client += other.tcp_rejected_per_client;
  tcp_timeouts += other.tcp_timeouts;
}

}  // namespace meshdns
