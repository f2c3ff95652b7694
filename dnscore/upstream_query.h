// The query meshdns sends to a resolver, and the check that a datagram coming
// back really answers it (same ID, a reply, the very same question bytes, case
// included), which is what keeps forged replies out. Pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "dnscore/dns_name.h"
#include "dnscore/reply_writer.h"

namespace meshdns {

struct UpstreamQuestion {
  const DnsName& name;
  uint16_t qtype;
  uint16_t qclass;
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;
  uint16_t udp_size = kAdvertisedUdpSize;  // the EDNS size asked for: limits.udp_reply_size
};

// Returns the query's size (header, question, OPT); `out` needs 12+255+4+11 bytes.
size_t WriteUpstreamQuery(uint16_t id, const UpstreamQuestion& q, std::span<uint8_t> out);
// True when `reply` is a response to `query` (as written by WriteUpstreamQuery).
bool ReplyMatchesQuery(std::span<const uint8_t> reply, std::span<const uint8_t> query);

}  // namespace meshdns
