#include "dnscore/hosts_table.h"

#include <gtest/gtest.h>

#include "dnscore/wire.h"

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

std::vector<std::string> Texts(const HostsOutcome& out) {
  std::vector<std::string> lines;
  for (const RrPtr& rr : out.answer) {
    char* text = ldns_rr2str(rr.get());
    std::string line(text);
    free(text);
    line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

HostsTable Table(std::optional<std::vector<DnsName>> fallthrough = std::nullopt, bool no_reverse = false) {
  std::vector<HostsEntry> entries = HostsTable::ParseFile(
      "# comment line\n"
      "10.0.0.1   web.example.org web   # trailing comment\n"
      "fd00::1    web.example.org\n"
      "10.0.0.2\tdb.example.org\n"
      "not-an-ip  broken.example.org\n");
  return HostsTable(HostsOptions{{N("example.org"), N(".")}, 3600, no_reverse, std::move(fallthrough)}, entries);
}

TEST(HostsTableTest, AddressesByFamily) {
  HostsTable t = Table();
  EXPECT_EQ(Texts(t.Lookup(N("Web.Example.org"), kTypeA)),
            (std::vector<std::string>{"web.example.org.\t3600\tIN\tA\t10.0.0.1"}));
  EXPECT_EQ(Texts(t.Lookup(N("web.example.org"), kTypeAAAA)),
            (std::vector<std::string>{"web.example.org.\t3600\tIN\tAAAA\tfd00::1"}));
  EXPECT_EQ(Texts(t.Lookup(N("web"), kTypeA)), (std::vector<std::string>{"web.\t3600\tIN\tA\t10.0.0.1"}));
}

// CoreDNS's hosts_test.go hostsExample writes "::FFFF:10.0.0.2 example.com" and
// expects an A record and the in-addr.arpa PTR, as Go's net.ParseIP reads it.
TEST(HostsTableTest, AnIpv4MappedAddressIsIpv4) {
  HostsTable t(HostsOptions{{N(".")}, 3600, false, std::nullopt},
               HostsTable::ParseFile("::FFFF:10.0.0.2 example.com\n"));
  EXPECT_EQ(Texts(t.Lookup(N("example.com"), kTypeA)),
            (std::vector<std::string>{"example.com.\t3600\tIN\tA\t10.0.0.2"}));
  EXPECT_TRUE(t.Lookup(N("example.com"), kTypeAAAA).answer.empty());
  EXPECT_EQ(Texts(t.Lookup(N("2.0.0.10.in-addr.arpa"), kTypePTR)),
            (std::vector<std::string>{"2.0.0.10.in-addr.arpa.\t3600\tIN\tPTR\texample.com."}));
}

TEST(HostsTableTest, AKnownNameWithoutTheTypeIsNodata) {
  HostsOutcome out = Table().Lookup(N("db.example.org"), kTypeAAAA);
  EXPECT_EQ(out.kind, HostsOutcome::Kind::kAnswer);
  EXPECT_TRUE(out.answer.empty());
  EXPECT_EQ(Table().Lookup(N("db.example.org"), kTypeMX).kind, HostsOutcome::Kind::kAnswer);
}

TEST(HostsTableTest, AnUnknownNameIsServfailUnlessItFallsThrough) {
  EXPECT_EQ(Table().Lookup(N("nope.example.org"), kTypeA).kind, HostsOutcome::Kind::kServFail);
  EXPECT_EQ(Table(std::vector<DnsName>{}).Lookup(N("nope.example.org"), kTypeA).kind, HostsOutcome::Kind::kNext);
  EXPECT_EQ(Table(std::vector<DnsName>{N("other.org")}).Lookup(N("nope.example.org"), kTypeA).kind,
            HostsOutcome::Kind::kServFail);
  EXPECT_EQ(Table().Lookup(N("broken.example.org"), kTypeA).kind, HostsOutcome::Kind::kServFail)
      << "a line whose address does not parse is skipped";
}

TEST(HostsTableTest, ReverseNamesUnlessNoReverse) {
  EXPECT_EQ(Texts(Table().Lookup(N("1.0.0.10.in-addr.arpa"), kTypePTR)),
            (std::vector<std::string>{"1.0.0.10.in-addr.arpa.\t3600\tIN\tPTR\tweb.example.org.",
                                      "1.0.0.10.in-addr.arpa.\t3600\tIN\tPTR\tweb."}));
  EXPECT_EQ(Texts(Table().Lookup(
                N("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"), kTypePTR)),
            (std::vector<std::string>{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\t3600\t"
                                      "IN\tPTR\tweb.example.org."}));
  EXPECT_EQ(Table().Lookup(N("9.9.9.10.in-addr.arpa"), kTypePTR).kind, HostsOutcome::Kind::kNext);
  EXPECT_EQ(Table(std::nullopt, /*no_reverse=*/true).Lookup(N("1.0.0.10.in-addr.arpa"), kTypePTR).kind,
            HostsOutcome::Kind::kNext);
}

TEST(HostsTableTest, NamesOutsideTheZonesPassOn) {
  HostsTable t(HostsOptions{{N("example.org")}}, {HostsEntry{"10.0.0.1", {N("web.example.com")}}});
  EXPECT_EQ(t.Lookup(N("web.example.com"), kTypeA).kind, HostsOutcome::Kind::kNext);
}

}  // namespace
}  // namespace meshdns
