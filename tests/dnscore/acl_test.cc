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

}  // namespace
}  // namespace meshdns
