#include "dnscore/stored_reply.h"

#include <gtest/gtest.h>

#include <vector>

#include "dnscore/message.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::Wire;

constexpr uint16_t kReplyFlags = kFlagQR | kFlagRD | kFlagRA;

// The header of a reply to "www.example.com A" with the given counts, and its question.
Wire Reply(uint8_t rcode, uint16_t an, uint16_t ns, uint16_t ar, uint16_t extra_flags = 0) {
  return Wire().Header(0, kReplyFlags | extra_flags | rcode, 1, an, ns, ar).Question("www.example.com", kTypeA);
}

StoredReply Store(const Wire& w, const TtlPolicy& policy = {}) {
  absl::StatusOr<StoredReply> r = StoredReply::FromMessage(w, policy);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : StoredReply{};
}

std::vector<uint32_t> TtlsAt(const StoredReply& r) {
  std::vector<uint32_t> ttls;
  for (uint16_t at : r.ttl_offsets) ttls.push_back(ReadU32(&r.wire[at]));
  return ttls;
}

// Each record's TTL as ldns reads it from the stored wire: proves the offsets
// are the real TTL fields and the message still parses.
std::vector<uint32_t> TtlsParsed(const StoredReply& r) {
  absl::StatusOr<PktPtr> pkt = ParseMessage(r.wire);
  EXPECT_TRUE(pkt.ok()) << pkt.status();
  std::vector<uint32_t> ttls;
  if (!pkt.ok()) return ttls;
  for (ldns_rr_list* list : {ldns_pkt_answer(pkt->get()), ldns_pkt_authority(pkt->get()), ldns_pkt_additional(pkt->get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) ttls.push_back(ldns_rr_ttl(ldns_rr_list_rr(list, i)));
  }
  return ttls;
}

TEST(StoredReplyTest, PositiveAnswerLivesTheClampedSmallestTtl) {
  const TtlPolicy policy{.min_ttl = 5, .max_ttl = 30, .denial_ttl = 5};
  const struct {
    uint32_t first, second, extra;
    uint32_t want;
  } cases[] = {
      {20, 12, 25, 12},    // the smallest TTL of all records, additional included
      {20, 12, 7, 7},
      {1, 100, 100, 5},    // raised to min_ttl
      {0, 100, 100, 5},
      {300, 100, 600, 30}, // capped at max_ttl
  };
  for (const auto& c : cases) {
    Wire w = Reply(kNoError, 2, 0, 1).A("www.example.com", c.first).A("www.example.com", c.second).A("ns.example.com", c.extra);
    StoredReply r = Store(w, policy);
    EXPECT_TRUE(r.cacheable);
    EXPECT_EQ(r.ttl, c.want) << c.first << "/" << c.second << "/" << c.extra;
    EXPECT_EQ(TtlsAt(r), std::vector<uint32_t>(3, c.want)) << "every record carries the entry's lifetime";
    EXPECT_EQ(TtlsParsed(r), std::vector<uint32_t>(3, c.want));
    EXPECT_EQ(r.question_end, kHeaderSize + 17 + 4);
    EXPECT_EQ(r.ancount(), 2);
  }
}

TEST(StoredReplyTest, WorksOnCompressedRepliesBuiltByLdns) {
  // ldns compresses owners into pointers at the question: the scan must follow that.
  DnsName qname = *DnsName::FromText("www.example.com");
  PktPtr pkt = NewReply(qname, kTypeA, kClassIN, kFlagRA | kFlagRD, kNoError);
  AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, ParseRecord("www.example.com. 50 IN CNAME web.example.com.")->get());
  AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, ParseRecord("web.example.com. 9 IN A 192.0.2.7")->get());
  absl::StatusOr<std::vector<uint8_t>> wire = EncodeMessage(pkt.get());
  ASSERT_TRUE(wire.ok());
  absl::StatusOr<StoredReply> r = StoredReply::FromMessage(*wire, TtlPolicy{.min_ttl = 1, .max_ttl = 60});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->cacheable);
  EXPECT_EQ(r->ttl, 9u);
  EXPECT_EQ(TtlsParsed(*r), (std::vector<uint32_t>{9, 9}));
}

