// local, any, chaos and whoami read as their setup.go files read them:
// arguments, block properties, and what each adds to the block's plan.
#include <gtest/gtest.h>

#include <string>

#include "config/corefile_plugins.h"
#include "tests/config/plan_testing.h"

namespace meshdns {
namespace {

CorefilePlan Plan(const std::string& text) { return testing::PlanText(text, {.check_directives = true}); }

std::string FirstError(const std::string& text) { return testing::FirstPlanError(text, {.check_directives = true}); }

TEST(BuiltinPlanTest, EachPluginLandsInItsSlot) {
  CorefilePlan p = Plan(". {\n    local\n    any\n    chaos\n    whoami\n}\n");
  ASSERT_TRUE(p.errors.empty()) << p.errors.front().ToString();
  const ServerPlan& s = p.servers.at(0);
  EXPECT_EQ(s.local, true) << "localhost_prefix is on by default";
  EXPECT_TRUE(s.any);
  ASSERT_TRUE(s.chaos);
  EXPECT_EQ(s.chaos->version, "meshdns-" MESHDNS_VERSION);
  EXPECT_TRUE(s.chaos->authors.empty());
  EXPECT_TRUE(s.whoami);
  EXPECT_TRUE(s.has_chain);
}

TEST(BuiltinPlanTest, ChaosVersionAndAuthorsSortedWithoutRepeats) {
  CorefilePlan p = Plan(". {\n    chaos CoreDNS-001 \"Miek Gieben\" Bob Alice Bob\n}\n");
  ASSERT_TRUE(p.errors.empty());
  const ChaosPlan& c = *p.servers.at(0).chaos;
  EXPECT_EQ(c.version, "CoreDNS-001");
  EXPECT_EQ(c.authors, (std::vector<std::string>{"Alice", "Bob", "Miek Gieben"}));
  EXPECT_EQ(Plan(". {\n    chaos v1\n}\n").servers.at(0).chaos->version, "v1");
}

TEST(BuiltinPlanTest, LocalhostPrefixOnOrOff) {
  EXPECT_EQ(Plan(". {\n    local {\n        localhost_prefix off\n    }\n}\n").servers.at(0).local, false);
  EXPECT_EQ(Plan(". {\n    local {\n        localhost_prefix on\n    }\n}\n").servers.at(0).local, true);
}

// The errors of CoreDNS's setup_test.go files, each at its position.
TEST(BuiltinPlanTest, MistakesAreRefusedWhereTheyAre) {
  EXPECT_EQ(FirstError(". {\n    local example.org\n}\n"), "2:11: local: unexpected argument example.org");
  EXPECT_EQ(FirstError(". {\n    local {\n        localhost_prefix maybe\n    }\n}\n"),
            "3:26: local: localhost_prefix expects 'on' or 'off', got 'maybe'");
  EXPECT_EQ(FirstError(". {\n    local {\n        localhost_prefix\n    }\n}\n"),
            "3:9: local: localhost_prefix takes one argument, on or off");
  EXPECT_EQ(FirstError(". {\n    local {\n        foo\n    }\n}\n"), "3:9: local: unknown property 'foo'");
  EXPECT_EQ(FirstError(". {\n    any x\n}\n"), "2:9: any: unexpected argument x");
  EXPECT_EQ(FirstError(". {\n    any {\n        x\n    }\n}\n"), "3:9: any: unknown property 'x'");
  EXPECT_EQ(FirstError(". {\n    chaos v {\n        x\n    }\n}\n"), "3:9: chaos: unknown property 'x'");
  EXPECT_EQ(FirstError(". {\n    whoami x\n}\n"), "2:12: whoami: unexpected argument x");
  EXPECT_EQ(FirstError(". {\n    chaos\n    chaos\n}\n"), "3:5: chaos can only be used once per server block");
}

}  // namespace
}  // namespace meshdns
