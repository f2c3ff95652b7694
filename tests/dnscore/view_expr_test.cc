// ViewExpression: CoreDNS's view expressions (expr-lang with expression.DefaultEnv),
// the cases of plugin/view/*_test.go and plugin/pkg/expression/expression_test.go,
// the README's examples, and what meshdns refuses at load.
#include "dnscore/view_expr.h"

#include <string>

#include "gtest/gtest.h"

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return IpAddress::FromV4({a, b, c, d}); }

struct Query {
  DnsName name = N("Example.COM.");
  ViewQuery q;
  Query() {
    q.name = &name;
    q.qtype = 1;
    q.qclass = 1;
    q.client = V4(10, 0, 0, 7);
    q.client_port = 40000;
    q.server = V4(127, 0, 0, 1);
    q.server_port = 1053;
    q.id = 4242;
    q.size = 29;
  }
};

bool Eval(const std::string& text, const ViewQuery& q) {
  ViewExpression::Error error;
  std::optional<ViewExpression> e = ViewExpression::Compile(text, error);
  EXPECT_TRUE(e.has_value()) << text << ": " << error.offset << ": " << error.reason;
  return e && e->Matches(q);
}

ViewExpression::Error Refused(const std::string& text) {
  ViewExpression::Error error;
  EXPECT_FALSE(ViewExpression::Compile(text, error).has_value()) << text;
  return error;
}

// view_test.go TestFilter_ErrorPaths (the query is example.com. A).
TEST(ViewExpression, FilterErrorPaths) {
  Query x;
  EXPECT_TRUE(Eval("name() == 'example.com.'", x.q)) << "the name is lower-cased, with its dot";
  EXPECT_FALSE(Eval("name() == 'notexample.com.'", x.q));
  EXPECT_FALSE(Eval("1", x.q)) << "anything but a boolean true is false";
  EXPECT_FALSE(Eval("incidr('invalid', '1.2.3.0/24') || true", x.q)) << "an error makes the whole view false";
}

// setup_test.go TestSetup's expressions.
TEST(ViewExpression, SetupExpressions) {
  Query x;
  EXPECT_FALSE(Eval("incidr(client_ip(), '10.0.1.0/24')", x.q));
  EXPECT_TRUE(Eval("incidr(client_ip(), '10.0.0.0/24')", x.q));
  EXPECT_FALSE(Refused("invalid expression").reason.empty());
}

// expression_test.go TestInCidr.
TEST(ViewExpression, InCidr) {
  Query x;
  EXPECT_TRUE(Eval("incidr('1.2.3.4', '1.2.0.0/16')", x.q));
  EXPECT_FALSE(Eval("incidr('10.2.3.4', '1.2.0.0/16')", x.q));
  EXPECT_TRUE(Eval("incidr('1:2::3:4', '1:2::/64')", x.q));
  EXPECT_FALSE(Eval("incidr('A:2::3:4', '1:2::/64')", x.q));
  // Constants that cannot be read: an error at each query, so never true (as CoreDNS).
  EXPECT_FALSE(Eval("incidr('1.2.3.4', 'invalid')", x.q));
  EXPECT_FALSE(Eval("incidr('invalid', '1.2.0.0/16')", x.q));
  EXPECT_FALSE(Eval("!incidr('invalid', '1.2.0.0/16')", x.q)) << "the error, not its negation";
  EXPECT_FALSE(Eval("incidr(client_ip(), '10.0.0.7')", x.q)) << "a CIDR needs its prefix length";
  // Computed at run time: an error is false.
  EXPECT_FALSE(Eval("incidr(name(), '1.2.0.0/16')", x.q));
  EXPECT_TRUE(Eval("incidr(client_ip(), server_ip() == '127.0.0.1' ? '10.0.0.0/8' : '0.0.0.0/32')", x.q));
  // Families as Go's IPNet.Contains: IPv4 only in IPv4 networks.
  EXPECT_FALSE(Eval("incidr('1.2.3.4', '::/0')", x.q));
  EXPECT_TRUE(Eval("incidr('::ffff:1.2.3.4', '1.2.3.0/24')", x.q));
}

// expression_test.go TestMetadata: without the metadata plugin (which
// meshdns does not run) every label is empty.
TEST(ViewExpression, MetadataIsEmpty) {
  Query x;
  EXPECT_TRUE(Eval("metadata('view/name') == ''", x.q));
  EXPECT_FALSE(Eval("metadata('view/name') == 'test-view-meta2'", x.q));
}

TEST(ViewExpression, QueryFunctions) {
  Query x;
  x.q.qtype = 28;
  EXPECT_TRUE(Eval("type() == 'AAAA'", x.q));
  EXPECT_TRUE(Eval("type() in ['A', 'AAAA']", x.q));
  EXPECT_FALSE(Eval("type() not in ['A', 'AAAA']", x.q));
  x.q.qtype = 65280;
  EXPECT_TRUE(Eval("type() == 'TYPE65280'", x.q));
  EXPECT_TRUE(Eval("class() == 'IN'", x.q));
  x.q.qclass = 3;
  EXPECT_TRUE(Eval("class() == 'CH'", x.q));
  EXPECT_TRUE(Eval("client_ip() == '10.0.0.7' && port() == '40000'", x.q));
  EXPECT_TRUE(Eval("server_ip() == '127.0.0.1' && server_port() == '1053'", x.q));
  EXPECT_TRUE(Eval("proto() == 'udp' && bufsize() == 512 && !do()", x.q));
  x.q.edns = true;
  x.q.edns_size = 1232;
  x.q.dnssec_ok = true;
  EXPECT_TRUE(Eval("bufsize() == 1232 && do()", x.q));
  x.q.tcp = true;
  EXPECT_TRUE(Eval("proto() == 'tcp' && bufsize() == 65535", x.q));
  EXPECT_TRUE(Eval("id() == 4242 && opcode() == 0 && size() == 29 && size() > 12", x.q));
  x.q.client = IpAddress::FromV6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_TRUE(Eval("client_ip() == '2001:db8::1'", x.q)) << "no brackets, as request.IP gives it";
  EXPECT_TRUE(Eval("incidr(client_ip(), '2001:0DB8::/32')", x.q));
}