// RFC 2308: a denial lives min(SOA TTL, SOA MINIMUM), clamped to
// [min(min_ttl, denial_ttl), denial_ttl].
TEST(StoredReplyTest, DenialsWithSoaLiveTheSoaNegativeTtlClamped) {
  const struct {
    uint32_t soa_ttl, soa_minimum;
    TtlPolicy policy;
    uint32_t want;
  } cases[] = {
      {100, 8, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 10}, 8},   // MINIMUM is smaller
      {7, 60, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 10}, 7},    // SOA TTL is smaller
      {100, 3, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 10}, 5},   // raised to min_ttl
      {300, 300, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 10}, 10}, // capped at denial_ttl
      {100, 1, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 2}, 2},    // denial_ttl below min_ttl wins
      {100, 100, {.min_ttl = 5, .max_ttl = 30, .denial_ttl = 60}, 60}, // denial_ttl is not bound by max_ttl
  };
  for (uint8_t rcode : {kNxDomain, kNoError}) {  // NXDOMAIN and NODATA alike
    for (const auto& c : cases) {
      Wire w = Reply(rcode, 0, 1, 0).Soa("example.com", c.soa_ttl, c.soa_minimum);
      StoredReply r = Store(w, c.policy);
      EXPECT_TRUE(r.cacheable) << "rcode " << int{rcode};
      EXPECT_EQ(r.ttl, c.want) << "rcode " << int{rcode} << " soa " << c.soa_ttl << "/" << c.soa_minimum;
      EXPECT_EQ(TtlsParsed(r), std::vector<uint32_t>{c.want});
      EXPECT_EQ(r.rcode(), rcode);
    }
  }
}

TEST(StoredReplyTest, NxDomainAfterACnameUsesTheSoa) {
  Wire w = Reply(kNxDomain, 1, 1, 0).Cname("www.example.com", 300, "gone.example.com").Soa("example.com", 60, 4);
  StoredReply r = Store(w, {.min_ttl = 1, .max_ttl = 30, .denial_ttl = 20});
  EXPECT_TRUE(r.cacheable);
  EXPECT_EQ(r.ttl, 4u);
  EXPECT_EQ(TtlsParsed(r), (std::vector<uint32_t>{4, 4}));
}

TEST(StoredReplyTest, DenialsWithoutSoaAreNotCacheable) {
  EXPECT_FALSE(Store(Reply(kNxDomain, 0, 0, 0)).cacheable) << "NXDOMAIN";
  EXPECT_FALSE(Store(Reply(kNoError, 0, 0, 0)).cacheable) << "NODATA";
  // An SOA outside the authority section does not make a denial cacheable.
  EXPECT_FALSE(Store(Reply(kNxDomain, 0, 0, 1).Soa("example.com", 60, 60)).cacheable) << "SOA in additional";
  // Nor does another record type in the authority section.
  Wire ns = Reply(kNxDomain, 0, 1, 0).Rr("example.com", kTypeNS, 60, testing::EncodeName("ns.example.com"));
  EXPECT_FALSE(Store(ns).cacheable) << "NS in authority";
}

