// StoredReply: a complete reply in wire form, ready to be patched and sent to
// any client asking the same question. Built once per upstream or synthesised
// answer (off the hot path); read by the cache and by ReplyWriter. Immutable
// once built, so one copy can be shared by every worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "dnscore/reply_writer.h"
#include "dnscore/wire.h"

namespace meshdns {

// RFC 8767 section 4 suggests 30 s for answers served stale.
inline constexpr uint32_t kStaleTtl = 30;

// How long replies may live (contract rule 7; RFC 2308 for denials). Each
// lifetime is raised to its floor first and cut to its cap last, as CoreDNS
// computes it, so a cap below the floor wins (`cache 3` means 3 s).
struct TtlPolicy {
  uint32_t min_ttl = 5;
  uint32_t max_ttl = 30;
  uint32_t denial_ttl = 5;
  // The least a denial lives; unset, the lesser of min_ttl and denial_ttl
  // (the YAML's one min_ttl; a Corefile's cache has one per kind).
  std::optional<uint32_t> denial_min_ttl;
  // SERVFAIL and NOTIMP live this long (a Corefile's `servfail`); 0: not cached.
  uint32_t servfail_ttl = 0;
};

// Members ordered largest first: one is cached per entry, and padding counts.
struct StoredReply {
  std::vector<uint8_t> wire;          // header, one question, records; never an OPT
  // An EDNS option for the OPT of clients that sent one (a template's
  // ederror), kept with the reply so cache hits carry it too.
  std::shared_ptr<const std::vector<uint8_t>> ede;
  // The block's loadbalance { prefer … } subnets, for a rotated reply.
  std::shared_ptr<const std::vector<Cidr>> prefer;
  // Every record's TTL field; inline for the usual handful of records.
  absl::InlinedVector<uint16_t, 4> ttl_offsets;
  uint32_t ttl = 0;                   // the uniform lifetime, when cacheable
  // Set by a Corefile block's rewrite ttl and loadbalance.
  uint32_t ttl_floor = 0;
  uint32_t ttl_ceiling = UINT32_MAX;
  Rotation rotation;
  uint16_t question_end = 0;
  bool cacheable = false;
  // Which of CoreDNS's two caches it belongs to: denial (NXDOMAIN, NODATA,
  // SERVFAIL) or success. `disable` turns them off per zone.
  bool denial = false;
  // Served with its whole lifetime until it expires (a Corefile's keepttl).
  bool keep_ttl = false;

  StoredView View() const {
    return StoredView{wire, question_end, ttl_offsets, rotation, ttl_floor, ttl_ceiling,
                      ede ? std::span<const uint8_t>(*ede) : std::span<const uint8_t>(),
                      prefer ? std::span<const Cidr>(*prefer) : std::span<const Cidr>()};
  }
  // Marks the answer's run of A/AAAA records for rotation when each is the
  // same size and owned by a compression pointer (so nothing can point into
  // them and they can move as whole records); false if there is no such run.
  bool MarkAddressRotation();

  uint8_t rcode() const { return wire[3] & 0xf; }
  uint16_t flags() const { return ReadU16(&wire[2]); }
  uint16_t ancount() const { return ReadU16(&wire[6]); }
  // A copy of the message with every TTL set to `ttl` (for a cacheable
  // reply served part-way through its life).
  std::vector<uint8_t> WireWithTtl(uint32_t ttl) const;
  // A cacheable reply lives at most `ttl` (a reply put together from parts,
  // which lives no longer than its shortest-lived part).
  void LowerTtl(uint32_t ttl);

  // Scans `msg` (a reply with exactly one question), drops its OPT record,
  // decides whether and how long it may be cached and, if so, gives every
  // record that lifetime, as CoreDNS's cache does.
  static absl::StatusOr<StoredReply> FromMessage(std::span<const uint8_t> msg, const TtlPolicy& policy) {
    return FromMessage(msg, &policy);
  }
  // Without a policy the reply is not for caching: its TTLs stay as they came
  // (a Corefile block without `cache`).
  static absl::StatusOr<StoredReply> FromMessage(std::span<const uint8_t> msg, const TtlPolicy* policy);
  // The same for a message already in a vector of its own, which the stored
  // reply then takes over instead of copying.
  static absl::StatusOr<StoredReply> FromMessage(std::vector<uint8_t>&& msg, const TtlPolicy& policy) {
    return FromMessage(std::move(msg), &policy);
  }
  static absl::StatusOr<StoredReply> FromMessage(std::vector<uint8_t>&& msg, const TtlPolicy* policy);

 private:
  static absl::StatusOr<StoredReply> Scan(std::span<const uint8_t> msg, const TtlPolicy* policy,
                                          std::vector<uint8_t>* owned);
};

}  // namespace meshdns
