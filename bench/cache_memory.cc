// Resident memory per cached entry, beyond the reply bytes themselves, with
// the cache filled to 1M entries (performance issue target: <= 300 bytes),
// and the capacity honoured exactly once more names arrive than fit.
//
//   build/bench/meshdns_cache_memory [entries]
// Exits 1 when a target is missed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/message.h"
#include "dnscore/packet_cache.h"

namespace meshdns {
namespace {

constexpr size_t kBudgetPerEntry = 300;

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// A reply like the miss workload's: one A record for a unique name.
std::shared_ptr<const StoredReply> Reply(const DnsName& name, size_t i) {
  std::vector<RrPtr> answer;
  answer.push_back(*ParseRecord(absl::StrCat(name.ToText(), " 30 IN A 10.", i >> 16 & 255, ".", i >> 8 & 255, ".",
                                             i & 255)));
  return std::make_shared<const StoredReply>(
      *StoredReply::FromMessage(*BuildAuthoritativeReply(name, kTypeA, kClassIN, kNoError, answer, {}), TtlPolicy{}));
}

int Run(size_t entries) {
  // Some room to spare, as the shards fill unevenly: all `entries` stay in.
  PacketCache cache(entries + entries / 20);
  const size_t before = ResidentBytes();
  size_t reply_bytes = 0;
  for (size_t i = 0; i < entries; ++i) {
    const DnsName name = *DnsName::FromText(absl::StrCat("q", i, ".r12345.wild.svc.cluster.local."));
    std::shared_ptr<const StoredReply> reply = Reply(name, i);
    reply_bytes += reply->wire.size();
    cache.Insert(CacheKey(name, kTypeA, kClassIN, false, false), std::move(reply), 0);
  }
  const size_t after = ResidentBytes();
  if (cache.size() != entries) {
    std::printf("only %zu of %zu entries were kept\n", cache.size(), entries);
    return 1;
  }
  const double per_entry = (static_cast<double>(after - before) - static_cast<double>(reply_bytes)) / entries;
  std::printf("entries %zu, reply bytes %.1f per entry, resident %.1f MiB, overhead %.1f bytes per entry (budget %zu)\n",
              cache.size(), static_cast<double>(reply_bytes) / entries, (after - before) / 1048576.0, per_entry,
              kBudgetPerEntry);

  // Another fifth of new names: the oldest go, the count stays exact.
  for (size_t i = entries; i < entries + entries / 5; ++i) {
    const DnsName name = *DnsName::FromText(absl::StrCat("q", i, ".r12345.wild.svc.cluster.local."));
    cache.Insert(CacheKey(name, kTypeA, kClassIN, false, false), Reply(name, i), 0);
  }
  std::printf("after %zu more inserts: %zu entries, %lu evictions (capacity %zu)\n", entries / 5, cache.size(),
              static_cast<unsigned long>(cache.evictions()), cache.capacity());
  const bool ok = per_entry <= kBudgetPerEntry && cache.size() == cache.capacity();
  std::printf("%s\n", ok ? "ok" : "TARGET MISSED");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace meshdns

int main(int argc, char** argv) {
  const size_t entries = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000000;
  return meshdns::Run(entries);
}
