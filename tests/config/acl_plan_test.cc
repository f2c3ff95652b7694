// A Corefile's acl read as CoreDNS's plugin/acl/setup.go reads it; the
// accepted and refused cases are those of its setup_test.go. Nothing an acl
// says is ever left out, --ignore-unsupported or not.
#include <gtest/gtest.h>

#include <string>

#include "config/corefile_import.h"
#include "config/corefile_runtime.h"
#include "config/corefile_plugins.h"
#include "tests/config/plan_testing.h"

namespace meshdns {
namespace {

CorefilePlan Plan(const std::string& text, bool ignore_unsupported = false) {
  return testing::PlanText(text, {.check_directives = true, .ignore_unsupported = ignore_unsupported});
}

std::string InBlock(const std::string& acl) { return "example.org {\n" + acl + "\n    forward . 10.0.0.1\n}\n"; }

TEST(AclPlanTest, CoreDnsAcceptsTheseAndSoDoesMeshdns) {
  for (const char* acl : {
           "acl {\n block type A net 192.168.0.0/16\n}",
           "acl {\n block type * net 192.168.0.0/16\n}",
           "acl {\n block type A\n}",
           "acl {\n allow net 192.168.0.0/24\n block net 192.168.0.0/16\n}",
           "acl {\n filter type A net 192.168.0.0/16\n}",
           "acl {\n allow net 192.168.0.0/24 192.168.1.0/24\n block\n}",
           "acl {\n drop net 192.168.0.0/16\n}",
           "acl a.example.org {\n block net 192.168.1.0/24\n}\nacl b.example.org {\n block net 192.168.2.0/24\n}",
           "acl example.org {\n block net 192.168.1.0/24 192.168.3.0/24\n}",
           "acl {\n block type A net 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n}",
           "acl {\n allow net 2001:db8:abcd:0012::0/64\n block net 2001:db8:abcd:0012::0/48\n}",
           "acl {\n BLOCK TYPE A NET 192.168.0.0/16\n}",
           "acl example.org {\n block type TXT ANY CNAME net 192.168.3.0/24\n}",
           "acl\n",
       }) {
    CorefilePlan p = Plan(InBlock(acl));
    EXPECT_TRUE(p.errors.empty()) << acl << ": " << p.errors.front().ToString();
  }
}

TEST(AclPlanTest, CoreDnsRefusesTheseAndSoDoesMeshdnsAtTheirPosition) {
  const std::pair<const char*, const char*> cases[] = {
      {"acl {\n block A net 192.168.0.0/16\n}", "Corefile:3:8: acl: unexpected token 'A'; expect 'type | net'"},
      {"acl {\n block type net 192.168.0.0/16\n}", "Corefile:3:8: acl: no token specified in 'type' section"},
      {"acl {\n block type ABC net 192.168.0.0/16\n}", "Corefile:3:13: acl: unexpected token 'ABC'; expect legal QTYPE"},
      {"acl {\n block type a\n}", "Corefile:3:13: acl: unexpected token 'a'; expect legal QTYPE"},
      {"acl {\n block type TYPE65\n}", "Corefile:3:13: acl: unexpected token 'TYPE65'; expect legal QTYPE"},
      {"acl {\n blck type A net 192.168.0.0/16\n}",
       "Corefile:3:2: acl: unexpected token 'blck'; expect 'allow', 'block', 'filter' or 'drop'"},
      {"acl {\n block type A net 192.168.0/16\n}", "Corefile:3:19: acl: illegal CIDR notation '192.168.0/16'"},
      {"acl {\n block type A net 192.168.0.0/33\n}", "Corefile:3:19: acl: illegal CIDR notation '192.168.0.0/33'"},
      {"acl {\n block type A net 2001::85a3::8a2e:370:7334\n}",
       "Corefile:3:19: acl: illegal CIDR notation '2001::85a3::8a2e:370:7334'"},
  };
  for (const auto& [acl, error] : cases) {
    for (const bool ignore : {false, true}) {
      CorefilePlan p = Plan(InBlock(acl), ignore);
      ASSERT_FALSE(p.errors.empty()) << acl;
      EXPECT_EQ(p.errors.front().ToString(), error) << (ignore ? "--ignore-unsupported: " : "") << acl;
    }
  }
}

TEST(AclPlanTest, RulesAndPoliciesAsWritten) {
  CorefilePlan p = Plan(InBlock("acl {\n allow net 10.0.0.1 type A AAAA\n block net *\n}\nacl a.example.org {\n drop\n}"));
  ASSERT_TRUE(p.errors.empty());
  const std::vector<AclRule>& rules = p.servers.at(0).acls;
  ASSERT_EQ(rules.size(), 2u);
  ASSERT_EQ(rules[0].zones.size(), 1u);
  EXPECT_EQ(rules[0].zones[0].ToText(), "example.org.") << "the block's zones";
  ASSERT_EQ(rules[0].policies.size(), 2u);
  const AclPolicy& allow = rules[0].policies[0];
  EXPECT_EQ(allow.action, AclAction::kAllow);
  EXPECT_EQ(allow.qtypes, (std::vector<uint16_t>{1, 28}));
  ASSERT_EQ(allow.nets.size(), 1u);
  EXPECT_EQ(allow.nets[0].prefix, 128) << "a bare address is its own /32";
  EXPECT_TRUE(rules[0].policies[1].nets.empty()) << "net *: every client";
  ASSERT_EQ(rules[1].zones.size(), 1u);
  EXPECT_EQ(rules[1].zones[0].ToText(), "a.example.org.");
  EXPECT_EQ(rules[1].policies.at(0).action, AclAction::kDrop);
}

// rewrite comes before acl in plugin.cfg: the acl's zones hold the rewritten name.
TEST(AclPlanTest, TheAclJudgesTheNameAsRewriteLeavesIt) {
  CorefileResult r = ReadCorefileText(R"(. {
    rewrite name exact public.example.org secret.example.org
    acl secret.example.org {
        block
    }
    forward . 10.0.0.1
}
)",
                                      "Corefile");
  ASSERT_TRUE(r.corefile);
  CorefileLoad load = CompileCorefile(*r.corefile);
  ASSERT_TRUE(load.errors.empty()) << load.errors.front().ToString();
  const Program& program = load.serving.program;
  const IpAddress client = IpAddress::FromV4({192, 0, 2, 1});
  auto admit = [&](const char* name) {
    return program.Admit(*DnsName::FromText(name), 1, 1, client, 0);
  };
  EXPECT_EQ(admit("public.example.org"), AclAction::kBlock);
  EXPECT_EQ(admit("secret.example.org"), AclAction::kBlock);
  EXPECT_EQ(admit("www.example.org"), AclAction::kAllow);
  EXPECT_EQ(program.Admit(*DnsName::FromText("version.bind"), 16, 3, client, 0), AclAction::kAllow)
      << "the forward opens CH, and no chaos answers first";
}

