// The query meshdns sends to a resolver, and the check that a datagram coming
// back really answers it (same ID, a reply, the very same question bytes, case
// included), which is what keeps forged replies out. Pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "dnscore/dns_name.h"
#include "dnscore/reply_writer.h"
#include "dnscore/wire.h"

namespace meshdns {

struct UpstreamQuestion {
  const DnsName& name;
  uint16_t qtype;
  uint16_t qclass;
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;
  uint16_t udp_size = kAdvertisedUdpSize;  // the EDNS size asked for: limits.udp_reply_size
  // The OPT's options (its RDATA): none unless a Corefile's rewrite edns0
  // rules made some, at most kMaxUpstreamOptions bytes.
  std::span<const uint8_t> options;
};

// The most EDNS option bytes a query to a resolver carries, and so the
// largest query meshdns sends.
inline constexpr size_t kMaxUpstreamOptions = 1024;
inline constexpr size_t kMaxUpstreamQuery = kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize + kMaxUpstreamOptions;

// Returns the query's size (header, question, OPT with its options), or 0
// when `out` cannot hold it (kMaxUpstreamQuery bytes always can).
size_t WriteUpstreamQuery(uint16_t id, const UpstreamQuestion& q, std::span<uint8_t> out);
// True when `reply` is a response to `query` (as written by WriteUpstreamQuery).
bool ReplyMatchesQuery(std::span<const uint8_t> reply, std::span<const uint8_t> query);

}  // namespace meshdns
