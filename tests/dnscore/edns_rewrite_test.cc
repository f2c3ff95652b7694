#include "dnscore/edns_rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshdns {
namespace {

std::vector<uint8_t> B(absl::string_view text) { return {text.begin(), text.end()}; }

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return IpAddress::FromV4({a, b, c, d}); }

// plugin/test's ResponseWriter: client 10.240.0.1:40212, server 127.0.0.1:53.
EdnsRequest Client() {
  return EdnsRequest{.qname = "example.com.", .qtype = 1, .has_client = true, .client_ip = V4(10, 240, 0, 1),
                     .client_port = 40212, .server_ip = V4(127, 0, 0, 1), .server_port = 53};
}

// ResponseWriter6: client fe80::42:ff:feca:4c65.
EdnsRequest Client6() {
  EdnsRequest r = Client();
  r.client_ip = IpAddress::FromV6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0xff, 0xfe, 0xca, 0x4c, 0x65});
  return r;
}

Edns0Rule Local(Edns0Rule::Action action, std::vector<uint8_t> data, uint16_t code = 0xffee) {
  return Edns0Rule{.kind = Edns0Rule::Kind::kLocal, .action = action, .code = code, .data = std::move(data)};
}

Edns0Rule Variable(Edns0Rule::Action action, Edns0Rule::Variable v) {
  return Edns0Rule{.kind = Edns0Rule::Kind::kLocal, .action = action, .code = 0xffee, .variable = v};
}

Edns0Rule Subnet(Edns0Rule::Action action, uint8_t v4, uint8_t v6) {
  return Edns0Rule{.kind = Edns0Rule::Kind::kSubnet, .action = action, .v4_bits = v4, .v6_bits = v6};
}

Edns0Rule Nsid(Edns0Rule::Action action) { return Edns0Rule{.kind = Edns0Rule::Kind::kNsid, .action = action}; }

using A = Edns0Rule::Action;
using V = Edns0Rule::Variable;

TEST(EdnsOptionsTest, ParsesAndEncodesRdata) {
  const std::vector<uint8_t> rdata = {0xff, 0xee, 0, 3, 'a', 'b', 'c', 0, 3, 0, 0};
  EdnsOptions options;
  ASSERT_TRUE(ParseEdnsOptions(rdata, options));
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0], (EdnsOption{0xffee, B("abc")}));
  EXPECT_EQ(options[1], (EdnsOption{kEdnsNsid, {}}));
  std::vector<uint8_t> back;
  EncodeEdnsOptions(options, back);
  EXPECT_EQ(back, rdata);

  EXPECT_TRUE(ParseEdnsOptions({}, options));
  EXPECT_TRUE(options.empty());
  const std::vector<uint8_t> short_data = {0xff, 0xee, 0, 4, 'a'};
  EXPECT_FALSE(ParseEdnsOptions(short_data, options));
  EXPECT_TRUE(options.empty());
  const std::vector<uint8_t> short_header = {0xff, 0xee, 0};
  EXPECT_FALSE(ParseEdnsOptions(short_header, options));
}

// rewrite_test.go TestRewriteEDNS0Local and TestEdns0MultiRule, rule by rule.
TEST(Edns0RuleTest, LocalSetAppendReplace) {
  EdnsOptions none;
  EXPECT_TRUE(Local(A::kSet, {0xab, 0xcd, 0xef}).Apply(Client(), none));
  EXPECT_EQ(none, (EdnsOptions{{0xffee, {0xab, 0xcd, 0xef}}}));

  EdnsOptions appended;
  EXPECT_TRUE(Local(A::kAppend, B("abcdefghijklmnop")).Apply(Client(), appended));
  EXPECT_EQ(appended, (EdnsOptions{{0xffee, B("abcdefghijklmnop")}}));

  EdnsOptions replaced;
  EXPECT_FALSE(Local(A::kReplace, B("abcdef")).Apply(Client(), replaced)) << "nothing to replace: ignored";
  EXPECT_TRUE(replaced.empty());

  EdnsOptions client = {{0xffee, B("foobar")}};
  EXPECT_TRUE(Local(A::kReplace, B("abcdef")).Apply(Client(), client));
  EXPECT_EQ(client, (EdnsOptions{{0xffee, B("abcdef")}}));
  EXPECT_TRUE(Local(A::kSet, B("fedcba")).Apply(Client(), client));
  EXPECT_EQ(client, (EdnsOptions{{0xffee, B("fedcba")}}));
}

