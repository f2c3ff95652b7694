// `view` in a Corefile: setup_test.go's cases, the repeated server keys it
// makes legal (core/dnsserver/register.go), and the block each query goes to
// (server.go's dispatch, test/view_test.go's scenarios).
#include <gtest/gtest.h>

#include <string>

#include "config/corefile_runtime.h"
#include "dnscore/question.h"

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

CorefileLoad Compile(const std::string& text) {
  CorefileResult r = ReadCorefileText(text, "Corefile");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.corefile) return {};
  return CompileCorefile(*r.corefile, {});
}

std::string Errors(const CorefileLoad& c) {
  std::string out;
  for (const ConfigError& e : c.errors) out += e.ToString() + "\n";
  return out;
}

// setup_test.go TestSetup.
TEST(CorefileViewTest, Setup) {
  auto block = [](const std::string& view) { return ".:53 {\n" + view + "\n  whoami\n}\n"; };
  const CorefileLoad one = Compile(block("view example {\n expr name() == 'example.com.'\n}"));
  ASSERT_TRUE(one.config) << Errors(one);
  ASSERT_TRUE(one.serving.program.blocks()[0].view);
  EXPECT_EQ(one.serving.program.blocks()[0].view->name, "example");
  EXPECT_EQ(one.serving.program.blocks()[0].view->exprs.size(), 1u);
  EXPECT_TRUE(Compile(block("view example {\n expr incidr(client_ip(), '10.0.0.0/24')\n}")).config);
  const CorefileLoad two =
      Compile(block("view example {\n expr name() == 'example.com.'\n expr name() == 'example2.com.'\n}"));
  ASSERT_TRUE(two.config) << Errors(two);
  EXPECT_EQ(two.serving.program.blocks()[0].view->exprs.size(), 2u);
  EXPECT_EQ(Errors(Compile(block("view"))), "Corefile:2:1: view takes exactly one NAME\n");
  EXPECT_EQ(Errors(Compile(block("view example {\n expr invalid expression\n}"))),
            "Corefile:3:7: view: expr: unknown name invalid\n");
  EXPECT_EQ(Errors(Compile(block("view x {\n foo bar\n}"))), "Corefile:3:2: view: unknown property 'foo'\n");
  EXPECT_EQ(Errors(Compile(block("view a { }\nview b { }"))),
            "Corefile:3:1: view can only be used once per server block\n");
}

TEST(CorefileViewTest, ExpressionProblemsPointAtTheirWord) {
  EXPECT_EQ(Errors(Compile(".:53 {\n  view v {\n    expr type() == 'A' and   name() + 1\n  }\n  whoami\n}\n")),
            "Corefile:3:37: view: expr: invalid operation: + (mismatched types string and int)\n");
  EXPECT_EQ(Errors(Compile(".:53 {\n  view v {\n    expr lower(name()) == 'a.'\n  }\n  whoami\n}\n")),
            "Corefile:3:10: view: expr: expr-lang's builtin lower() is not supported by meshdns's view\n");
}

TEST(CorefileViewTest, RepeatedKeysNeedAView) {
  // Blocks with a view share their zone and port with any others.
  EXPECT_TRUE(Compile("a:53 {\n view x\n whoami\n}\na:53 {\n view y\n whoami\n}\na:53 {\n whoami\n}\n").config);
  EXPECT_TRUE(Compile("a:53 {\n whoami\n}\na:53 {\n view y\n whoami\n}\n").config);
  // Two without one are refused, as in CoreDNS, views in between or not.
  EXPECT_EQ(Errors(Compile("a:53 {\n whoami\n}\na:53 {\n view y\n whoami\n}\na:53 {\n whoami\n}\n")),
            "Corefile:8:1: zone a.:53 is already defined at line 1 (only blocks with a view may repeat it)\n");
  // Bound and unbound on one port: refused for a view block too (register.go checks it).
  EXPECT_NE(Errors(Compile("a:53 {\n bind 127.0.0.1\n whoami\n}\na:53 {\n view y\n whoami\n}\n")).find("bind both"),
            std::string::npos);
}

struct Asker {
  const Program& program;
  const Block* Ask(const char* name, uint16_t qtype, IpAddress client = IpAddress::FromV4({127, 0, 0, 1})) {
    Question q{.name = N(name), .qtype = qtype, .qclass = 1};
    q.client.ip = client;
    const ViewQuery facts = q.ForView();
    return program.Dispatch(q.name, 0, &facts);
  }
};

// test/view_test.go TestViewServerBlockOrdering: file order, first match.
TEST(CorefileViewTest, BlocksAreTriedInFileOrder) {
  const CorefileLoad c = Compile(R"(order-test:53 {
  view v-a {
    expr type() == 'A'
  }
  hosts {
    1.2.3.4 test.order-test
  }
}
order-test:53 {
  view v-aaaa {
    expr type() == 'AAAA'
  }
  hosts {
    1:2:3::4 test.order-test
  }
}
order-test:53 {
  hosts {
    5.6.7.8 test.order-test
  }
}
order-test2:53 {
  hosts {
    5.6.7.8 test.order-test2
  }
}
order-test2:53 {
  view v-a {
    expr type() == 'A'
  }
  hosts {
    1.2.3.4 test.order-test2
  }
}
order-test4:53 {
  view v-a {
    expr type() == 'A'
  }
  hosts {
    1.2.3.4 test.order-test4
  }
}
)");
  ASSERT_TRUE(c.config) << Errors(c);
  const Program& p = c.serving.program;
  const std::vector<Block>& b = p.blocks();
  Asker ask{p};
  EXPECT_EQ(ask.Ask("test.order-test", 1), &b[0]);
  EXPECT_EQ(ask.Ask("test.order-test", 28), &b[1]);
  EXPECT_EQ(ask.Ask("test.order-test", 15), &b[2]);
  EXPECT_EQ(ask.Ask("test.order-test2", 1), &b[3]) << "an unfiltered block shadows the views after it";
  EXPECT_EQ(ask.Ask("test.order-test4", 1), &b[5]);
  EXPECT_EQ(ask.Ask("test.order-test4", 15), nullptr) << "no block: REFUSED";
  EXPECT_EQ(p.RouteOf(&b[1]), 2) << "routes are part of the cache key";
  EXPECT_EQ(p.RouteOf(nullptr), 0);
}

// server.go: when none of a zone's blocks takes the query, the shorter zones' do.
TEST(CorefileViewTest, NoViewOfTheZoneFallsToAShorterZone) {
  const CorefileLoad c = Compile(R"(example.org {
  view inside {
    expr incidr(client_ip(), '10.0.0.0/8')
  }
  whoami
}
. {
  whoami
}
)");
  ASSERT_TRUE(c.config) << Errors(c);
  const Program& p = c.serving.program;
  Asker ask{p};
  EXPECT_EQ(ask.Ask("www.example.org", 1, IpAddress::FromV4({10, 1, 2, 3})), &p.blocks()[0]);
  EXPECT_EQ(ask.Ask("www.example.org", 1, IpAddress::FromV4({192, 0, 2, 1})), &p.blocks()[1]);
}

}  // namespace
}  // namespace meshdns
