// Every tests/scenario/*.scenario replayed against ForwardAttempts on a fake
// network and a virtual clock (see tests/scenario/README.md), plus the
// runner's own strictness: a line it cannot read or an expectation not met
// is an error naming file:line, and so is anything that happened unexpected.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/dnscore/attempt_scenario.h"

namespace meshdns::testing {
namespace {

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(MESHDNS_SCENARIO_DIR)) {
    if (entry.path().extension() == ".scenario") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class AttemptScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AttemptScenarioTest, Replays) {
  std::ifstream in(std::filesystem::path(MESHDNS_SCENARIO_DIR) / GetParam());
  std::stringstream text;
  text << in.rdbuf();
  const absl::Status result = RunAttemptScenario(GetParam(), text.str());
  EXPECT_TRUE(result.ok()) << result.message();
}

INSTANTIATE_TEST_SUITE_P(Scenarios, AttemptScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(AttemptScenarioCorpusTest, CoversTheFailoverBehaviours) { EXPECT_GE(ScenarioFiles().size(), 12u); }

constexpr char kOneAnswer[] = R"(pool sequential resolvers=1
resolver 0 answers NOERROR after 5ms
query q1 at 0ms
expect 0ms q1 send 0 udp timeout=2500ms every=200ms
)";

TEST(AttemptScenarioRunnerTest, ReplaysAScenario) {
  const absl::Status result = RunAttemptScenario("one.scenario", std::string(kOneAnswer) + "expect 5ms q1 answered NOERROR from 0\n");
  EXPECT_TRUE(result.ok()) << result.message();
}

TEST(AttemptScenarioRunnerTest, AnUnreadableLineNamesFileAndLine) {
  const absl::Status result = RunAttemptScenario("bad.scenario", "pool sequential resolvers=1\nresolver 0 sings\n");
  EXPECT_EQ(result.message(), "bad.scenario:2: cannot read this resolver's behaviour");
  EXPECT_EQ(RunAttemptScenario("bad.scenario", "pool sequential resolvers=1\nwait 5ms\n").message(),
            "bad.scenario:2: cannot read `wait 5ms`");
}

TEST(AttemptScenarioRunnerTest, AnExpectationNotMetFails) {
  const absl::Status result =
      RunAttemptScenario("wrong.scenario", std::string(kOneAnswer) + "expect 6ms q1 answered NOERROR from 0\n");
  EXPECT_EQ(result.message(),
            "wrong.scenario:5: expected `6ms q1 answered NOERROR from 0`, got `5ms q1 answered NOERROR from 0`");
}

TEST(AttemptScenarioRunnerTest, WhatNobodyExpectedFails) {
  const absl::Status result = RunAttemptScenario("short.scenario", kOneAnswer);
  EXPECT_EQ(result.message(), "short.scenario:5: unexpected `5ms q1 answered NOERROR from 0`");
}

}  // namespace
}  // namespace meshdns::testing