TEST(Edns0RuleTest, LocalAppendAddsASecondOptionAsEdns0GoDoes) {
  EdnsOptions client = {{0xffee, B("foobar")}};
  EXPECT_TRUE(Local(A::kAppend, B("abc")).Apply(Client(), client));
  EXPECT_EQ(client, (EdnsOptions{{0xffee, B("foobar")}, {0xffee, B("abc")}}));
  // A variable's append finds the option and does nothing.
  EdnsOptions other = {{0xffee, B("foobar")}};
  EXPECT_FALSE(Variable(A::kAppend, V::kQname).Apply(Client(), other));
  EXPECT_EQ(other, (EdnsOptions{{0xffee, B("foobar")}}));
}

TEST(Edns0RuleTest, LocalNeverMatchesAnOptionMiekgDnsReadsAsItsOwnType) {
  // Code 8 is an EDNS0_SUBNET to miekg/dns, never an EDNS0_LOCAL: `local set 8` adds one.
  EdnsOptions client = {{kEdnsSubnet, {0, 1, 0, 0}}};
  EXPECT_TRUE(Local(A::kSet, B("x"), kEdnsSubnet).Apply(Client(), client));
  EXPECT_EQ(client.size(), 2u);
}

TEST(Edns0RuleTest, Unset) {
  EdnsOptions client = {{0xffee, B("foobar")}, {kEdnsNsid, {}}};
  EXPECT_TRUE(Local(A::kUnset, {}, 0xffed).Apply(Client(), client)) << "unset is always applied";
  EXPECT_EQ(client.size(), 2u);
  EXPECT_TRUE(Subnet(A::kUnset, 0, 0).Apply(Client(), client));
  EXPECT_EQ(client.size(), 2u);
  EXPECT_TRUE(Nsid(A::kUnset).Apply(Client(), client));
  EXPECT_EQ(client, (EdnsOptions{{0xffee, B("foobar")}}));
  EXPECT_TRUE(Local(A::kUnset, {}).Apply(Client(), client));
  EXPECT_TRUE(client.empty());
}

TEST(Edns0RuleTest, Nsid) {
  EdnsOptions none;
  EXPECT_FALSE(Nsid(A::kReplace).Apply(Client(), none));
  EXPECT_TRUE(Nsid(A::kSet).Apply(Client(), none));
  EXPECT_EQ(none, (EdnsOptions{{kEdnsNsid, {}}}));
  EdnsOptions filled = {{kEdnsNsid, B("abc")}};
  EXPECT_TRUE(Nsid(A::kReplace).Apply(Client(), filled));
  EXPECT_EQ(filled, (EdnsOptions{{kEdnsNsid, {}}})) << "emptied for the request";
}

// rewrite_test.go TestRewriteEDNS0LocalVariable.
TEST(Edns0RuleTest, Variables) {
  auto value = [](V v, const EdnsRequest& r) {
    EdnsOptions o;
    if (!Variable(A::kSet, v).Apply(r, o)) return std::vector<uint8_t>{'-'};
    return o.at(0).data;
  };
  EXPECT_EQ(value(V::kQname, Client()), B("example.com."));
  EXPECT_EQ(value(V::kQtype, Client()), (std::vector<uint8_t>{0x00, 0x01}));
  EXPECT_EQ(value(V::kClientIp, Client()), (std::vector<uint8_t>{0x0a, 0xf0, 0x00, 0x01}));
  EXPECT_EQ(value(V::kClientPort, Client()), (std::vector<uint8_t>{0x9d, 0x14}));
  EXPECT_EQ(value(V::kProtocol, Client()), B("udp"));
  EdnsRequest tcp = Client();
  tcp.tcp = true;
  EXPECT_EQ(value(V::kProtocol, tcp), B("tcp"));
  EXPECT_EQ(value(V::kServerPort, Client()), (std::vector<uint8_t>{0x00, 0x35}));
  EXPECT_EQ(value(V::kServerIp, Client()), (std::vector<uint8_t>{0x7f, 0x00, 0x00, 0x01}));
  EXPECT_EQ(value(V::kMetadata, Client()), B("-")) << "no metadata plugin: ignored";
  EXPECT_EQ(value(V::kClientIp, Client6()).size(), 16u);
  EXPECT_EQ(value(V::kServerIp, Client6()).size(), 16u) << "in the client's family, as ipToWire";
  EXPECT_EQ(value(V::kClientIp, EdnsRequest{}), B("-")) << "the server's own question has no client";
}

