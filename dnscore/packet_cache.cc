#include "dnscore/packet_cache.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"

namespace meshdns {

CacheKey::CacheKey(const DnsName& name, uint16_t qtype, uint16_t qclass, bool dnssec_ok, bool checking_disabled,
                   uint16_t server, uint16_t route) {
  name.WriteLowerWire(bytes_.data());
  size_t at = name.WireSize();
  WriteU16(&bytes_[at], qtype);
  WriteU16(&bytes_[at + 2], qclass);
  bytes_[at + 4] = static_cast<uint8_t>((dnssec_ok ? 1 : 0) | (checking_disabled ? 2 : 0));
  WriteU16(&bytes_[at + 5], server);
  WriteU16(&bytes_[at + 7], route);
  size_ = at + kTrailerSize;
}

// One allocation: these fields, then the key's bytes.
struct PacketCache::Entry {
  uint64_t hash = 0;
  std::shared_ptr<const StoredReply> reply;
  Millis stored = 0;
  Millis window_start = 0;  // prefetch popularity: hits since window_start
  uint32_t hits = 0;
  uint16_t key_size = 0;
  bool prefetching = false;
  bool referenced = false;  // hit since it last reached the tail: a second chance
  Entry* newer = nullptr;  // LRU list, most recent at head
  Entry* older = nullptr;

  static std::unique_ptr<Entry, EntryDeleter> New(absl::string_view key, uint64_t hash) {
    void* block = ::operator new(sizeof(Entry) + key.size());
    auto* e = new (block) Entry;
    e->hash = hash;
    e->key_size = static_cast<uint16_t>(key.size());
    // The key's bytes live just past the Entry, in the same block.
    std::memcpy(reinterpret_cast<char*>(e + 1), key.data(), key.size());
    return std::unique_ptr<Entry, EntryDeleter>(e);
  }
  absl::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
};

void PacketCache::EntryDeleter::operator()(Entry* e) const {
  e->~Entry();
  ::operator delete(e);
}

// Cache-line aligned: workers on different cores lock different shards
// without sharing a line.
struct alignas(64) PacketCache::Shard {
  std::mutex mu;
  size_t capacity = 0;
  // Counted under `mu`, so the query path writes no line shared by all shards.
  uint64_t hits = 0, misses = 0, evictions = 0;
  std::atomic<uint64_t> contended{0};  // lookups that found the lock taken
  absl::flat_hash_map<uint64_t, std::unique_ptr<Entry, EntryDeleter>> map;
  Entry* head = nullptr;  // most recently used
  Entry* tail = nullptr;  // next to evict

  Entry* Find(const CacheKey& key, uint64_t hash) {
    auto it = map.find(hash);
    if (it == map.end() || it->second->key() != key.view()) return nullptr;
    return it->second.get();
  }
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
    map.erase(e->hash);
  }
  // Least recently used first, approximately: a hit only marks its entry (so
  // hits from several cores do not all rewrite the list head), and a marked
  // entry reaching the tail goes back to the head once instead of leaving.
  void EvictOne() {
    while (tail->referenced) {
      Entry* e = tail;
      e->referenced = false;
      Unlink(e);
      PushFront(e);
    }
    Erase(tail);
    ++evictions;
  }
};

uint64_t PacketCache::DefaultHash(absl::string_view key) { return absl::Hash<absl::string_view>{}(key); }

PacketCache::PacketCache(const Options& options)
    : capacity_(options.capacity), max_entry_size_(options.max_entry_size), hash_(options.hash) {
  const size_t capacity = capacity_;
  const size_t shards = std::max<size_t>(1, std::min(options.shards, std::max<size_t>(capacity, 1)));
  for (size_t i = 0; i < shards; ++i) {
    auto shard = std::make_unique<Shard>();
    // Split exactly: the shards' capacities add up to `capacity`.
    shard->capacity = capacity / shards + (i < capacity % shards ? 1 : 0);
    shard->map.reserve(std::min<size_t>(shard->capacity, 4096));
    shards_.push_back(std::move(shard));
  }
}

PacketCache::~PacketCache() = default;

PacketCache::Shard& PacketCache::ShardFor(uint64_t hash) {
  // The high bits: the shard's own table indexes by the hash as well.
  return *shards_[(hash >> 32) % shards_.size()];
}

