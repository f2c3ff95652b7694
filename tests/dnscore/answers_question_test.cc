// Which NOERROR replies answer their question, from the cases of CoreDNS's
// plugin/cache/cache_test.go TestCacheInsertion (the "without SOA does not
// cache" and chain cases), and what the cache then does with them.
#include "dnscore/answers_question.h"

#include <gtest/gtest.h>

#include "dnscore/stored_reply.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::Wire;

Wire Reply(uint16_t qtype, uint16_t an, uint16_t ns = 0) {
  return Wire().Header(0, kFlagQR | kFlagRD | kFlagRA, 1, an, ns, 0).Question("a.example.org", qtype);
}

bool Answers(const Wire& w, uint16_t qtype, uint16_t an) {
  const std::span<const uint8_t> msg = w;
  const DnsName qname = *DnsName::FromText("a.example.org");
  // The header and the question: 12 bytes, the name's 15, type and class.
  return AnswersQuestion(msg, 12 + 15 + 4, an, {qname, qtype, kClassIN});
}

TEST(AnswersQuestionTest, ARecordOrAChainEndingInOneAnswers) {
  EXPECT_TRUE(Answers(Reply(kTypeA, 1).A("a.example.org", 60), kTypeA, 1));
  EXPECT_TRUE(Answers(Reply(kTypeA, 2).Cname("a.example.org", 60, "b.example.org").A("b.example.org", 60), kTypeA, 2));
  // Order does not matter; case does not either.
  EXPECT_TRUE(Answers(Reply(kTypeA, 2).A("B.example.org", 60).Cname("a.example.org", 60, "b.example.org"), kTypeA, 2));
  EXPECT_TRUE(Answers(Reply(kTypeCNAME, 1).Cname("a.example.org", 60, "b.example.org"), kTypeCNAME, 1));
  EXPECT_TRUE(Answers(Reply(kTypeANY, 1).A("a.example.org", 60), kTypeANY, 1));
}

TEST(AnswersQuestionTest, ChainsThatDoNotReachTheTypeAnswerNothing) {
  // "dangling CNAME chain"
  EXPECT_FALSE(Answers(Reply(kTypeA, 1).Cname("a.example.org", 60, "b.example.org"), kTypeA, 1));
  // "CNAME chain ending in a different type" (an AAAA-less chain for AAAA)
  EXPECT_FALSE(Answers(Reply(kTypeAAAA, 2).Cname("a.example.org", 60, "b.example.org").A("b.example.org", 60),
                       kTypeAAAA, 2));
  // "unrelated A off the chain"
  EXPECT_FALSE(Answers(Reply(kTypeA, 2).Cname("a.example.org", 60, "b.example.org").A("c.example.org", 60), kTypeA, 2));
  // "two distinct targets at one owner"
  EXPECT_FALSE(Answers(Reply(kTypeA, 3)
                           .Cname("a.example.org", 60, "b.example.org")
                           .Cname("a.example.org", 60, "c.example.org")
                           .A("b.example.org", 60),
                       kTypeA, 3));
  // "CNAME loop with co-located A"
  EXPECT_FALSE(Answers(Reply(kTypeA, 3)
                           .Cname("a.example.org", 60, "b.example.org")
                           .Cname("b.example.org", 60, "a.example.org")
                           .A("a.example.org", 60),
                       kTypeA, 3));
  EXPECT_FALSE(Answers(Reply(kTypeANY, 1).A("c.example.org", 60), kTypeANY, 1));
}

TEST(AnswersQuestionTest, TheCacheKeepsANonAnswerOnlyAsADenialWithAnSoa) {
  const TtlPolicy policy{.min_ttl = 5, .max_ttl = 300, .denial_ttl = 60};
  const Wire dangling = Reply(kTypeA, 1).Cname("a.example.org", 120, "b.example.org");
  absl::StatusOr<StoredReply> bare = StoredReply::FromMessage(dangling, policy);
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->cacheable) << "RFC 2308 5: a NODATA without an SOA is not cached";

  const Wire with_soa = Reply(kTypeA, 1, 1).Cname("a.example.org", 120, "b.example.org").Soa("example.org", 30, 30);
  absl::StatusOr<StoredReply> nodata = StoredReply::FromMessage(with_soa, policy);
  ASSERT_TRUE(nodata.ok());
  EXPECT_TRUE(nodata->cacheable);
  EXPECT_TRUE(nodata->denial);
  EXPECT_EQ(nodata->ttl, 30u) << "the SOA's negative TTL, not the CNAME's";
}

}  // namespace
}  // namespace meshdns
