// The replies of local, any, chaos and whoami, read back as a client sees
// them. Cases follow CoreDNS's plugin/{local,any,chaos,whoami}/*_test.go and
// the plugins' code (records, TTLs, flags, rcodes).
#include "dnscore/builtin_answers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

#include "dnscore/wire.h"
#include "tests/dnscore/message_text.h"

namespace meshdns {
namespace {

using testing::MessageText;
using S = std::vector<std::string>;

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

MessageText Read(const ReplyWire& wire) {
  EXPECT_TRUE(wire.ok()) << wire.status();
  return wire.ok() ? testing::ReadMessage(*wire) : MessageText{};
}

constexpr char kSoaRdata[] = "localhost. root.localhost. 1 0 0 0 604800";

std::string Soa(absl::string_view owner) { return absl::StrCat(owner, " 604800 IN SOA ", kSoaRdata); }

// --- local (plugin/local/local_test.go) ------------------------------------------

TEST(LocalZonesTest, HoldsTheFourZonesAndLocalhostNames) {
  const LocalZones local;
  for (const char* name : {"localhost.", "LocalHost.", "a.localhost.", "localhost.example.org.", "0.in-addr.arpa.",
                           "127.in-addr.arpa.", "9.9.255.in-addr.arpa.", "1.0.0.127.in-addr.arpa."}) {
    EXPECT_TRUE(local.Holds(N(name))) << name;
  }
  for (const char* name : {"example.org.", "localhostx.", "in-addr.arpa.", "1.in-addr.arpa.", "10.in-addr.arpa.", "."}) {
    EXPECT_FALSE(local.Holds(N(name))) << name;
  }
  EXPECT_FALSE(LocalZones(/*localhost_prefix=*/false).Holds(N("localhost.example.org."))) << "localhost_prefix off";
  EXPECT_TRUE(LocalZones(/*localhost_prefix=*/false).Holds(N("a.localhost.")));
}

TEST(LocalZonesTest, LocalhostApex) {
  const LocalZones local;
  MessageText a = Read(local.Answer(N("localHOst."), kTypeA, kClassIN));
  EXPECT_EQ(a.rcode, kNoError);
  EXPECT_FALSE(a.aa) << "CoreDNS's local does not set AA";
  EXPECT_EQ(a.answer, (S{"localHOst. 604800 IN A 127.0.0.1"}));
  EXPECT_EQ(Read(local.Answer(N("localhost."), kTypeAAAA, kClassIN)).answer, (S{"localhost. 604800 IN AAAA ::1"}));
  EXPECT_EQ(Read(local.Answer(N("localhost."), kTypeNS, kClassIN)).answer, (S{"localhost. 604800 IN NS localhost."}));
  EXPECT_EQ(Read(local.Answer(N("localhost."), kTypeSOA, kClassIN)).answer, (S{Soa("localhost.")}));
  MessageText mx = Read(local.Answer(N("localhost."), kTypeMX, kClassIN));
  EXPECT_EQ(mx.rcode, kNoError);
  EXPECT_TRUE(mx.answer.empty());
  EXPECT_EQ(mx.authority, (S{Soa("localhost.")}));
}

TEST(LocalZonesTest, NamesBelowLocalhostAndTheLegacyPrefix) {
  const LocalZones local;
  EXPECT_EQ(Read(local.Answer(N("a.localhost."), kTypeA, kClassIN)).answer, (S{"a.localhost. 604800 IN A 127.0.0.1"}));
  EXPECT_EQ(Read(local.Answer(N("a.localhost."), kTypeAAAA, kClassIN)).answer, (S{"a.localhost. 604800 IN AAAA ::1"}));
  MessageText mx = Read(local.Answer(N("a.localhost."), kTypeMX, kClassIN));
  EXPECT_EQ(mx.rcode, kNoError);
  EXPECT_EQ(mx.authority, (S{Soa("a.localhost.")})) << "the SOA is owned by the name itself";
  EXPECT_EQ(Read(local.Answer(N("localhost.example.org."), kTypeA, kClassIN)).answer,
            (S{"localhost.example.org. 604800 IN A 127.0.0.1"}));
}

TEST(LocalZonesTest, ReverseZones) {
  const LocalZones local;
  MessageText apex = Read(local.Answer(N("127.in-addr.arpa."), kTypeA, kClassIN));
  EXPECT_EQ(apex.rcode, kNoError);
  EXPECT_TRUE(apex.answer.empty());
  EXPECT_EQ(apex.authority, (S{Soa("127.in-addr.arpa.")}));
  EXPECT_EQ(Read(local.Answer(N("0.in-addr.arpa."), kTypeSOA, kClassIN)).answer, (S{Soa("0.in-addr.arpa.")}));
  EXPECT_EQ(Read(local.Answer(N("1.0.0.127.in-addr.arpa."), kTypePTR, kClassIN)).answer,
            (S{"1.0.0.127.in-addr.arpa. 604800 IN PTR localhost."}));
  MessageText mx = Read(local.Answer(N("1.0.0.127.in-addr.arpa."), kTypeMX, kClassIN));
  EXPECT_EQ(mx.rcode, kNoError);
  EXPECT_EQ(mx.authority, (S{Soa("127.in-addr.arpa.")}));
  MessageText other = Read(local.Answer(N("2.0.0.127.IN-ADDR.arpa."), kTypePTR, kClassIN));
  EXPECT_EQ(other.rcode, kNxDomain);
  EXPECT_EQ(other.authority, (S{Soa("127.IN-ADDR.arpa.")})) << "the zone in the client's case";
  EXPECT_EQ(Read(local.Answer(N("1.255.in-addr.arpa."), kTypeA, kClassIN)).rcode, kNxDomain);
}

// --- any (plugin/any/any_test.go) -------------------------------------------------

TEST(AnyAnswerTest, Hinfo) {
  MessageText m = Read(AnyAnswer(N("example.org."), kClassIN));
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_FALSE(m.aa);
  EXPECT_EQ(m.question, (S{"example.org. IN ANY"}));
  EXPECT_EQ(m.answer, (S{"example.org. 8482 IN HINFO \"ANY obsoleted\" \"See RFC 8482\""}));
}

// --- chaos (plugin/chaos/chaos_test.go) ---------------------------------------------

TEST(ChaosAnswersTest, HoldsCaseInsensitiveChTxtOnly) {
  const ChaosAnswers chaos("v", {}, "host");
  for (const char* name : {"version.bind.", "VERSION.bind.", "version.server.", "authors.bind.", "hostname.bind.",
                           "id.server."}) {
    EXPECT_TRUE(chaos.Holds(N(name), kTypeTXT, kClassCH)) << name;
  }
  EXPECT_FALSE(chaos.Holds(N("version.bind."), kTypeTXT, kClassIN));
  EXPECT_FALSE(chaos.Holds(N("version.bind."), kTypeA, kClassCH));
  EXPECT_FALSE(chaos.Holds(N("example.bind."), kTypeTXT, kClassCH));
  EXPECT_FALSE(chaos.Holds(N("x.version.bind."), kTypeTXT, kClassCH));
}

TEST(ChaosAnswersTest, VersionAndHostname) {
  const ChaosAnswers chaos("CoreDNS-001", {}, "myhost");
  MessageText v = Read(chaos.Answer(N("version.bind."), kClassCH, 1));
  EXPECT_EQ(v.rcode, kNoError);
  EXPECT_FALSE(v.aa);
  EXPECT_EQ(v.answer, (S{"version.bind. 0 CH TXT \"CoreDNS-001\""}));
  EXPECT_EQ(Read(chaos.Answer(N("version.server."), kClassCH, 1)).answer, (S{"version.server. 0 CH TXT \"CoreDNS-001\""}));
  EXPECT_EQ(Read(chaos.Answer(N("hostname.bind."), kClassCH, 1)).answer, (S{"hostname.bind. 0 CH TXT \"myhost\""}));
  EXPECT_EQ(Read(chaos.Answer(N("id.server."), kClassCH, 1)).answer, (S{"id.server. 0 CH TXT \"myhost\""}));
}

TEST(ChaosAnswersTest, AuthorsInAShuffledOrder) {
  const ChaosAnswers chaos("v", {"a", "b", "c", "d"}, "h");
  std::set<S> orders;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    S answer = Read(chaos.Answer(N("authors.bind."), kClassCH, seed)).answer;
    orders.insert(answer);
    std::sort(answer.begin(), answer.end());
    EXPECT_EQ(answer, (S{"authors.bind. 0 CH TXT \"a\"", "authors.bind. 0 CH TXT \"b\"", "authors.bind. 0 CH TXT \"c\"",
                         "authors.bind. 0 CH TXT \"d\""}));
  }
  EXPECT_GT(orders.size(), 1u);
  EXPECT_TRUE(Read(ChaosAnswers("v", {}, "h").Answer(N("authors.bind."), kClassCH, 0)).answer.empty());
}

TEST(ChaosAnswersTest, StringsAreTrimmedTo255Bytes) {
  const ChaosAnswers chaos(std::string(300, 'v'), {}, "h");
  EXPECT_EQ(chaos.version().size(), 255u);
  EXPECT_EQ(Read(chaos.Answer(N("version.bind."), kClassCH, 0)).answer,
            (S{absl::StrCat("version.bind. 0 CH TXT \"", std::string(255, 'v'), "\"")}));
}

// --- whoami (plugin/whoami/whoami_test.go) --------------------------------------------

TEST(WhoamiAnswerTest, IPv4OverUdp) {
  const ClientAddress client{.ip = IpAddress::FromV4({10, 240, 0, 1}), .port = 40212, .tcp = false};
  MessageText m = Read(WhoamiAnswer(N("Example.ORG."), kTypeA, kClassIN, client));
  EXPECT_EQ(m.rcode, kNoError);
  EXPECT_TRUE(m.aa);
  EXPECT_TRUE(m.answer.empty());
  EXPECT_EQ(m.additional, (S{"Example.ORG. 0 IN A 10.240.0.1", "_udp.Example.ORG. 0 IN SRV 0 0 40212 ."}));
}

TEST(WhoamiAnswerTest, IPv6OverTcpAndTheRoot) {
  std::array<uint8_t, 16> v6{0x20, 0x03};
  v6[15] = 1;
  const ClientAddress client{.ip = IpAddress::FromV6(v6), .port = 53, .tcp = true};
  MessageText m = Read(WhoamiAnswer(N("."), kTypeAAAA, kClassIN, client));
  EXPECT_EQ(m.additional, (S{". 0 IN AAAA 2003::1", "_tcp. 0 IN SRV 0 0 53 ."}));
}

// --- a block's set --------------------------------------------------------------------

TEST(BuiltinAnswersTest, LocalComesBeforeAnyAndChaos) {
  BuiltinAnswers b{.local = LocalZones(), .any = true, .chaos = ChaosAnswers("v", {}, "h")};
  EXPECT_FALSE(b.AnswersFirst(N("example.org."), kTypeA, kClassIN));
  EXPECT_TRUE(b.AnswersFirst(N("example.org."), kTypeANY, kClassIN));
  EXPECT_TRUE(b.AnswersFirst(N("version.bind."), kTypeTXT, kClassCH));
  MessageText local_any = Read(b.AnswerFirst(N("localhost."), kTypeANY, kClassIN, 0));
  EXPECT_EQ(local_any.authority, (S{Soa("localhost.")})) << "local answers ANY before any does";
  EXPECT_EQ(Read(b.AnswerFirst(N("example.org."), kTypeANY, kClassIN, 0)).answer.size(), 1u);
  EXPECT_FALSE(BuiltinAnswers{}.AnswersFirst(N("localhost."), kTypeANY, kClassIN));
}

}  // namespace
}  // namespace meshdns