std::optional<CacheHit> PacketCache::Lookup(const CacheKey& key, const QueryView& query,
                                            std::span<const uint8_t> query_wire, const CacheLookup& options,
                                            std::span<uint8_t> out) {
  const uint64_t hash = hash_(key.view());
  Shard& shard = ShardFor(hash);
  std::unique_lock lock(shard.mu, std::try_to_lock);
  if (!lock.owns_lock()) {
    shard.contended.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Entry* e = shard.Find(key, hash);
  if (e == nullptr) {
    ++shard.misses;
    return std::nullopt;
  }
  const StoredReply& reply = *e->reply;
  // Another worker may have stored the entry a moment after this query's clock was read.
  const Millis age = std::max<Millis>(options.now - e->stored, 0);
  const Millis lifetime = Millis{reply.ttl} * 1000;
  CacheHit hit;
  WriteOptions write = options.write;
  // CoreDNS's cache sets AA on every answer it serves (item.go toMsg), as
  // some stub resolvers drop non-authoritative replies.
  write.authoritative = true;
  if (age < lifetime) {
    // Counted down by whole seconds, like CoreDNS: a 30 s entry reads 30 for its first second.
    write.ttl = reply.keep_ttl ? reply.ttl : static_cast<uint32_t>(reply.ttl - age / 1000);
  } else if (age < lifetime + options.stale_for) {
    hit.stale = true;
    write.ttl = kStaleTtl;
  } else {
    ++shard.misses;
    return std::nullopt;
  }
  hit.size = WriteReply(reply.View(), query, query_wire, write, out);
  if (hit.size == 0) {
    ++shard.misses;
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
  if (!e->referenced) e->referenced = true;
  ++shard.hits;
  return hit;
}

std::optional<CachedReply> PacketCache::Find(const CacheKey& key, Millis now, Millis stale_for) {
  const uint64_t hash = hash_(key.view());
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  const Entry* found = shard.Find(key, hash);
  if (found == nullptr) return std::nullopt;
  const Entry& e = *found;
  const Millis age = std::max<Millis>(now - e.stored, 0);
  const Millis lifetime = Millis{e.reply->ttl} * 1000;
  if (age < lifetime) {
    return CachedReply{e.reply, e.reply->keep_ttl ? e.reply->ttl : static_cast<uint32_t>(e.reply->ttl - age / 1000)};
  }
  if (age < lifetime + stale_for) return CachedReply{e.reply, kStaleTtl, true};
  return std::nullopt;
}

void PacketCache::Insert(const CacheKey& key, std::shared_ptr<const StoredReply> reply, Millis now) {
  if (!reply || !reply->cacheable || reply->ttl == 0 || reply->wire.size() > max_entry_size_) return;
  const uint64_t hash = hash_(key.view());
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  if (shard.capacity == 0) return;
  auto it = shard.map.find(hash);
  if (it != shard.map.end() && it->second->key() != key.view()) {
    shard.Erase(it->second.get());  // a different key with the same hash: the newer one wins
    it = shard.map.end();
  }
  if (it != shard.map.end()) {
    Entry* e = it->second.get();
    // A failure does not shadow an answer still live (a prefetch that got
    // SERVFAIL): CoreDNS keeps both and prefers the answer (coredns#7956).
    const bool failure = reply->rcode() == kServFail || reply->rcode() == kNotImp;
    if (failure && now - e->stored < Millis{e->reply->ttl} * 1000) return;
    e->reply = std::move(reply);
    e->stored = now;
    e->prefetching = false;
    shard.Unlink(e);
    shard.PushFront(e);
    return;
  }
  if (shard.map.size() >= shard.capacity) shard.EvictOne();
  auto e = Entry::New(key.view(), hash);
  e->reply = std::move(reply);
  e->stored = now;
  e->window_start = now;
  Entry* raw = e.get();
  shard.map.emplace(hash, std::move(e));
  shard.PushFront(raw);
}

bool CacheKeyView::Under(std::span<const uint8_t> zone) const {
  // Walk the labels: the zone must match from a label boundary to the end.
  for (size_t at = 0; at < name.size();) {
    if (name.size() - at == zone.size() && std::equal(zone.begin(), zone.end(), name.begin() + at)) return true;
    if (name[at] == 0) break;
    at += 1 + name[at];
  }
  return false;
}

size_t PacketCache::EraseIf(absl::FunctionRef<bool(const CacheKeyView&)> doomed) {
  size_t erased = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    for (Entry* e = shard->head; e != nullptr;) {
      Entry* next = e->older;
      const absl::string_view key = e->key();
      const auto* bytes = reinterpret_cast<const uint8_t*>(key.data());
      const size_t name_size = key.size() - CacheKey::kTrailerSize;
      const CacheKeyView view{{bytes, name_size}, ReadU16(bytes + name_size), ReadU16(bytes + name_size + 2),
                              ReadU16(bytes + name_size + 5)};
      if (doomed(view)) {
        shard->Erase(e);
        ++erased;
      }
      e = next;
    }
  }
  return erased;
}

size_t PacketCache::size() const {
  size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    n += shard->map.size();
  }
  return n;
}

PacketCache::Counters PacketCache::counters() const {
  Counters c;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    c.hits += shard->hits;
    c.misses += shard->misses + shard->contended.load(std::memory_order_relaxed);
    c.evictions += shard->evictions;
  }
  return c;
}

}  // namespace meshdns
