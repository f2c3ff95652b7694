#include "dnscore/packet_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MakeQuery;
using testing::QueryOptions;
using testing::Wire;

DnsName N(const char* text) { return *DnsName::FromText(text); }

// A cacheable reply for `name` A whose lifetime is `ttl` seconds.
std::shared_ptr<const StoredReply> Answer(const std::string& name, uint32_t ttl, uint8_t last_octet = 1) {
  Wire w = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, 1).Question(name, kTypeA).A(name, ttl, {192, 0, 2, last_octet});
  auto r = StoredReply::FromMessage(w, TtlPolicy{.min_ttl = 1, .max_ttl = 3600});
  EXPECT_TRUE(r.ok() && r->cacheable && r->ttl == ttl);
  return std::make_shared<const StoredReply>(*std::move(r));
}

// A client's query, parsed, plus the buffer a hit is written into.
struct Client {
  std::vector<uint8_t> wire;
  QueryView view;
  std::vector<uint8_t> out = std::vector<uint8_t>(1500);

  explicit Client(const std::string& name, QueryOptions o = {}) : wire(MakeQuery(name, kTypeA, o)) {
    EXPECT_EQ(ParseQuery(wire, view), QueryCheck::kOk);
  }
  CacheKey key() const { return CacheKey::For(view); }
  std::optional<CacheHit> Lookup(PacketCache& cache, Millis now, Millis stale_for = 0,
                                 const PrefetchPolicy* prefetch = nullptr) {
    const CacheLookup options{
        .write = {.ttl = std::nullopt, .limit = 1500}, .now = now, .stale_for = stale_for, .prefetch = prefetch};
    return cache.Lookup(key(), view, wire, options, out);
  }
  uint16_t id() const { return ReadU16(&out[0]); }
  // The TTL of the only answer record, which ends the reply.
  uint32_t Ttl(const CacheHit& hit) const { return ReadU32(&out[hit.size - 4 - 2 - 4]); }
  uint8_t LastOctet(const CacheHit& hit) const { return out[hit.size - 1]; }
};

TEST(CacheKeyTest, NameIsCaseInsensitiveEverythingElseExact) {
  const DnsName name = N("www.example.com");
  const std::string base(CacheKey(name, kTypeA, kClassIN, false, false).view());
  EXPECT_EQ(CacheKey(N("WWW.Example.COM"), kTypeA, kClassIN, false, false).view(), base);
  EXPECT_NE(CacheKey(N("www.example.org"), kTypeA, kClassIN, false, false).view(), base);
  EXPECT_NE(CacheKey(N("www.example.com.x"), kTypeA, kClassIN, false, false).view(), base);
  EXPECT_NE(CacheKey(name, kTypeAAAA, kClassIN, false, false).view(), base);
  EXPECT_NE(CacheKey(name, kTypeA, 3 /* CH */, false, false).view(), base);
  EXPECT_NE(CacheKey(name, kTypeA, kClassIN, true, false).view(), base);
  EXPECT_NE(CacheKey(name, kTypeA, kClassIN, false, true).view(), base);
  EXPECT_NE(CacheKey(name, kTypeA, kClassIN, true, false).view(),
            CacheKey(name, kTypeA, kClassIN, false, true).view());
}

TEST(CacheKeyTest, EachServerHasItsOwnEntries) {
  // Two servers (listen addresses) may answer the same name differently.
  const DnsName name = N("www.example.com");
  PacketCache cache(100);
  cache.Insert(CacheKey(name, kTypeA, kClassIN, false, false, /*server=*/1), Answer("www.example.com", 30), 0);
  EXPECT_FALSE(cache.Find(CacheKey(name, kTypeA, kClassIN, false, false), 0)) << "server 0 does not see it";
  EXPECT_TRUE(cache.Find(CacheKey(name, kTypeA, kClassIN, false, false, 1), 0));
  Client client("www.example.com");
  EXPECT_EQ(CacheKey::For(client.view, 1).view(), CacheKey(name, kTypeA, kClassIN, false, false, 1).view());
  uint16_t seen = 0;
  cache.EraseIf([&](const CacheKeyView& k) {
    seen = k.server;
    return false;
  });
  EXPECT_EQ(seen, 1u) << "the key's parts still read back";
}

