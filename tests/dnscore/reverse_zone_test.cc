// Reverse zones of a network key, checked against the cases of CoreDNS's
// plugin/normalize_test.go (TestHostNormalizeExact) and
// plugin/pkg/cidr/cidr_test.go.
#include "dnscore/reverse_zone.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshdns {
namespace {

std::vector<std::string> Zones(absl::string_view network) {
  absl::StatusOr<std::vector<DnsName>> zones = ReverseZones(network);
  EXPECT_TRUE(zones.ok()) << zones.status();
  std::vector<std::string> out;
  if (zones.ok()) {
    for (const DnsName& z : *zones) out.push_back(z.ToText());
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(ReverseZoneTest, APrefixOnALabelBoundaryIsOneZone) {
  EXPECT_EQ(Zones("10.0.0.0/8"), Strings{"10.in-addr.arpa."});
  EXPECT_EQ(Zones("10.0.0.0/16"), Strings{"0.10.in-addr.arpa."});
  EXPECT_EQ(Zones("172.21.104.0/24"), Strings{"104.21.172.in-addr.arpa."});
  EXPECT_EQ(Zones("192.0.2.1/32"), Strings{"1.2.0.192.in-addr.arpa."});
  EXPECT_EQ(Zones("0.0.0.0/0"), Strings{"in-addr.arpa."});
  EXPECT_EQ(Zones("2001:db8::/112"), Strings{"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."});
  EXPECT_EQ(Zones("2001:db8::/32"), Strings{"8.b.d.0.1.0.0.2.ip6.arpa."});
}

TEST(ReverseZoneTest, HostBitsAreMaskedOffAsNetParseCidrDoes) {
  EXPECT_EQ(Zones("192.168.1.1/23"), (Strings{"0.168.192.in-addr.arpa.", "1.168.192.in-addr.arpa."}));
}

TEST(ReverseZoneTest, APrefixOffABoundaryIsEveryZoneOneBoundaryDown) {
  EXPECT_EQ(Zones("10.0.0.0/15"), (Strings{"0.10.in-addr.arpa.", "1.10.in-addr.arpa."}));
  EXPECT_EQ(Zones("10.129.60.0/22"), (Strings{"60.129.10.in-addr.arpa.", "61.129.10.in-addr.arpa.",
                                              "62.129.10.in-addr.arpa.", "63.129.10.in-addr.arpa."}));
  const Strings quarter = Zones("10.9.3.0/18");
  ASSERT_EQ(quarter.size(), 64u);
  EXPECT_EQ(quarter[0], "0.9.10.in-addr.arpa.");
  EXPECT_EQ(quarter[2], "2.9.10.in-addr.arpa.");
  EXPECT_EQ(quarter[63], "63.9.10.in-addr.arpa.");
  const Strings half = Zones("10.0.0.0/25");  // 128 addresses, each its own zone
  ASSERT_EQ(half.size(), 128u);
  EXPECT_EQ(half.front(), "0.0.0.10.in-addr.arpa.");
  EXPECT_EQ(half.back(), "127.0.0.10.in-addr.arpa.");
  EXPECT_EQ(Zones("2001:db8::/31"), (Strings{"8.b.d.0.1.0.0.2.ip6.arpa.", "9.b.d.0.1.0.0.2.ip6.arpa."}));
  const Strings v6 = Zones("2001:db8::/29");
  ASSERT_EQ(v6.size(), 8u);
  EXPECT_EQ(v6.front(), "8.b.d.0.1.0.0.2.ip6.arpa.");
  EXPECT_EQ(v6.back(), "f.b.d.0.1.0.0.2.ip6.arpa.");
  EXPECT_EQ(Zones("2001:db8::/115"),
            (Strings{"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."}));
}

TEST(ReverseZoneTest, NamesWithASlashAreNotNetworks) {
  EXPECT_FALSE(LooksLikeNetwork("32/27.104.21.172.in-addr.arpa"));  // RFC 2317
  EXPECT_FALSE(LooksLikeNetwork("example.org"));
  EXPECT_FALSE(LooksLikeNetwork("10.0.0.0/33"));
  EXPECT_FALSE(LooksLikeNetwork("10.0.0.0/"));
  EXPECT_FALSE(LooksLikeNetwork("10.0.0.0/+8"));
  EXPECT_TRUE(LooksLikeNetwork("10.0.0.0/8"));
  EXPECT_TRUE(LooksLikeNetwork("fd00::/64"));
}

TEST(ReverseZoneTest, WhatCoreDnsRefusesIsAnError) {
  // plugin/normalize.go: an IPv6 network written from "::" is an invalid CIDR.
  EXPECT_EQ(ReverseZones("::/0").status().message(), "invalid CIDR ::/0");
  EXPECT_EQ(ReverseZones("0::1/64").status().message(), "invalid CIDR 0::1/64");
  EXPECT_FALSE(ReverseZones("10.0.0.0/40").ok());
}

}  // namespace
}  // namespace meshdns
