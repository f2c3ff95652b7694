#include "dnscore/dns_name.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

std::string Repeat(char c, size_t n) { return std::string(n, c); }

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
  EXPECT_TRUE(N("anything.at.all").IsSubdomainOf(DnsName()));  // everything is under the root
}

TEST(DnsNameTest, WireFormIsLengthPrefixedLabels) {
  DnsName n = N("ab.c");
  std::vector<uint8_t> want = {2, 'a', 'b', 1, 'c', 0};
  EXPECT_EQ(std::vector<uint8_t>(n.Wire().begin(), n.Wire().end()), want);
  EXPECT_EQ(n.WireSize(), want.size());
  EXPECT_EQ(n.Label(0), "ab");
  EXPECT_EQ(n.Label(1), "c");
  EXPECT_TRUE(DnsName().IsRoot());
  EXPECT_EQ(DnsName().WireSize(), 1u);
}

// Each malformed input must be refused rather than silently truncated.
TEST(DnsNameTest, FromTextRejectsMalformedNames) {
  const std::string label63 = Repeat('a', 63);
  const struct {
    std::string text;
    const char* why;
  } cases[] = {
      {"", "empty text"},
      {"a..b", "empty label in the middle"},
      {".a", "empty first label"},
      {"a.b..", "empty last label"},
      {Repeat('a', 64) + ".com", "label of 64 bytes"},
      {"x." + Repeat('a', 64), "long label at the end"},
      // 63+1 + 63+1 + 63+1 + 62+1 + root = 256 bytes of wire: one too many.
      {label63 + "." + label63 + "." + label63 + "." + Repeat('b', 62), "name of 256 bytes"},
      {"abc\\", "dangling escape"},
      {"a\\256b", "escape above 255"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(DnsName::FromText(c.text).ok()) << c.why << ": '" << c.text << "'";
  }
}

TEST(DnsNameTest, FromTextAcceptsTheLimits) {
  const std::string label63 = Repeat('a', 63);
  auto longest_label = DnsName::FromText(label63 + ".com");
  ASSERT_TRUE(longest_label.ok());
  EXPECT_EQ(longest_label->Label(0).size(), 63u);
  // 3 * 64 + 62 + root = 255 bytes: exactly the maximum.
  auto longest_name = DnsName::FromText(label63 + "." + label63 + "." + label63 + "." + Repeat('b', 61));
  ASSERT_TRUE(longest_name.ok());
  EXPECT_EQ(longest_name->WireSize(), 255u);
}

TEST(DnsNameTest, EscapesBecomeLabelBytes) {
  DnsName dotted = N("a\\.b.c");  // one label "a.b", then "c"
  ASSERT_EQ(dotted.LabelCount(), 2u);
  EXPECT_EQ(dotted.Label(0), "a.b");
  EXPECT_EQ(dotted.ToText(), "a\\.b.c.");  // and back again

  DnsName decimal = N("\\065bc.\\000x");
  ASSERT_EQ(decimal.LabelCount(), 2u);
  EXPECT_EQ(decimal.Label(0), "Abc");
  EXPECT_EQ(decimal.Label(1), std::string("\0x", 2));
  EXPECT_EQ(decimal.ToText(), "Abc.\\000x.");

  EXPECT_EQ(N("a\\\\b").Label(0), "a\\b");
}

TEST(DnsNameTest, AppendLabelRefusesEmptyAndOverlongLabels) {
  DnsName n;
  EXPECT_FALSE(n.AppendLabel(absl::string_view()));
  EXPECT_FALSE(n.AppendLabel(Repeat('x', 64)));
  EXPECT_TRUE(n.IsRoot());  // failed appends leave the name untouched
  EXPECT_TRUE(n.AppendLabel("www"));
  EXPECT_TRUE(n.AppendLabel("example"));
  EXPECT_EQ(n.ToText(), "www.example.");
}

TEST(DnsNameTest, EqualsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(N("WWW.Example.COM").Equals(N("www.example.com")));
  EXPECT_TRUE(DnsName().Equals(N(".")));
  EXPECT_FALSE(N("www.example.com").Equals(N("www.example.org")));
  EXPECT_FALSE(N("www.example.com").Equals(N("example.com")));
  EXPECT_FALSE(N("ab.c").Equals(N("a.bc")));  // same letters, different labels
  // Only A-Z fold: '[' (0x5b) is not the upper case of '{' (0x7b).
  EXPECT_FALSE(N("a[").Equals(N("a{")));
}

TEST(DnsNameTest, SuffixDropsLeadingLabels) {
  DnsName n = N("x.Cluster2.svc.cluster.local");
  EXPECT_EQ(n.Suffix(0).ToText(), "x.Cluster2.svc.cluster.local.");
  EXPECT_EQ(n.Suffix(2).ToText(), "svc.cluster.local.");
  EXPECT_TRUE(n.Suffix(5).IsRoot());
}

TEST(DnsNameTest, ReplaceSuffixKeepsHeadAndAppendsTail) {
  DnsName out;
  ASSERT_TRUE(N("A.b.cluster2.svc.cluster.local").ReplaceSuffix(2, N("svc.cluster.local"), out));
  EXPECT_EQ(out.ToText(), "A.b.svc.cluster.local.");
  ASSERT_TRUE(N("x.svc.cluster.local").ReplaceSuffix(1, N("c1.svc.cluster.local"), out));
  EXPECT_EQ(out.ToText(), "x.c1.svc.cluster.local.");
  ASSERT_TRUE(N("x.y").ReplaceSuffix(0, N("z"), out));
  EXPECT_EQ(out.ToText(), "z.");
}

TEST(DnsNameTest, ReplaceSuffixFailsWhenTheResultIsTooLong) {
  const std::string label63 = Repeat('a', 63);
  DnsName head = N((label63 + "." + label63 + "." + label63 + ".x").c_str());
  DnsName out = N("untouched");
  // Three 63-byte labels (193 bytes of wire) plus a 63-byte label and "com": 261 bytes.
  EXPECT_FALSE(head.ReplaceSuffix(3, N((label63 + ".com").c_str()), out));
  EXPECT_EQ(out.ToText(), "untouched.");
}

TEST(DnsNameTest, LoweredFoldsCaseAndLeavesTheOriginal) {
  DnsName mixed = N("WwW.ExAmPlE.CoM");
  EXPECT_EQ(mixed.Lowered().ToText(), "www.example.com.");
  EXPECT_EQ(mixed.ToText(), "WwW.ExAmPlE.CoM.");
  EXPECT_EQ(mixed.Lowered().LabelCount(), 3u);
  EXPECT_EQ(mixed.Lowered().Label(1), "example");
}

TEST(DnsNameTest, WriteLowerWireFoldsLettersButNotLengthsOrOtherBytes) {
  DnsName n = N("Ab-Z9.\\090");  // "\090" is 'Z'
  std::vector<uint8_t> out(n.WireSize(), 0xee);
  n.WriteLowerWire(out.data());
  std::vector<uint8_t> want = {5, 'a', 'b', '-', 'z', '9', 1, 'z', 0};
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace meshdns