TEST(StoredReplyTest, FailuresAndTruncatedRepliesAreNotCacheable) {
  const struct {
    Wire wire;
    const char* why;
  } cases[] = {
      {Reply(kServFail, 0, 0, 0), "SERVFAIL"},
      {Reply(kServFail, 1, 0, 0).A("www.example.com", 60), "SERVFAIL with an answer"},
      {Reply(kRefused, 0, 0, 0), "REFUSED"},
      {Reply(kRefused, 0, 1, 0).Soa("example.com", 60, 60), "REFUSED with an SOA"},
      {Reply(kFormErr, 0, 0, 0), "FORMERR"},
      {Reply(kNoError, 1, 0, 0, kFlagTC).A("www.example.com", 60), "truncated answer"},
      {Reply(kNxDomain, 0, 1, 0, kFlagTC).Soa("example.com", 60, 60), "truncated denial"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<StoredReply> r = StoredReply::FromMessage(c.wire, TtlPolicy{});
    ASSERT_TRUE(r.ok()) << c.why << ": " << r.status();  // still usable for this one client
    EXPECT_FALSE(r->cacheable) << c.why;
  }
}

TEST(StoredReplyTest, NonCacheableRepliesKeepTheirTtls) {
  StoredReply r = Store(Reply(kServFail, 1, 0, 0).A("www.example.com", 1234));
  EXPECT_EQ(TtlsAt(r), std::vector<uint32_t>{1234});
}

TEST(StoredReplyTest, OptIsStrippedAndArcountDecremented) {
  Wire w = Reply(kNoError, 1, 0, 1).A("www.example.com", 20).Opt(4096, 0, true);
  StoredReply r = Store(w);
  EXPECT_EQ(r.wire.size(), w.size() - 11);
  EXPECT_EQ(ReadU16(&r.wire[10]), 0) << "ARCOUNT";
  EXPECT_EQ(TtlsParsed(r), std::vector<uint32_t>{20});
  absl::StatusOr<PktPtr> pkt = ParseMessage(r.wire);
  ASSERT_TRUE(pkt.ok());
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt->get()), 0) << "no OPT left";
}

TEST(StoredReplyTest, TtlOffsetsFollowRecordsThatComeAfterTheOpt) {
  // The OPT sits between two records: the one after it moves 11 bytes forward.
  Wire w = Reply(kNoError, 1, 0, 2).A("www.example.com", 25).Opt(1232).A("ns.example.com", 15, {198, 51, 100, 1});
  StoredReply r = Store(w, {.min_ttl = 1, .max_ttl = 30});
  ASSERT_EQ(r.ttl_offsets.size(), 2u);
  EXPECT_EQ(ReadU16(&r.wire[10]), 1) << "ARCOUNT";
  EXPECT_EQ(r.wire.size(), w.size() - 11);
  EXPECT_EQ(TtlsAt(r), (std::vector<uint32_t>{15, 15}));
  EXPECT_EQ(TtlsParsed(r), (std::vector<uint32_t>{15, 15}));
  // The moved record is intact: its address is the last four bytes.
  EXPECT_EQ(std::vector<uint8_t>(r.wire.end() - 4, r.wire.end()), (std::vector<uint8_t>{198, 51, 100, 1}));
  EXPECT_EQ(r.ttl_offsets[1], r.wire.size() - 4 - 2 - 4);
}

TEST(StoredReplyTest, AMessageOfItsOwnIsTakenOverNotCopied) {
  Wire w = Reply(kNoError, 1, 0, 2).A("www.example.com", 25).Opt(1232).A("ns.example.com", 15, {198, 51, 100, 1});
  const TtlPolicy policy{.min_ttl = 1, .max_ttl = 30};
  const StoredReply copied = Store(w, policy);
  std::vector<uint8_t> owned = w.bytes();
  const uint8_t* buffer = owned.data();
  absl::StatusOr<StoredReply> taken = StoredReply::FromMessage(std::move(owned), policy);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->wire.data(), buffer) << "the same buffer, OPT removed in place";
  EXPECT_EQ(taken->wire, copied.wire);
  EXPECT_EQ(taken->ttl_offsets, copied.ttl_offsets);
  EXPECT_EQ(taken->ttl, copied.ttl);
  EXPECT_TRUE(taken->cacheable);
}