// The README's examples.
TEST(ViewExpression, ReadmeExamples) {
  Query x;
  DnsName abc = N("abc.x.y.example.com");
  x.q.name = &abc;
  EXPECT_TRUE(Eval(R"(name() matches '^abc\\..*\\.example\\.com\\.$')", x.q));
  DnsName other = N("abcd.example.com");
  x.q.name = &other;
  EXPECT_FALSE(Eval(R"(name() matches '^abc\\..*\\.example\\.com\\.$')", x.q));
  DnsName ex = N("example.com");
  x.q.name = &ex;
  EXPECT_TRUE(Eval("(type() == 'A' && name() == 'example.com.') || client_ip() == '1.2.3.4'", x.q));
  x.q.qtype = 16;
  EXPECT_FALSE(Eval("(type() == 'A' && name() == 'example.com.') || client_ip() == '1.2.3.4'", x.q));
  x.q.client = V4(1, 2, 3, 4);
  EXPECT_TRUE(Eval("(type() == 'A' && name() == 'example.com.') || client_ip() == '1.2.3.4'", x.q));
}

TEST(ViewExpression, Operators) {
  Query x;
  EXPECT_TRUE(Eval("name() endsWith '.com.' and name() startsWith 'exa'", x.q));
  EXPECT_TRUE(Eval("name() contains 'ample' && name() not contains 'zzz'", x.q));
  EXPECT_TRUE(Eval("not (name() == 'a.') and !false", x.q));
  EXPECT_TRUE(Eval("name() not matches '^www'", x.q));
  EXPECT_TRUE(Eval("1 + 2 * 3 == 7 && 7 % 4 == 3 && 2 ** 3 == 8 && 7 / 2 == 3.5 && -1 < 0", x.q));
  EXPECT_TRUE(Eval("1 == 1.0 && 1 < 1.5 && 0x10 == 16 && 1_000 == 1000", x.q));
  EXPECT_TRUE(Eval("'abc' < 'abd' && 'b' >= 'a'", x.q));
  EXPECT_TRUE(Eval("true || incidr('bad', '1.0.0.0/8')", x.q)) << "|| stops at true, as expr-lang";
  EXPECT_FALSE(Eval("false && incidr('bad', '1.0.0.0/8')", x.q));
  EXPECT_TRUE(Eval("false || true && true", x.q)) << "and binds tighter than or";
  EXPECT_FALSE(Eval("id() % 0 == 0", x.q)) << "a run-time error";
  EXPECT_TRUE(Eval("\"a\\x41\\u00e9\" == 'aA\u00e9' && `\\d` == '\\\\d' && '\\101' == 'A'", x.q));
  EXPECT_TRUE(Eval("size() > 10 ? true : false", x.q));
}

TEST(ViewExpression, RefusedWithPlaceAndReason) {
  auto check = [](const std::string& text, size_t offset, const std::string& reason_part) {
    ViewExpression::Error e = Refused(text);
    EXPECT_EQ(e.offset, offset) << text << ": " << e.reason;
    EXPECT_NE(e.reason.find(reason_part), std::string::npos) << text << ": " << e.reason;
  };
  check("name() == 1", 7, "mismatched types string and int");
  check("!name() == 'a.'", 0, "mismatched type string") ;  // ! binds tighter than ==
  check("type() == 'A' and 1", 14, "mismatched types bool and int");
  check("lower(name()) == 'a.'", 0, "builtin lower()");
  check("len(name()) > 3", 0, "builtin len()");
  check("foo() == 1", 0, "unknown func foo");
  check("name == 'a.'", 0, "is a function");
  check("name('x')", 0, "too many arguments");
  check("incidr(client_ip())", 0, "not enough arguments");
  check("name() matches client_ip()", 7, "constant pattern");
  check("name() matches '('", 7, "error parsing regexp");
  check("name() + 'x' == 'a'", 7, "joining strings");
  check("name() | lower()", 7, "'|'");
  check("1..3", 1, "'..'");
  check("name().x", 6, "member access");
  check("type() in 'AAAA'", 7, "needs an array");
  check("name() == nil", 10, "nil");
  check("name() == 'a", 10, "not terminated");
  check("(name() == 'a.'", 15, "expected ')'");
  check("name() == 'a.' extra", 15, "unexpected token 'extra'");
  check("", 0, "empty");
  check("name() == 'a' @", 14, "unrecognized character");
  check("let x = 1; x", 0, "'let'");
  check("'\\q' == 'a'", 1, "invalid char escape");
}

}  // namespace
}  // namespace meshdns
