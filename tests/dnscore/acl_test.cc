#include "dnscore/acl.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace meshdns {
namespace {

IpAddress Ip(const std::string& text) {
  std::array<uint8_t, 16> v6;
  std::array<uint8_t, 4> v4;
  if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) return IpAddress::FromV4(v4);
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), v6.data()), 1) << text;
  return IpAddress::FromV6(v6);
}

Cidr C(const char* text) {
  absl::StatusOr<Cidr> c = Cidr::Parse(text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status();
  return c.ok() ? *c : Cidr{};
}

TEST(IpAddressTest, Ipv4IsHeldAsItsMappedIpv6Form) {
  EXPECT_EQ(IpAddress::FromV4({192, 0, 2, 1}).bytes, Ip("::ffff:192.0.2.1").bytes);
}

TEST(CidrTest, ParsesBothFamiliesIntoTheMappedSpace) {
  EXPECT_EQ(C("10.0.0.0/8").prefix, 96 + 8);
  EXPECT_EQ(C("10.1.2.3").prefix, 128) << "a bare v4 address is a /32";
  EXPECT_EQ(C("0.0.0.0/0").prefix, 96);
  EXPECT_EQ(C("fc00::/7").prefix, 7);
  EXPECT_EQ(C("::1").prefix, 128);
  EXPECT_EQ(C("::/0").prefix, 0);
  EXPECT_EQ(C("10.0.0.0/8").base.bytes, Ip("10.0.0.0").bytes);
}

TEST(CidrTest, RejectsBadAddressesAndPrefixes) {
  for (const char* text : {"", "hello", "10.0.0", "300.0.0.1/8", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/",
                           "10.0.0.0/8x", "10.0.0.0/abc", "::/129", "fc00::/", "[::1]/128", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(Cidr::Parse(text).ok()) << "'" << text << "'";
  }
}

TEST(CidrTest, ContainsComparesOnlyThePrefixBits) {
  const struct {
    const char* cidr;
    const char* address;
    bool inside;
  } cases[] = {
      {"10.0.0.0/8", "10.255.1.2", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"172.16.0.0/12", "172.31.255.255", true},
      {"172.16.0.0/12", "172.32.0.0", false},
      {"192.168.1.128/25", "192.168.1.200", true},
      {"192.168.1.128/25", "192.168.1.127", false},
      {"10.1.2.3", "10.1.2.3", true},
      {"10.1.2.3", "10.1.2.4", false},
      {"0.0.0.0/0", "203.0.113.9", true},
      {"0.0.0.0/0", "2001:db8::1", false},  // "all IPv4" is not "all addresses"
      {"::1/128", "::1", true},
      {"::1/128", "::2", false},
      {"fc00::/7", "fd12:3456::1", true},
      {"fc00::/7", "fe80::1", false},
      {"::/0", "2001:db8::1", true},
      {"10.0.0.0/8", "::a00:1", false},     // an IPv4-compatible (not mapped) v6 address
      {"::ffff:0:0/96", "127.0.0.1", true}, // the mapped range written in v6 covers v4 clients
  };
  for (const auto& c : cases) {
    EXPECT_EQ(C(c.cidr).Contains(Ip(c.address)), c.inside) << c.address << " in " << c.cidr;
  }
}

TEST(AclTest, DenyBeatsAllowAndUnmatchedIsRefused) {
  Acl acl({C("10.0.0.0/8"), C("::1/128")}, {C("10.1.0.0/16")});
  EXPECT_TRUE(acl.Allows(Ip("10.2.3.4")));
  EXPECT_TRUE(acl.Allows(Ip("::1")));
  EXPECT_FALSE(acl.Allows(Ip("10.1.2.3"))) << "denied although allowed too";
  EXPECT_FALSE(acl.Allows(Ip("192.168.1.1"))) << "matched by nothing";
  EXPECT_FALSE(acl.Allows(Ip("2001:db8::1")));
}

TEST(AclTest, EmptyAclRefusesEveryone) {
  EXPECT_FALSE(Acl().Allows(Ip("127.0.0.1")));
  EXPECT_FALSE(Acl({}, {C("10.0.0.0/8")}).Allows(Ip("127.0.0.1")));
}

// --- ZoneAcl: a Corefile block's acl, with the examples of CoreDNS's acl README ---

DnsName N(const char* text) { return *DnsName::FromText(text); }

AclPolicy Policy(AclAction action, std::vector<uint16_t> qtypes, std::vector<const char*> nets) {
  AclPolicy p{.action = action, .qtypes = std::move(qtypes)};
  for (const char* n : nets) p.nets.push_back(C(n));
  return p;
}

ZoneAcl OneRule(std::vector<AclPolicy> policies, std::vector<DnsName> zones = {DnsName()}) {
  return ZoneAcl({AclRule{.zones = std::move(zones), .policies = std::move(policies)}});
}

constexpr uint16_t kA = 1, kAAAA = 28;

TEST(ZoneAclTest, BlockOneTypeFromANetwork) {
  const ZoneAcl acl = OneRule({Policy(AclAction::kBlock, {kA}, {"192.168.0.0/16"})});
  EXPECT_EQ(acl.Decide(N("example.org."), kA, Ip("192.168.1.1")), AclAction::kBlock);
  EXPECT_EQ(acl.Decide(N("example.org."), kAAAA, Ip("192.168.1.1")), AclAction::kAllow) << "another type";
  EXPECT_EQ(acl.Decide(N("example.org."), kA, Ip("10.0.0.1")), AclAction::kAllow) << "unmatched is allowed";
}

TEST(ZoneAclTest, TheFirstMatchingPolicyWins) {
  const ZoneAcl acl = OneRule({Policy(AclAction::kAllow, {}, {"192.168.1.0/24"}),
                               Policy(AclAction::kBlock, {}, {"192.168.0.0/16"})});
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("192.168.1.9")), AclAction::kAllow);
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("192.168.2.9")), AclAction::kBlock);
}