TEST(CacheKeyTest, ForReadsDoAndCdFromTheQuery) {
  Client plain("www.example.com");
  Client with_do("www.example.com", {.edns_udp_size = 1232, .dnssec_ok = true});
  Client with_cd("www.example.com", {.flags = kFlagRD | kFlagCD});
  Client upper("WWW.EXAMPLE.COM", {.edns_udp_size = 4096});  // EDNS without DO: same key
  EXPECT_NE(plain.key().view(), with_do.key().view());
  EXPECT_NE(plain.key().view(), with_cd.key().view());
  EXPECT_EQ(plain.key().view(), upper.key().view());
}

TEST(PacketCacheTest, HitWritesTheStoredReplyWithTheClientsId) {
  PacketCache cache(100);
  Client first("www.example.com", {.id = 1});
  cache.Insert(first.key(), Answer("www.example.com", 30), 1000);
  EXPECT_EQ(cache.size(), 1u);

  Client other("WWW.example.COM", {.id = 0xbeef});
  std::optional<CacheHit> hit = other.Lookup(cache, 1000);
  ASSERT_TRUE(hit.has_value());
  EXPECT_FALSE(hit->stale);
  EXPECT_EQ(hit->size, Answer("www.example.com", 30)->wire.size());
  EXPECT_EQ(other.id(), 0xbeef);
  EXPECT_TRUE(std::equal(other.wire.begin() + kHeaderSize, other.wire.end(), other.out.begin() + kHeaderSize))
      << "question in the client's case";
  EXPECT_EQ(other.Ttl(*hit), 30u);
  EXPECT_EQ(cache.hits(), 1u);

  Client miss("www.example.org");
  EXPECT_FALSE(miss.Lookup(cache, 1000).has_value());
  Client with_do("www.example.com", {.edns_udp_size = 1232, .dnssec_ok = true});
  EXPECT_FALSE(with_do.Lookup(cache, 1000).has_value()) << "DO is part of the key";
  EXPECT_EQ(cache.misses(), 2u);
}

// Memory is bounded by entries x max_entry_size: a larger reply is served but never stored.
TEST(PacketCacheTest, RepliesLargerThanTheEntrySizeAreNotStored) {
  const std::shared_ptr<const StoredReply> reply = Answer("www.example.com", 30);
  const size_t size = reply->wire.size();
  PacketCache exact(PacketCache::Options{.capacity = 10, .max_entry_size = size});
  Client client("www.example.com");
  exact.Insert(client.key(), reply, 1000);
  EXPECT_EQ(exact.size(), 1u) << "a reply of exactly max_entry_size is stored";

  PacketCache smaller(PacketCache::Options{.capacity = 10, .max_entry_size = size - 1});
  smaller.Insert(client.key(), reply, 1000);
  EXPECT_EQ(smaller.size(), 0u);
  EXPECT_FALSE(client.Lookup(smaller, 1000).has_value());
}

// The index holds hashes; the full key decides. With every hash equal, two
// names must still never be answered with each other's reply.
TEST(PacketCacheTest, KeysWithTheSameHashNeverAnswerForEachOther) {
  PacketCache cache(100, 1, [](absl::string_view) -> uint64_t { return 42; });
  Client a("a.example.com"), b("b.example.com");
  cache.Insert(a.key(), Answer("a.example.com", 30, 1), 1000);
  EXPECT_FALSE(b.Lookup(cache, 1000).has_value());
  EXPECT_FALSE(cache.Find(b.key(), 1000).has_value());

  cache.Insert(b.key(), Answer("b.example.com", 30, 2), 1000);
  EXPECT_EQ(cache.size(), 1u) << "the newer key replaces the older";
  std::optional<CacheHit> hit = b.Lookup(cache, 1000);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(b.LastOctet(*hit), 2);
  EXPECT_FALSE(a.Lookup(cache, 1000).has_value());
}

