#include "dnscore/message_writer.h"

#include <gtest/gtest.h>

#include <vector>

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

DnsName ReadBack(const std::vector<uint8_t>& msg, size_t at) {
  WireReader r(msg, at);
  DnsName name;
  EXPECT_TRUE(r.Name(name));
  return name;
}

TEST(MessageWriterTest, RepeatedSuffixesBecomePointersAndReadBackExactly) {
  std::vector<uint8_t> out(kHeaderSize);
  MessageWriter w(out);
  w.Name(N("web.default.svc.cluster.local"), /*compress=*/true);
  const size_t second = out.size();
  w.Name(N("pod.default.svc.cluster.local"), /*compress=*/true);
  EXPECT_EQ(out.size() - second, 4u + 2u) << "one label, then a pointer to default.svc.cluster.local";
  const size_t third = out.size();
  w.Name(N("web.default.svc.cluster.local"), /*compress=*/true);
  EXPECT_EQ(out.size() - third, 2u) << "a whole repeated name is a single pointer";
  EXPECT_EQ(ReadBack(out, second).ToText(), "pod.default.svc.cluster.local.");
  EXPECT_EQ(ReadBack(out, third).ToText(), "web.default.svc.cluster.local.");
  // A suffix of a name that itself ended in a pointer.
  const size_t fourth = out.size();
  w.Name(N("x.pod.default.svc.cluster.local"), /*compress=*/true);
  EXPECT_EQ(out.size() - fourth, 2u + 2u);
  EXPECT_EQ(ReadBack(out, fourth).ToText(), "x.pod.default.svc.cluster.local.");
}

TEST(MessageWriterTest, CaseIsKeptSoOnlyIdenticalBytesAreShared) {
  std::vector<uint8_t> out(kHeaderSize);
  MessageWriter w(out);
  w.Name(N("Web.Default.svc.cluster.local"), true);
  const size_t second = out.size();
  w.Name(N("web.default.svc.cluster.local"), true);
  EXPECT_EQ(ReadBack(out, second).Wire().size(), N("web.default.svc.cluster.local").WireSize());
  const DnsName read = ReadBack(out, second);
  const DnsName expected = N("web.default.svc.cluster.local");
  const std::span<const uint8_t> got = read.Wire();
  const std::span<const uint8_t> want = expected.Wire();
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin(), want.end())) << "lower case kept, not the earlier case";
  EXPECT_EQ(out.size() - second, 1u + 3u + 1u + 7u + 2u) << "web.default written out, svc.cluster.local shared";
}

TEST(MessageWriterTest, UncompressedNamesAreWrittenWholeButStillServeAsTargets) {
  std::vector<uint8_t> out(kHeaderSize);
  MessageWriter w(out);
  w.Name(N("a.example.com"), /*compress=*/false);
  const size_t second = out.size();
  w.Name(N("a.example.com"), /*compress=*/false);
  EXPECT_EQ(out.size() - second, N("a.example.com").WireSize());
  const size_t third = out.size();
  w.Name(N("b.example.com"), /*compress=*/true);
  EXPECT_EQ(out.size() - third, 2u + 2u);
  EXPECT_EQ(ReadBack(out, third).ToText(), "b.example.com.");
  const size_t root = out.size();
  w.Name(DnsName(), true);
  EXPECT_EQ(out.size() - root, 1u) << "the root is never a pointer";
}

}  // namespace
}  // namespace meshdns
