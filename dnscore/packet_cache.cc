#include "dnscore/packet_cache.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"

namespace meshdns {

CacheKey::CacheKey(const DnsName& name, uint16_t qtype, uint16_t qclass, bool dnssec_ok, bool checking_disabled) {
  name.WriteLowerWire(bytes_.data());
  size_t at = name.WireSize();
  WriteU16(&bytes_[at], qtype);
  WriteU16(&bytes_[at + 2], qclass);
  bytes_[at + 4] = static_cast<uint8_t>((dnssec_ok ? 1 : 0) | (checking_disabled ? 2 : 0));
  size_ = at + 5;
}

struct PacketCache::Entry {
  std::string key;
  std::shared_ptr<const StoredReply> reply;
  Millis stored = 0;
  Millis window_start = 0;  // prefetch popularity: hits since window_start
  uint32_t hits = 0;
  bool prefetching = false;
  Entry* newer = nullptr;  // LRU list, most recent at head
  Entry* older = nullptr;
};

struct PacketCache::Shard {
  std::mutex mu;
  size_t capacity = 0;
  absl::flat_hash_map<absl::string_view, std::unique_ptr<Entry>> map;
  Entry* head = nullptr;  // most recently used
  Entry* tail = nullptr;  // next to evict

  void Unlink(Entry* e) {
    (e->newer ? e->newer->older : head) = e->older;
    (e->older ? e->older->newer : tail) = e->newer;
    e->newer = e->older = nullptr;
  }
  void PushFront(Entry* e) {
    e->older = head;
    e->newer = nullptr;
    (head ? head->newer : tail) = e;
    head = e;
  }
  void Erase(Entry* e) {
    Unlink(e);
    map.erase(map.find(absl::string_view(e->key)));
  }
};

PacketCache::PacketCache(size_t capacity, size_t shards) : capacity_(capacity) {
  shards = std::max<size_t>(1, std::min(shards, std::max<size_t>(capacity, 1)));
  for (size_t i = 0; i < shards; ++i) {
    auto shard = std::make_unique<Shard>();
    // Split exactly: the shards' capacities add up to `capacity`.
    shard->capacity = capacity / shards + (i < capacity % shards ? 1 : 0);
    shard->map.reserve(std::min<size_t>(shard->capacity, 4096));
    shards_.push_back(std::move(shard));
  }
}

PacketCache::~PacketCache() = default;

PacketCache::Shard& PacketCache::ShardFor(absl::string_view key) {
  return *shards_[absl::Hash<absl::string_view>{}(key) % shards_.size()];
}

std::optional<CacheHit> PacketCache::Lookup(const CacheKey& key, const QueryView& query,
                                            std::span<const uint8_t> query_wire, const CacheLookup& options,
                                            std::span<uint8_t> out) {
  Shard& shard = ShardFor(key.view());
  std::unique_lock lock(shard.mu, std::try_to_lock);
  if (!lock.owns_lock()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  auto it = shard.map.find(key.view());
  if (it == shard.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Entry* e = it->second.get();
  const StoredReply& reply = *e->reply;
  // Another worker may have stored the entry a moment after this query's clock was read.
  const Millis age = std::max<Millis>(options.now - e->stored, 0);
  const Millis lifetime = Millis{reply.ttl} * 1000;
  CacheHit hit;
  WriteOptions write = options.write;
  if (age < lifetime) {
    // Counted down by whole seconds, like CoreDNS: a 30 s entry reads 30 for its first second.
    write.ttl = static_cast<uint32_t>(reply.ttl - age / 1000);
  } else if (age < lifetime + options.stale_for) {
    hit.stale = true;
    write.ttl = kStaleTtl;
  } else {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  hit.size = WriteReply(StoredView{reply.wire, reply.question_end, reply.ttl_offsets}, query, query_wire, write, out);
  if (hit.size == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (options.prefetch != nullptr && !hit.stale) {
    const PrefetchPolicy& p = *options.prefetch;
    if (options.now - e->window_start > p.duration) {
      e->window_start = options.now;
      e->hits = 0;
    }
    ++e->hits;
    const Millis left = lifetime - age;
    if (!e->prefetching && e->hits >= p.amount && left * 100 <= lifetime * p.percentage) {
      e->prefetching = true;
      hit.prefetch = true;
    }
  }
  shard.Unlink(e);
  shard.PushFront(e);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return hit;
}

std::optional<CachedReply> PacketCache::Find(const CacheKey& key, Millis now, Millis stale_for) {
  Shard& shard = ShardFor(key.view());
  std::lock_guard lock(shard.mu);
  auto it = shard.map.find(key.view());
  if (it == shard.map.end()) return std::nullopt;
  const Entry& e = *it->second;
  const Millis age = std::max<Millis>(now - e.stored, 0);
  const Millis lifetime = Millis{e.reply->ttl} * 1000;
  if (age < lifetime) return CachedReply{e.reply, static_cast<uint32_t>(e.reply->ttl - age / 1000)};
  if (age < lifetime + stale_for) return CachedReply{e.reply, kStaleTtl, true};
  return std::nullopt;
}

void PacketCache::Insert(const CacheKey& key, std::shared_ptr<const StoredReply> reply, Millis now) {
  if (!reply || !reply->cacheable || reply->ttl == 0) return;
  Shard& shard = ShardFor(key.view());
  std::lock_guard lock(shard.mu);
  if (shard.capacity == 0) return;
  auto it = shard.map.find(key.view());
  if (it != shard.map.end()) {
    Entry* e = it->second.get();
    e->reply = std::move(reply);
    e->stored = now;
    e->prefetching = false;
    shard.Unlink(e);
    shard.PushFront(e);
    return;
  }
  if (shard.map.size() >= shard.capacity) {
    shard.Erase(shard.tail);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  auto e = std::make_unique<Entry>();
  e->key = std::string(key.view());
  e->reply = std::move(reply);
  e->stored = now;
  e->window_start = now;
  Entry* raw = e.get();
  shard.map.emplace(absl::string_view(raw->key), std::move(e));
  shard.PushFront(raw);
}

size_t PacketCache::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    n += shard->map.size();
  }
  return n;
}

}  // namespace meshdns