TEST(AclPlanTest, ViewIsNeverLeftOut) {
  // view runs now; one with a mistake is refused even with --ignore-unsupported.
  CorefilePlan ok = Plan(". {\n    view internal {\n        expr incidr(client_ip(), '10.0.0.0/8')\n    }\n"
                         "    forward . 10.0.0.1\n}\n",
                         /*ignore_unsupported=*/true);
  EXPECT_TRUE(ok.errors.empty());
  ASSERT_TRUE(ok.servers[0].view);
  CorefilePlan p = Plan(". {\n    view internal {\n        expr upper(client_ip()) == '10.0.0.1'\n    }\n"
                        "    forward . 10.0.0.1\n}\n",
                        /*ignore_unsupported=*/true);
  ASSERT_FALSE(p.errors.empty());
  EXPECT_NE(p.errors.front().message.find("builtin upper() is not supported"), std::string::npos);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(AclPlanTest, ImportRefusesAnAcl) {
  CorefileResult r = ReadCorefileText(". {\n    acl {\n        block net 192.168.0.0/16\n    }\n"
                                      "    forward . 10.0.0.1\n}\n",
                                      "Corefile");
  ASSERT_TRUE(r.corefile);
  ImportResult i = ImportCorefile(*r.corefile, "cluster1");
  ASSERT_FALSE(i.errors.empty());
  EXPECT_EQ(i.errors.front().ToString().rfind("Corefile:2:5: acl: the mesh YAML cannot carry", 0), 0u)
      << i.errors.front().ToString();
  EXPECT_TRUE(i.yaml.empty());
}

}  // namespace
}  // namespace meshdns
