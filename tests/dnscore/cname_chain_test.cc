#include "dnscore/cname_chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/dnscore/message_text.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MessageText;
using testing::Wire;
using S = std::vector<std::string>;

// www.example.org is an alias for web.example.net: what a template synthesised.
ChainStart Alias() {
  ChainStart start;
  start.answer.push_back(*ParseRecord("www.example.org. 60 IN CNAME web.example.net."));
  return start;
}

// The chain end as the pipeline got it: kept for caching under `policy`, or not (null).
StoredReply Target(const Wire& reply, const TtlPolicy* policy) {
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(reply, policy);
  EXPECT_TRUE(stored.ok()) << stored.status();
  return stored.ok() ? *std::move(stored) : StoredReply{};
}

MessageText Complete(const ChainStart& start, const StoredReply& target, uint32_t target_ttl = 0) {
  absl::StatusOr<std::vector<uint8_t>> wire = CompleteChain(*DnsName::FromText("www.example.org"), kTypeA, kClassIN, start, target,
                                                            target_ttl);
  EXPECT_TRUE(wire.ok()) << wire.status();
  return wire.ok() ? testing::ReadMessage(*wire) : MessageText{};
}

const uint16_t kReplyFlags = kFlagQR | kFlagRD | kFlagRA;

TEST(CompleteChainTest, TheSynthesisedRecordsComeFirstInEachSection) {
  ChainStart start = Alias();
  start.authority.push_back(*ParseRecord("example.org. 60 IN NS ns.example.org."));
  start.additional.push_back(*ParseRecord("ns.example.org. 60 IN A 192.0.2.53"));
  Wire end;
  end.Header(7, kReplyFlags, 1, 2).Question("web.example.net", kTypeA);
  end.A("web.example.net", 300, {192, 0, 2, 1}).A("web.example.net", 300, {192, 0, 2, 2});

  const MessageText m = Complete(start, Target(end, nullptr));
  EXPECT_EQ(m.question, (S{"www.example.org. IN A"})) << "the client's question, not the target's";
  EXPECT_EQ(m.answer, (S{"www.example.org. 60 IN CNAME web.example.net.", "web.example.net. 300 IN A 192.0.2.1",
                         "web.example.net. 300 IN A 192.0.2.2"}));
  EXPECT_EQ(m.authority, (S{"example.org. 60 IN NS ns.example.org."}));
  EXPECT_EQ(m.additional, (S{"ns.example.org. 60 IN A 192.0.2.53"}));
}

// RFC 2308: with the target's SOA the whole answer caches negatively.
TEST(CompleteChainTest, ANegativeChainEndKeepsTheTargetsSoaAndRcode) {
  Wire end;
  end.Header(7, kReplyFlags | kNxDomain, 1, 0, 1).Question("web.example.net", kTypeA);
  end.Soa("example.net", 300, 60);

  const MessageText m = Complete(Alias(), Target(end, nullptr));
  EXPECT_EQ(m.rcode, kNxDomain) << "the rcode is the chain end's";
  EXPECT_EQ(m.answer, (S{"www.example.org. 60 IN CNAME web.example.net."}));
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_TRUE(m.authority[0].starts_with("example.net. 300 IN SOA ns.example. hostmaster.example. 1 7200"))
      << m.authority[0];
}

TEST(CompleteChainTest, ATargetWithRecordsLeavesItsAuthorityOut) {
  Wire end;
  end.Header(7, kReplyFlags, 1, 1, 1).Question("web.example.net", kTypeA);
  end.A("web.example.net", 300).Rr("example.net", kTypeNS, 300, testing::EncodeName("ns.example.net"));

  const MessageText m = Complete(Alias(), Target(end, nullptr));
  EXPECT_EQ(m.answer.size(), 2u);
  EXPECT_EQ(m.authority, S{});
}

// A target served from the cache part-way through its life: its records say
// what is left, so the merged answer does not outlive it.
TEST(CompleteChainTest, ACacheableTargetsRecordsGetTargetTtl) {
  const TtlPolicy policy{.min_ttl = 5, .max_ttl = 300};
  Wire end;
  end.Header(7, kReplyFlags, 1, 1).Question("web.example.net", kTypeA).A("web.example.net", 300);
  const StoredReply target = Target(end, &policy);
  ASSERT_TRUE(target.cacheable);

  const MessageText m = Complete(Alias(), target, /*target_ttl=*/12);
  EXPECT_EQ(m.answer, (S{"www.example.org. 60 IN CNAME web.example.net.", "web.example.net. 12 IN A 192.0.2.1"}))
      << "the synthesised CNAME keeps its own TTL";
}

TEST(CompleteChainTest, AnUncacheableTargetKeepsTheTtlsItCameWith) {
  Wire end;
  end.Header(7, kReplyFlags, 1, 1).Question("web.example.net", kTypeA).A("web.example.net", 300);
  const StoredReply target = Target(end, nullptr);
  ASSERT_FALSE(target.cacheable);

  const MessageText m = Complete(Alias(), target, /*target_ttl=*/12);
  EXPECT_EQ(m.answer[1], "web.example.net. 300 IN A 192.0.2.1");
}

TEST(CompleteChainTest, AuthoritativeWithTheTargetsRecursionAvailable) {
  Wire with_ra, without_ra;
  with_ra.Header(7, kReplyFlags, 1, 1).Question("web.example.net", kTypeA).A("web.example.net", 300);
  without_ra.Header(7, kFlagQR | kFlagRD, 1, 1).Question("web.example.net", kTypeA).A("web.example.net", 300);

  const MessageText a = Complete(Alias(), Target(with_ra, nullptr));
  EXPECT_TRUE(a.aa);
  EXPECT_TRUE(a.ra);
  const MessageText b = Complete(Alias(), Target(without_ra, nullptr));
  EXPECT_TRUE(b.aa);
  EXPECT_FALSE(b.ra);
}

}  // namespace
}  // namespace meshdns
