// Writes the bytes a client receives: a stored reply patched for this query
// (ID, question case, RD/CD, TTLs, EDNS) or an error reply. Writes only into
// the caller's buffer; never allocates. Used by the cache-hit path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "dnscore/acl.h"
#include "dnscore/query_view.h"

namespace meshdns {

// The UDP payload size meshdns deals in by default (limits.udp_reply_size):
// its replies to clients stop there, and it is the EDNS size advertised to
// clients and resolvers. The DNS Flag Day 2020 value: 1280 (the IPv6 minimum
// MTU) less IPv6 and UDP headers, so no datagram is IP-fragmented, not even on
// VXLAN or Geneve overlays (MTU 1450 and below).
inline constexpr uint16_t kAdvertisedUdpSize = 1232;
// The most limits.udp_reply_size may be (CoreDNS's bufsize allows as much):
// what the listeners' datagram buffers and the resolvers' inbox hold.
inline constexpr uint16_t kMaxUdpReplySize = 4096;
inline constexpr size_t kOptSize = 11;

// A run of records of one size served rotated by one more each time
// (CoreDNS's `loadbalance round_robin`): offset of the first, how many.
struct Rotation {
  uint16_t at = 0;  // 0: none
  uint8_t count = 0;
  uint8_t size = 0;
};

struct StoredView {
  std::span<const uint8_t> wire;
  size_t question_end = 0;
  std::span<const uint16_t> ttl_offsets;
  Rotation rotation;
  // Served TTLs stay within these (CoreDNS's `rewrite ttl`, which wraps its cache).
  uint32_t ttl_floor = 0;
  uint32_t ttl_ceiling = UINT32_MAX;
  // EDNS options (whole: code, length, data) for the OPT, written only when
  // the query had an OPT (RFC 6891 7); dropped from a reply cut for size
  // when they would not fit either.
  std::span<const uint8_t> options;
  // loadbalance { prefer … }: after the turn, the rotated run's addresses in
  // the first subnet go first, then those in the second, and so on, each
  // group in rotated order; the rest last.
  std::span<const Cidr> prefer;
};

// Which order a rotated run is served in next. Each worker keeps its own
// (worker-local, not thread-safe): no cache line shared between threads, and
// the clients of a worker see every order in turn.
class RotationTurn {
 public:
  uint32_t Next() { return ++turn_; }

 private:
  uint32_t turn_ = 0;
};

struct WriteOptions {
  std::optional<uint32_t> ttl;  // set every record's TTL to this
  size_t limit = 512;           // the most the transport may carry
  RotationTurn* rotation = nullptr;  // turned once per rotated reply; null: runs served as stored
  uint16_t advertised = kAdvertisedUdpSize;  // the UDP size the reply's OPT announces
  bool authoritative = false;  // set AA (a cache hit, as CoreDNS's cache answers)
};

// Returns the reply's size, or 0 if `reply` does not answer `query`'s question.
// A reply over the limit is cut to header, question and OPT with TC set.
size_t WriteReply(const StoredView& reply, const QueryView& query, std::span<const uint8_t> query_wire,
                  const WriteOptions& options, std::span<uint8_t> out);

// FORMERR, NOTIMP, SERVFAIL, REFUSED or BADVERS for a query whose header was
// readable; the question is echoed when it was readable too, and an OPT
// (announcing `advertised`) whenever the query carried one (RFC 6891 7).
size_t WriteErrorReply(QueryCheck check_or_ok, uint8_t rcode, const QueryView& query,
                       std::span<const uint8_t> query_wire, std::span<uint8_t> out,
                       uint16_t advertised = kAdvertisedUdpSize);

// RFC 8914 Extended DNS Error codes that meshdns writes.
inline constexpr uint16_t kEdeBlocked = 15;
inline constexpr uint16_t kEdeFiltered = 17;

// An error reply (as WriteErrorReply, for a well-formed query) whose OPT,
// when the query carried one, holds an Extended DNS Error option.
size_t WriteEdeReply(uint8_t rcode, uint16_t info_code, const QueryView& query, std::span<const uint8_t> query_wire,
                     std::span<uint8_t> out, uint16_t advertised = kAdvertisedUdpSize);

}  // namespace meshdns