TEST(ZoneAclTest, AllowSomeAndBlockTheRest) {
  const ZoneAcl acl = OneRule({Policy(AclAction::kAllow, {}, {"192.168.0.0/24", "192.168.1.0/24"}),
                               Policy(AclAction::kBlock, {}, {})});
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("192.168.1.200")), AclAction::kAllow);
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("192.168.3.1")), AclAction::kBlock);
  EXPECT_EQ(acl.Decide(N("a."), kAAAA, Ip("2001:db8::1")), AclAction::kBlock) << "no net: every client";
}

TEST(ZoneAclTest, ARulesZonesHoldTheName) {
  const ZoneAcl acl = OneRule({Policy(AclAction::kBlock, {}, {"192.168.1.0/24"})}, {N("a.example.org.")});
  EXPECT_EQ(acl.Decide(N("x.A.example.org."), kA, Ip("192.168.1.1")), AclAction::kBlock);
  EXPECT_EQ(acl.Decide(N("b.example.org."), kA, Ip("192.168.1.1")), AclAction::kAllow);
}

TEST(ZoneAclTest, FilterAndDrop) {
  EXPECT_EQ(OneRule({Policy(AclAction::kFilter, {kA}, {"192.168.0.0/16"})}).Decide(N("a."), kA, Ip("192.168.0.1")),
            AclAction::kFilter);
  EXPECT_EQ(OneRule({Policy(AclAction::kDrop, {}, {"192.0.2.0/24"})}).Decide(N("a."), kA, Ip("192.0.2.1")),
            AclAction::kDrop);
}

// A rule with no matching policy passes the question on; allow ends the checking.
TEST(ZoneAclTest, RulesAreAskedInOrder) {
  const ZoneAcl acl({AclRule{.zones = {DnsName()}, .policies = {Policy(AclAction::kAllow, {}, {"10.0.0.1"})}},
                     AclRule{.zones = {DnsName()}, .policies = {Policy(AclAction::kBlock, {}, {"10.0.0.0/8"})}}});
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("10.0.0.1")), AclAction::kAllow);
  EXPECT_EQ(acl.Decide(N("a."), kA, Ip("10.0.0.2")), AclAction::kBlock);
}

// Go's IP trees keep the families apart: ::/0 holds no IPv4 client, 0.0.0.0/0 no IPv6 one.
TEST(ZoneAclTest, NetworksMatchClientsOfTheirFamilyOnly) {
  EXPECT_EQ(OneRule({Policy(AclAction::kBlock, {}, {"::/0"})}).Decide(N("a."), kA, Ip("192.0.2.1")), AclAction::kAllow);
  EXPECT_EQ(OneRule({Policy(AclAction::kBlock, {}, {"::/0"})}).Decide(N("a."), kA, Ip("2001:db8::1")),
            AclAction::kBlock);
  EXPECT_EQ(OneRule({Policy(AclAction::kBlock, {}, {"0.0.0.0/0"})}).Decide(N("a."), kA, Ip("2001:db8::1")),
            AclAction::kAllow);
}

}  // namespace
}  // namespace meshdns
