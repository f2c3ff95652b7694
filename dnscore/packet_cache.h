// PacketCache: replies in wire form, keyed per contract rule 7 by (lower-cased
// name, type, class, DO, CD). A hit copies the stored bytes into the caller's
// buffer and patches them there, so a hit allocates nothing and parses nothing.
//
// Thread-safe: sharded, one mutex per shard. Lookups only try the lock: a
// contended shard counts as a miss instead of stalling a worker. Each shard
// evicts (approximately) its least recently used entry when full, so popular
// names survive.
//
// Memory: an entry is one allocation (bookkeeping and key bytes) plus the
// shared reply; the index maps the key's 64-bit hash to it, so a miss never
// touches an entry and a hit compares the full key once. Two keys with the
// same hash cannot both be cached: the newer replaces the older.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "dnscore/clock.h"
#include "dnscore/query_view.h"
#include "dnscore/reply_writer.h"
#include "dnscore/stored_reply.h"

namespace meshdns {

// The cache key, built on the stack: lower-cased wire name, type, class,
// flags, and the server the query came to. Servers (a Corefile's listen
// addresses, program.h) may answer the same name differently, as each
// CoreDNS server block has a cache of its own; one server (a YAML) is 0.
class CacheKey {
 public:
  CacheKey(const DnsName& name, uint16_t qtype, uint16_t qclass, bool dnssec_ok, bool checking_disabled,
           uint16_t server = 0, uint16_t route = 0);
  static CacheKey For(const QueryView& q, uint16_t server = 0) {
    return CacheKey(q.qname, q.qtype, q.qclass, q.edns.dnssec_ok, q.cd(), server, q.route);
  }
  absl::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), size_}; }
  // Bytes after the name: type, class, flags, server, route (the block a
  // view chose: each keeps its own entries).
  static constexpr size_t kTrailerSize = 9;

 private:
  std::array<uint8_t, DnsName::kMaxWireSize + kTrailerSize> bytes_;
  size_t size_;
};

// A stored key taken apart: the lower-cased wire name and the rest.
struct CacheKeyView {
  std::span<const uint8_t> name;  // lower-cased wire form
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint16_t server = 0;
  // True when the name is `zone` (lower-cased wire form) or below it.
  bool Under(std::span<const uint8_t> zone) const;
};

// CoreDNS's `prefetch AMOUNT DURATION PERCENTAGE%`: an entry asked for at
// least `amount` times within `duration` is refreshed once less than
// `percentage` of its lifetime is left, so steady traffic never sees it expire.
struct PrefetchPolicy {
  uint32_t amount = 2;
  Millis duration = 60000;
  uint32_t percentage = 10;
};

struct CacheLookup {
  WriteOptions write;     // the transport limit; the TTL is the cache's to set
  Millis now = 0;
  Millis stale_for = 0;   // serve entries expired at most this long ago
  const PrefetchPolicy* prefetch = nullptr;
};

struct CacheHit {
  size_t size = 0;        // bytes written
  bool stale = false;
  bool prefetch = false;  // popular and near its end: the caller should refresh it (told once per entry)
};

struct CachedReply {
  std::shared_ptr<const StoredReply> reply;
  uint32_t ttl = 0;  // remaining lifetime (30 when stale)
  bool stale = false;
};

class PacketCache {
 public:
  using HashFunction = uint64_t (*)(absl::string_view key);
  static uint64_t DefaultHash(absl::string_view key);

  // A reply larger than this is not cached (dnsdist's packet cache has the
  // same default), so the cache's memory is bounded by capacity x this.
  static constexpr size_t kDefaultMaxEntrySize = 4096;

  struct Options {
    size_t capacity = 0;  // entries at most, over all shards together
    size_t max_entry_size = kDefaultMaxEntrySize;
    size_t shards = 16;
    HashFunction hash = DefaultHash;  // tests that need keys to collide set their own
  };
  explicit PacketCache(const Options& options);
  explicit PacketCache(size_t capacity, size_t shards = 16, HashFunction hash = DefaultHash)
      : PacketCache(Options{.capacity = capacity, .shards = shards, .hash = hash}) {}
  ~PacketCache();
  PacketCache(const PacketCache&) = delete;
  PacketCache& operator=(const PacketCache&) = delete;

  // Writes the reply for `query` into `out` if a live (or, with stale_for,
  // recently expired) entry exists.
  std::optional<CacheHit> Lookup(const CacheKey& key, const QueryView& query, std::span<const uint8_t> query_wire,
                                 const CacheLookup& options, std::span<uint8_t> out);
  // The entry itself, for callers that build on it (CNAME chasing, serving
  // stale): live, or expired at most `stale_for` ago.
  std::optional<CachedReply> Find(const CacheKey& key, Millis now, Millis stale_for = 0);
  // Stores `reply` if it is cacheable and within max_entry_size; replaces an existing entry.
  void Insert(const CacheKey& key, std::shared_ptr<const StoredReply> reply, Millis now);

  // Removes every entry whose key the predicate accepts; returns how many.
  size_t EraseIf(absl::FunctionRef<bool(const CacheKeyView&)> doomed);

  size_t size() const;
  size_t capacity() const { return capacity_; }
  struct Counters {
    uint64_t hits = 0, misses = 0, evictions = 0;
  };
  // Summed over the shards (takes each shard's lock; for metrics, not the query path).
  Counters counters() const;
  uint64_t hits() const { return counters().hits; }
  uint64_t misses() const { return counters().misses; }
  uint64_t evictions() const { return counters().evictions; }

 private:
  struct Entry;
  struct EntryDeleter {
    void operator()(Entry* e) const;
  };
  struct Shard;
  Shard& ShardFor(uint64_t hash);

  size_t capacity_;
  size_t max_entry_size_;
  HashFunction hash_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace meshdns
