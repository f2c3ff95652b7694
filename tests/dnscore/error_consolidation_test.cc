// errors { consolidate } replayed against a clock: plugin/errors/errors_test.go
// (TestLogPattern, TestConsolidate*) as black-box behaviour.
#include "dnscore/error_consolidation.h"

#include <gtest/gtest.h>

namespace meshdns {
namespace {

std::vector<std::string> Due(ErrorConsolidation& c, Millis now) {
  std::vector<ErrorConsolidation::Summary> out;
  c.TakeDue(now, out);
  std::vector<std::string> lines;
  for (const auto& s : out) lines.push_back(s.line);
  return lines;
}

TEST(ErrorConsolidationTest, MatchingErrorsAreCountedAndSummedUpOncePerPeriod) {
  ErrorConsolidation c({{.period = 2000, .pattern = "^error.*!$"}, {.period = 30000, .pattern = "timeout"}});
  EXPECT_FALSE(c.Offer("error 1!", 0).log);
  EXPECT_FALSE(c.Offer("error 2!", 500).log);
  EXPECT_TRUE(c.Offer("something else", 600).log) << "no pattern matches: logged as usual";
  EXPECT_EQ(Due(c, 1999), std::vector<std::string>{}) << "the period began with the first, at 0";
  EXPECT_EQ(Due(c, 2000), std::vector<std::string>{"2 errors like '^error.*!$' occurred in last 2s"});
  EXPECT_EQ(Due(c, 5000), std::vector<std::string>{}) << "counted once";
  EXPECT_FALSE(c.Offer("read udp: i/o timeout", 6000).log);
  EXPECT_EQ(Due(c, 36000), std::vector<std::string>{"1 errors like 'timeout' occurred in last 30s"});
}

TEST(ErrorConsolidationTest, ShowFirstLogsTheFirstAtItsLevelAndALoneFirstNeedsNoSummary) {
  ErrorConsolidation c({{.period = 90000, .pattern = "refused", .level = ErrorLevel::kWarning, .show_first = true}});
  const ErrorConsolidation::Verdict first = c.Offer("connection refused", 0);
  EXPECT_TRUE(first.log);
  EXPECT_EQ(first.level, ErrorLevel::kWarning);
  EXPECT_EQ(Due(c, 90000), std::vector<std::string>{}) << "only the first, already shown";
  EXPECT_TRUE(c.Offer("connection refused", 100000).log) << "a new period shows its first again";
  EXPECT_FALSE(c.Offer("connection refused", 100001).log);
  EXPECT_EQ(Due(c, std::numeric_limits<Millis>::max()),
            std::vector<std::string>{"2 errors like 'refused' occurred in last 1m30s"})
      << "a configuration being replaced logs what it counted";
}

}  // namespace
}  // namespace meshdns
