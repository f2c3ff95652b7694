// The bytes a client or an upstream can send, through the code that reads
// them first: admission (header, question and EDNS read off the wire, the
// ACL, the cache lookup that patches a stored reply), the scan that turns an
// upstream reply into a cache entry, and the full ldns parse of that entry
// used off the hot path. The same input is tried as a query and as a reply;
// a reply that is stored is then served to a query for its own question, so
// the TTL and question patching runs on fuzzed records too.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "dnscore/admission.h"
#include "dnscore/message.h"
#include "dnscore/stored_reply.h"

namespace meshdns {
namespace {

void AsQuery(std::span<const uint8_t> input, PacketCache& cache) {
  static const Acl acl({*Cidr::Parse("10.0.0.0/8")}, {*Cidr::Parse("10.9.0.0/16")});
  static const PrefetchPolicy prefetch{.amount = 1, .duration = 60000, .percentage = 99};
  QueryView view;
  for (const bool udp : {true, false}) {
    // Exactly the room the listener would give, on the heap so ASan sees a write past it.
    std::vector<uint8_t> out(udp ? 512 : kMaxMessageSize);
    const Admitted a = AdmitQuery(input, IpAddress::FromV4({10, 1, 2, 3}),
                                  {.acl = &acl, .cache = &cache, .udp = udp, .now = 1000, .prefetch = &prefetch},
                                  view, out);
    if (a.verdict == Verdict::kReply && (a.size < kHeaderSize || a.size > out.size())) std::abort();
  }
  std::vector<uint8_t> out(512);
  // A client the ACL refuses: answered REFUSED or dropped, never from the cache.
  const Admitted refused = AdmitQuery(input, IpAddress::FromV4({10, 9, 0, 1}), {.acl = &acl, .cache = &cache}, view, out);
  if (refused.verdict == Verdict::kResolve) std::abort();
}

void AsReply(std::span<const uint8_t> input, PacketCache& cache) {
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(input, TtlPolicy{});
  if (!stored.ok()) return;
  // The question of the stored reply, asked as a query.
  std::vector<uint8_t> query(stored->wire.begin(), stored->wire.begin() + stored->question_end);
  query[2] = kFlagRD >> 8;
  query[3] = 0;
  for (int i = 6; i < 12; ++i) query[i] = 0;
  QueryView view;
  if (ParseQuery(query, view) != QueryCheck::kOk) return;
  const CacheKey key = CacheKey::For(view);
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  cache.Insert(key, shared, 1000);
  std::vector<uint8_t> out(512);
  // Served fresh, aged, and stale.
  for (const Millis now : {Millis{1000}, Millis{4000}, Millis{120000}}) {
    std::optional<CacheHit> hit =
        cache.Lookup(key, view, query, {.write = {.limit = out.size()}, .now = now, .stale_for = 3600000}, out);
    if (hit && hit->size > out.size()) std::abort();
  }
  (void)shared->WireWithTtl(7);
  // Synthesis and the clusterset merge parse stored replies with ldns: never
  // the raw bytes, so ldns's own leaks on some malformed input (two TSIGs)
  // stay out of reach.
  (void)ParseMessage(shared->wire);
}

}  // namespace
}  // namespace meshdns

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshdns;
  // Small, so evictions happen within one run too.
  static PacketCache cache(64, 4);
  const std::span<const uint8_t> input(data, size);
  AsQuery(input, cache);
  AsReply(input, cache);
  return 0;
}