// A cached reply lives for its whole TTL: whatever it keeps beyond its bytes
// counts against the cache's memory per entry.
TEST(StoredReplyTest, KeepsNoSpareCapacity) {
  Wire w = Reply(kNoError, 1, 0, 2).A("www.example.com", 25).Opt(1232).A("ns.example.com", 15, {198, 51, 100, 1});
  const TtlPolicy policy{.min_ttl = 1, .max_ttl = 30};
  const StoredReply copied = Store(w, policy);
  EXPECT_EQ(copied.wire.capacity(), copied.wire.size()) << "copied without the OPT, exactly";

  std::vector<uint8_t> roomy = w.bytes();
  roomy.reserve(roomy.size() + 512);  // a writer's buffer, sized for the worst case
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(std::move(roomy), policy);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->wire, copied.wire);
  EXPECT_EQ(stored->wire.capacity(), stored->wire.size()) << "a roomy buffer is copied, not kept";
  EXPECT_EQ(stored->ttl_offsets, copied.ttl_offsets);
}

TEST(StoredReplyTest, RefusesWhatIsNotAOneQuestionReply) {
  const struct {
    Wire wire;
    const char* why;
  } cases[] = {
      {Wire().Header(0, 0, 1).Question("www.example.com", kTypeA), "a query, not a reply"},
      {Wire().Header(0, kFlagQR, 0), "no question"},
      {Wire().Header(0, kFlagQR, 2).Question("a.example", kTypeA).Question("b.example", kTypeA), "two questions"},
      {Wire().Header(0, kFlagQR, 1).Name("www.example.com"), "question cut short"},
      {Wire().Header(0, kFlagQR, 1, 1).Question("www.example.com", kTypeA), "missing answer"},
      {Reply(kNoError, 1, 0, 0).A("www.example.com", 5).U8(0), "trailing byte"},
      {Reply(kNoError, 0, 0, 2).Opt(1232).Opt(1232), "two OPT records"},
      // Found by fuzz/wire_fuzzer: ldns leaks one of two TSIGs it parses; signed replies never get that far.
      {Reply(kNoError, 1, 0, 1).A("www.example.com", 5).Rr("key.example", kTypeTSIG, 0, std::vector<uint8_t>(20)),
       "TSIG, though the query was not signed"},
      {Wire().U16(0), "no header"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(StoredReply::FromMessage(c.wire, TtlPolicy{}).ok()) << c.why;
  }
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// CoreDNS cache.go computeTTL raises to MINTTL first and caps at TTL last,
// so `cache 3` (TTL 3 under the default MINTTL 5) means 3 s, not 5.
TEST(StoredReplyTest, TheCapAppliesAfterTheFloor) {
  const TtlPolicy cache_three{.min_ttl = 5, .max_ttl = 3, .denial_ttl = 3, .denial_min_ttl = 5};
  StoredReply answer = Store(Reply(kNoError, 1, 0, 0).A("www.example.com", 1), cache_three);
  EXPECT_EQ(answer.ttl, 3u);
  EXPECT_FALSE(answer.denial);
  StoredReply denial = Store(Reply(kNxDomain, 0, 1, 0).Soa("example.com", 1, 1), cache_three);
  EXPECT_EQ(denial.ttl, 3u);
  EXPECT_TRUE(denial.denial);
}

// CoreDNS's `servfail DURATION`: SERVFAIL and NOTIMP go to the denial cache for that long.
TEST(StoredReplyTest, FailuresAreCachedOnlyWithAServfailTtl) {
  for (uint8_t rcode : {kServFail, kNotImp}) {
    StoredReply kept = Store(Reply(rcode, 0, 0, 0), TtlPolicy{.servfail_ttl = 10});
    EXPECT_TRUE(kept.cacheable && kept.denial) << int{rcode};
    EXPECT_EQ(kept.ttl, 10u);
    EXPECT_FALSE(Store(Reply(rcode, 0, 0, 0), TtlPolicy{}).cacheable) << "meshdns's default: not cached";
  }
  EXPECT_FALSE(Store(Reply(kRefused, 0, 0, 0), TtlPolicy{.servfail_ttl = 10}).cacheable);
}

}  // namespace
}  // namespace meshdns
