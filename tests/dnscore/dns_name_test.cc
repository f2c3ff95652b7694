#include "dnscore/dns_name.h"

#include <gtest/gtest.h>

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

TEST(DnsNameTest, ParsesTextWithOrWithoutTrailingDot) {
  EXPECT_EQ(N("a.b.c").ToText(), "a.b.c.");
  EXPECT_EQ(N("a.b.c.").ToText(), "a.b.c.");
  EXPECT_EQ(N(".").ToText(), ".");
  EXPECT_EQ(N("a.b.c").LabelCount(), 3u);
}

TEST(DnsNameTest, SubdomainIsLabelAwareAndCaseInsensitive) {
  EXPECT_TRUE(N("X.Cluster1.svc.cluster.local").IsSubdomainOf(N("cluster1.SVC.cluster.local")));
  EXPECT_TRUE(N("svc.cluster.local").IsSubdomainOf(N("svc.cluster.local")));
  EXPECT_FALSE(N("xsvc.cluster.local").IsSubdomainOf(N("svc.cluster.local")));
  EXPECT_FALSE(N("cluster.local").IsSubdomainOf(N("svc.cluster.local")));
}

}  // namespace
}  // namespace meshdns