// rewrite_test.go TestRewriteEDNS0Subnet.
TEST(Edns0RuleTest, SubnetFromTheClientAddress) {
  auto ecs = [](uint8_t v4, uint8_t v6, const EdnsRequest& r) {
    EdnsOptions o;
    EXPECT_TRUE(Subnet(A::kSet, v4, v6).Apply(r, o));
    return o.at(0).data;
  };
  // Family, source prefix, scope, then only the prefix's bytes (RFC 7871 6).
  EXPECT_EQ(ecs(24, 56, Client()), (std::vector<uint8_t>{0, 1, 24, 0, 0x0a, 0xf0, 0x00}));
  EXPECT_EQ(ecs(32, 56, Client()), (std::vector<uint8_t>{0, 1, 32, 0, 0x0a, 0xf0, 0x00, 0x01}));
  EXPECT_EQ(ecs(0, 56, Client()), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(ecs(20, 56, Client()), (std::vector<uint8_t>{0, 1, 20, 0, 0x0a, 0xf0, 0x00})) << "masked";
  EXPECT_EQ(ecs(24, 56, Client6()), (std::vector<uint8_t>{0, 2, 56, 0, 0xfe, 0x80, 0, 0, 0, 0, 0}));
  EXPECT_EQ(ecs(24, 128, Client6()), (std::vector<uint8_t>{0, 2, 128, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x42, 0,
                                                           0xff, 0xfe, 0xca, 0x4c, 0x65}));
  EXPECT_EQ(ecs(24, 0, Client6()), (std::vector<uint8_t>{0, 2, 0, 0}));

  EdnsOptions none;
  EXPECT_FALSE(Subnet(A::kSet, 24, 56).Apply(EdnsRequest{}, none)) << "no client, no family";
  EdnsOptions client = {{kEdnsSubnet, {0, 1, 0, 0}}};
  EXPECT_FALSE(Subnet(A::kAppend, 24, 56).Apply(Client(), client)) << "one is there: append ignored";
  EXPECT_TRUE(Subnet(A::kReplace, 32, 56).Apply(Client(), client));
  EXPECT_EQ(client, (EdnsOptions{{kEdnsSubnet, {0, 1, 32, 0, 0x0a, 0xf0, 0x00, 0x01}}}));
}

TEST(Edns0RuleTest, VariableNames) {
  Edns0Rule::Variable v;
  EXPECT_TRUE(ParseEdns0Variable("{qname}", v));
  EXPECT_EQ(v, V::kQname);
  EXPECT_TRUE(ParseEdns0Variable("{server_port}", v));
  EXPECT_EQ(v, V::kServerPort);
  EXPECT_TRUE(ParseEdns0Variable("{some-plugin/some-label}", v));
  EXPECT_EQ(v, V::kMetadata);
  EXPECT_FALSE(ParseEdns0Variable("{dummy}", v));
  EXPECT_FALSE(ParseEdns0Variable("{/label}", v));
  EXPECT_FALSE(ParseEdns0Variable("{plugin/}", v));
  EXPECT_FALSE(ParseEdns0Variable("qname", v));
}

}  // namespace
}  // namespace meshdns
