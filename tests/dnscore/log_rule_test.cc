// Which replies a block's `log` writes: the name scopes and classes of
// CoreDNS's plugin/log (log_test.go TestLoggedClass*, TestLogged NameScope).
#include "dnscore/log_rule.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::Wire;

DnsName N(const char* text) { return *DnsName::FromText(text); }

Wire Reply(uint8_t rcode, uint16_t an, uint16_t ns) {
  return Wire().Header(0, kFlagQR | kFlagRD | kFlagRA | rcode, 1, an, ns, 0).Question("a.example.org", kTypeA);
}

TEST(LogRuleTest, RepliesAreClassedAsCoreDnsClassesThem) {
  EXPECT_EQ(ClassifyReply(Reply(kNoError, 1, 0).A("a.example.org", 60)), kLogSuccess);
  EXPECT_EQ(ClassifyReply(Reply(kNoError, 0, 1).Soa("example.org", 60, 60)), kLogDenial) << "NODATA";
  EXPECT_EQ(ClassifyReply(Reply(kNxDomain, 0, 1).Soa("example.org", 60, 60)), kLogDenial);
  EXPECT_EQ(ClassifyReply(Reply(kNxDomain, 0, 0)), kLogDenial) << "NXDOMAIN without an SOA is still a denial";
  EXPECT_EQ(ClassifyReply(Reply(kNxDomain, 1, 0).A("a.example.org", 60)), kLogError) << "Typify: OtherError";
  EXPECT_EQ(ClassifyReply(Reply(kServFail, 0, 0)), kLogError);
  EXPECT_EQ(ClassifyReply(Reply(kRefused, 0, 0)), kLogError);
  EXPECT_EQ(ClassifyReply(Reply(kNoError, 0, 0)), kLogSuccess) << "an empty NOERROR without an SOA";
  EXPECT_EQ(ClassifyReply(std::vector<uint8_t>{1, 2}), kLogError);
}

TEST(LogRuleTest, TheFirstRuleWhoseScopeHoldsTheNameDecides) {
  const std::vector<LogRule> rules = {{N("example.org"), kLogError, ""}, {N("."), kLogAll, ""}};
  const Wire ok = Reply(kNoError, 1, 0).A("a.example.org", 60);
  const Wire fail = Reply(kServFail, 0, 0);

  EXPECT_EQ(nullptr, LogRuleFor(rules, N("a.example.org"), ok)) << "example.org's rule logs errors only";
  EXPECT_NE(nullptr, LogRuleFor(rules, N("a.example.org"), fail));
  EXPECT_NE(nullptr, LogRuleFor(rules, N("a.example.net"), ok)) << "the root rule";
  const std::vector<LogRule> scoped = {{N("example.org"), kLogAll, ""}};
  EXPECT_EQ(nullptr, LogRuleFor(scoped, N("a.example.net"), ok)) << "a name no rule holds is not logged";
  EXPECT_EQ(nullptr, LogRuleFor({}, N("a.example.org"), ok)) << "a block without log";
}

}  // namespace
}  // namespace meshdns