TEST(PacketCacheTest, TtlCountsDownByWholeSecondsAndTheEntryExpiresAtItsTtl) {
  PacketCache cache(100);
  Client c("www.example.com");
  const Millis stored = 50'000;
  cache.Insert(c.key(), Answer("www.example.com", 30), stored);
  const struct {
    Millis age;
    std::optional<uint32_t> ttl;
  } steps[] = {
      {0, 30}, {999, 30}, {1000, 29}, {1999, 29}, {10'500, 20}, {29'000, 1}, {29'999, 1},
      {30'000, std::nullopt}, {45'000, std::nullopt},
  };
  for (const auto& s : steps) {
    std::optional<CacheHit> hit = c.Lookup(cache, stored + s.age);
    ASSERT_EQ(hit.has_value(), s.ttl.has_value()) << "age " << s.age;
    if (hit) {
      EXPECT_EQ(c.Ttl(*hit), *s.ttl) << "age " << s.age;
    }
  }
}

TEST(PacketCacheTest, StaleEntriesAreServedWithTtl30WithinStaleFor) {
  PacketCache cache(100);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 10), 0);
  EXPECT_FALSE(c.Lookup(cache, 10'000).has_value()) << "expired, no stale serving asked";

  std::optional<CacheHit> stale = c.Lookup(cache, 10'000, /*stale_for=*/5'000);
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(c.Ttl(*stale), 30u);
  ASSERT_TRUE(c.Lookup(cache, 14'999, 5'000).has_value());
  EXPECT_FALSE(c.Lookup(cache, 15'000, 5'000).has_value()) << "stale_for is over";

  std::optional<CacheHit> live = c.Lookup(cache, 9'999, 5'000);
  ASSERT_TRUE(live.has_value());
  EXPECT_FALSE(live->stale);
  EXPECT_EQ(c.Ttl(*live), 1u);
}

TEST(PacketCacheTest, CapacityIsHonouredExactly) {
  for (size_t capacity : {1, 7, 10, 100}) {
    PacketCache cache(capacity);
    // Keys spread over the shards by a per-process hash seed; 50 keys per slot
    // make a shard that never fills (and so a flaky count) vanishingly unlikely.
    const size_t extra = 50 * capacity + 3;
    for (size_t i = 0; i < capacity + extra; ++i) {
      const std::string name = "host" + std::to_string(i) + ".example.com";
      cache.Insert(Client(name).key(), Answer(name, 30), 0);
    }
    EXPECT_EQ(cache.size(), capacity);
    EXPECT_EQ(cache.evictions(), extra);
  }
}

TEST(PacketCacheTest, LeastRecentlyUsedIsEvictedFirst) {
  PacketCache cache(2, /*shards=*/1);
  Client a("a.example.com"), b("b.example.com"), c("c.example.com");
  cache.Insert(a.key(), Answer("a.example.com", 30), 0);
  cache.Insert(b.key(), Answer("b.example.com", 30), 0);
  ASSERT_TRUE(a.Lookup(cache, 1).has_value());  // a is now more recent than b
  cache.Insert(c.key(), Answer("c.example.com", 30), 2);
  EXPECT_TRUE(a.Lookup(cache, 3).has_value()) << "recently used entry survives";
  EXPECT_FALSE(b.Lookup(cache, 3).has_value()) << "untouched entry is evicted";
  EXPECT_TRUE(c.Lookup(cache, 3).has_value());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(PacketCacheTest, WithoutLookupsTheOldestInsertIsEvicted) {
  PacketCache cache(2, /*shards=*/1);
  Client a("a.example.com"), b("b.example.com"), c("c.example.com");
  cache.Insert(a.key(), Answer("a.example.com", 30), 0);
  cache.Insert(b.key(), Answer("b.example.com", 30), 0);
  cache.Insert(c.key(), Answer("c.example.com", 30), 0);
  EXPECT_FALSE(a.Lookup(cache, 1).has_value());
  EXPECT_TRUE(b.Lookup(cache, 1).has_value());
  EXPECT_TRUE(c.Lookup(cache, 1).has_value());
}

TEST(PacketCacheTest, InsertReplacesAnExistingEntryAndRestartsItsClock) {
  PacketCache cache(10);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 30, 1), 0);
  cache.Insert(c.key(), Answer("www.example.com", 30, 2), 20'000);
  EXPECT_EQ(cache.size(), 1u);
  std::optional<CacheHit> hit = c.Lookup(cache, 40'000);  // past the first entry's life
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(c.LastOctet(*hit), 2);
  EXPECT_EQ(c.Ttl(*hit), 10u);
}

TEST(PacketCacheTest, NonCacheableRepliesAreNotInserted) {
  PacketCache cache(10);
  Client c("www.example.com");
  Wire servfail = Wire().Header(0, kFlagQR | kFlagRD | kServFail, 1).Question("www.example.com", kTypeA);
  auto reply = StoredReply::FromMessage(servfail, TtlPolicy{});
  ASSERT_TRUE(reply.ok());
  ASSERT_FALSE(reply->cacheable);
  cache.Insert(c.key(), std::make_shared<const StoredReply>(*reply), 0);
  cache.Insert(c.key(), nullptr, 0);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(c.Lookup(cache, 0).has_value());
}

TEST(PacketCacheTest, FindReturnsTheLiveEntryAndItsRemainingTtl) {
  PacketCache cache(10);
  Client c("www.example.com");
  auto reply = Answer("www.example.com", 30);
  cache.Insert(c.key(), reply, 1000);
  std::optional<CachedReply> found = cache.Find(c.key(), 11'500);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->reply, reply);
  EXPECT_EQ(found->ttl, 20u);
  EXPECT_EQ(cache.Find(c.key(), 1000)->ttl, 30u);
  EXPECT_FALSE(cache.Find(c.key(), 31'000).has_value()) << "expired";
  EXPECT_FALSE(cache.Find(Client("other.example.com").key(), 1000).has_value());
}

TEST(PacketCacheTest, FindServesExpiredEntriesOnlyWithinStaleFor) {
  PacketCache cache(10);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 10), 0);
  std::optional<CachedReply> live = cache.Find(c.key(), 9'999, 5'000);
  ASSERT_TRUE(live.has_value());
  EXPECT_FALSE(live->stale);
  EXPECT_EQ(live->ttl, 1u);
  std::optional<CachedReply> stale = cache.Find(c.key(), 10'000, 5'000);
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->ttl, kStaleTtl);
  EXPECT_FALSE(cache.Find(c.key(), 15'000, 5'000).has_value());
}

// CoreDNS's `prefetch 2 1m 10%`: asked twice within a minute and with at most
// 10% of its life left, an entry is due for a refresh, and the caller is told once.
TEST(PacketCacheTest, PopularEntriesNearTheirEndAreFlaggedForPrefetchOnce) {
  const PrefetchPolicy policy{.amount = 2, .duration = 60'000, .percentage = 10};
  PacketCache cache(10);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 30), 0);
  EXPECT_FALSE(c.Lookup(cache, 1'000, 0, &policy)->prefetch) << "first ask, 29 s left";
  EXPECT_FALSE(c.Lookup(cache, 26'999, 0, &policy)->prefetch) << "asked twice, but 10% + 1 ms left";
  EXPECT_TRUE(c.Lookup(cache, 27'000, 0, &policy)->prefetch) << "popular, 10% left";
  EXPECT_FALSE(c.Lookup(cache, 28'000, 0, &policy)->prefetch) << "already being refreshed";
  EXPECT_FALSE(c.Lookup(cache, 28'000)->prefetch) << "no policy, no prefetch";

  // The refreshed entry starts over and can be flagged again near its own end.
  cache.Insert(c.key(), Answer("www.example.com", 30), 28'500);
  EXPECT_TRUE(c.Lookup(cache, 28'500 + 27'000, 0, &policy)->prefetch);
}

TEST(PacketCacheTest, PrefetchNeedsTheHitsWithinItsDuration) {
  const PrefetchPolicy policy{.amount = 2, .duration = 5'000, .percentage = 10};
  PacketCache cache(10);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 30), 0);
  EXPECT_FALSE(c.Lookup(cache, 1'000, 0, &policy)->prefetch);
  // The second ask comes 26 s after the first: a new window, one hit in it.
  EXPECT_FALSE(c.Lookup(cache, 27'000, 0, &policy)->prefetch);
  EXPECT_TRUE(c.Lookup(cache, 28'000, 0, &policy)->prefetch);
}

TEST(PacketCacheTest, StaleHitsAreNotPrefetched) {
  const PrefetchPolicy policy{.amount = 1, .duration = 60'000, .percentage = 100};
  PacketCache cache(10);
  Client c("www.example.com");
  cache.Insert(c.key(), Answer("www.example.com", 10), 0);
  std::optional<CacheHit> stale = c.Lookup(cache, 12'000, 5'000, &policy);
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale);
  EXPECT_FALSE(stale->prefetch);
}

TEST(PacketCacheTest, HitIsCutToTheTransportLimit) {
  PacketCache cache(10);
  Client c("www.example.com");
  auto reply = Answer("www.example.com", 30);
  cache.Insert(c.key(), reply, 0);
  std::optional<CacheHit> hit = cache.Lookup(c.key(), c.view, c.wire,
                                             CacheLookup{.write = {.ttl = std::nullopt, .limit = reply->wire.size() - 1}},
                                             c.out);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->size, c.view.question_end);
  EXPECT_TRUE(ReadU16(&c.out[2]) & kFlagTC);
}

TEST(PacketCacheTest, EraseIfRemovesTheEntriesUnderAZoneOnly) {
  PacketCache cache(100);
  for (const char* name : {"a.cluster2.svc.cluster.local", "cluster2.svc.cluster.local", "a.xcluster2.svc.cluster.local",
                           "a.cluster3.svc.cluster.local", "www.example.com"}) {
    cache.Insert(Client(name).key(), Answer(name, 30), 0);
  }
  const DnsName zone = N("Cluster2.svc.cluster.local").Lowered();
  EXPECT_EQ(cache.EraseIf([&](const CacheKeyView& k) { return k.Under(zone.Wire()); }), 2u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(Client("a.cluster2.svc.cluster.local").Lookup(cache, 1).has_value());
  EXPECT_TRUE(Client("a.xcluster2.svc.cluster.local").Lookup(cache, 1).has_value()) << "whole labels only";
  EXPECT_TRUE(Client("a.cluster3.svc.cluster.local").Lookup(cache, 1).has_value());
  EXPECT_EQ(cache.EraseIf([](const CacheKeyView& k) { return k.qtype == kTypeA; }), 3u);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// CoreDNS item.go toMsg: every answer from the cache has AA set, whatever the stored reply said.
TEST(PacketCacheTest, HitsAreAuthoritative) {
  PacketCache cache(100);
  Client client("www.example.com");
  auto stored = Answer("www.example.com", 30);
  ASSERT_EQ(stored->flags() & kFlagAA, 0) << "the resolver's reply had no AA";
  cache.Insert(client.key(), stored, 0);
  std::optional<CacheHit> hit = client.Lookup(cache, 1000);
  ASSERT_TRUE(hit);
  EXPECT_NE(ReadU16(&client.out[2]) & kFlagAA, 0);
}

// CoreDNS's keepttl: the whole lifetime until the entry expires.
TEST(PacketCacheTest, KeepTtlServesTheWholeLifetime) {
  PacketCache cache(100);
  Client client("www.example.com");
  StoredReply kept = *Answer("www.example.com", 30);
  kept.keep_ttl = true;
  cache.Insert(client.key(), std::make_shared<const StoredReply>(kept), 0);
  std::optional<CacheHit> hit = client.Lookup(cache, 29500);
  ASSERT_TRUE(hit);
  EXPECT_EQ(client.Ttl(*hit), 30u);
  EXPECT_EQ(cache.Find(client.key(), 20000)->ttl, 30u);
  EXPECT_FALSE(client.Lookup(cache, 30000)) << "it still expires";
}

// A SERVFAIL (from a prefetch) does not replace an answer still live (coredns#7956).
TEST(PacketCacheTest, AFailureDoesNotShadowALiveAnswer) {
  PacketCache cache(100);
  Client client("www.example.com");
  cache.Insert(client.key(), Answer("www.example.com", 30), 0);
  Wire w = Wire().Header(0, kFlagQR | kFlagRD | kFlagRA | kServFail, 1, 0).Question("www.example.com", kTypeA);
  auto failure = std::make_shared<const StoredReply>(*StoredReply::FromMessage(w, TtlPolicy{.servfail_ttl = 5}));
  ASSERT_TRUE(failure->cacheable);
  cache.Insert(client.key(), failure, 10000);
  EXPECT_EQ(cache.Find(client.key(), 10000)->reply->rcode(), kNoError);
  cache.Insert(client.key(), failure, 31000);
  EXPECT_EQ(cache.Find(client.key(), 31000)->reply->rcode(), kServFail) << "an expired answer is replaced";
}

}  // namespace
}  // namespace meshdns
