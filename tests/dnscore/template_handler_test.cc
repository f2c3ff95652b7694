#include "dnscore/template_handler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dnscore/wire.h"

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

TemplateRule Rule(uint16_t qclass, uint16_t qtype, std::vector<std::string> zones, std::vector<std::string> match,
                  std::vector<std::string> answer) {
  TemplateRule r;
  r.qclass = qclass;
  r.qtype = qtype;
  for (const std::string& z : zones) r.zones.push_back(N(z));
  r.match = std::move(match);
  r.answer = std::move(answer);
  return r;
}

TemplateHandler Handler(std::vector<TemplateRule> rules) {
  absl::StatusOr<TemplateHandler> h = TemplateHandler::Compile(std::move(rules));
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *std::move(h) : TemplateHandler();
}

std::vector<std::string> Texts(const std::vector<RrPtr>& records) {
  std::vector<std::string> out;
  for (const RrPtr& rr : records) {
    char* text = ldns_rr2str(rr.get());
    std::string line(text);
    free(text);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  return out;
}

const std::string kSeedMatch =
    R"(^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$)";
const std::string kSeedAnswer =
    "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local";

TEST(TemplateHandlerTest, TheSeedTemplateAnswersACnameToChase) {
  TemplateHandler h = Handler({Rule(kClassANY, kTypeANY, {"clusterset.local"}, {kSeedMatch}, {kSeedAnswer})});
  TemplateOutcome out = h.Answer(N("Broker-0.Cluster2.Kafka.NS.svc.clusterset.local"), kTypeA, kClassIN);
  ASSERT_EQ(out.kind, TemplateOutcome::Kind::kAnswer);
  EXPECT_EQ(Texts(out.answer), (std::vector<std::string>{"broker-0.cluster2.kafka.ns.svc.clusterset.local.\t60\tIN\t"
                                                         "CNAME\tbroker-0.kafka.ns.cluster2.svc.cluster.local."}))
      << "the regex saw the lower-cased name";
  ASSERT_TRUE(out.chase.has_value());
  EXPECT_EQ(out.chase->ToText(), "broker-0.kafka.ns.cluster2.svc.cluster.local.");
  EXPECT_EQ(out.cluster, "cluster2") << "what contract rule 3 checks against the mesh";
  EXPECT_FALSE(h.Answer(N("broker-0.cluster2.kafka.ns.svc.clusterset.local"), kTypeCNAME, kClassIN).chase)
      << "a CNAME question gets the CNAME alone";
  EXPECT_TRUE(h.Answer(N("broker-0.cluster2.kafka.ns.svc.clusterset.local"), kTypeSRV, kClassIN).chase)
      << "meshdns chases every type but CNAME and ANY";
}

TEST(TemplateHandlerTest, InZoneWithoutAMatchIsServfailUnlessItFallsThrough) {
  TemplateRule strict = Rule(kClassIN, kTypeANY, {"clusterset.local"}, {kSeedMatch}, {kSeedAnswer});
  EXPECT_EQ(Handler({strict}).Answer(N("web.ns.svc.clusterset.local"), kTypeA, kClassIN).kind,
            TemplateOutcome::Kind::kServFail);
  TemplateRule falls = strict;
  falls.fallthrough = std::vector<DnsName>{};
  EXPECT_EQ(Handler({falls}).Answer(N("web.ns.svc.clusterset.local"), kTypeA, kClassIN).kind,
            TemplateOutcome::Kind::kNext);
  TemplateRule falls_elsewhere = strict;
  falls_elsewhere.fallthrough = std::vector<DnsName>{N("other.local")};
  EXPECT_EQ(Handler({falls_elsewhere}).Answer(N("web.ns.svc.clusterset.local"), kTypeA, kClassIN).kind,
            TemplateOutcome::Kind::kServFail)
      << "fallthrough limited to other zones";
}

TEST(TemplateHandlerTest, ZoneClassAndTypeMismatchesAlwaysPassOn) {
  TemplateHandler h = Handler({Rule(kClassIN, kTypeA, {"example.org"}, {"^nomatch$"}, {})});
  EXPECT_EQ(h.Answer(N("x.example.com"), kTypeA, kClassIN).kind, TemplateOutcome::Kind::kNext) << "zone";
  EXPECT_EQ(h.Answer(N("x.example.org"), kTypeAAAA, kClassIN).kind, TemplateOutcome::Kind::kNext) << "type";
  EXPECT_EQ(h.Answer(N("x.example.org"), kTypeA, 3).kind, TemplateOutcome::Kind::kNext) << "class";
  EXPECT_EQ(h.Answer(N("x.example.org"), kTypeA, kClassIN).kind, TemplateOutcome::Kind::kServFail)
      << "in zone, class and type, no regex match, no fallthrough";
}

TEST(TemplateHandlerTest, SectionsRcodeAndTheFieldsOfAnAnyQuestion) {
  TemplateRule r = Rule(kClassIN, kTypeA, {"example.org"}, {"^(?P<x>[a-z]+)\\.example\\.org\\.$"}, {});
  r.rcode = kNxDomain;
  r.additional = {"{{ .Group.x }}.extra.example.org. 10 IN TXT \"{{ .Type }} {{ .Class }} {{ .Zone }}\""};
  r.authority = {"example.org. 60 IN SOA ns.example.org. host.example.org. 1 2 3 4 60"};
  TemplateOutcome out = Handler({r}).Answer(N("gone.example.org"), kTypeANY, kClassIN);
  ASSERT_EQ(out.kind, TemplateOutcome::Kind::kAnswer);
  EXPECT_EQ(out.rcode, kNxDomain);
  EXPECT_TRUE(out.answer.empty());
  EXPECT_EQ(Texts(out.additional),
            (std::vector<std::string>{"gone.extra.example.org.\t10\tIN\tTXT\t\"A IN example.org.\""}))
      << "an ANY question shows the template's type";
  EXPECT_EQ(out.authority.size(), 1u);
}

// CoreDNS's README example "Resolve .invalid as NXDOMAIN" with its ederror
// (plugin/template/README.md, v1.14.7): the answer carries EDE 21 and its text.
TEST(TemplateHandlerTest, EderrorComesWithTheAnswerAsAnEdnsOption) {
  TemplateRule r = Rule(kClassANY, kTypeANY, {"invalid"}, {}, {});
  r.rcode = kNxDomain;
  r.authority = {"invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"};
  r.ederror = ExtendedError{21, "Blocked according to RFC2606"};
  TemplateOutcome out = Handler({r}).Answer(N("example.invalid"), kTypeA, kClassIN);
  ASSERT_EQ(out.kind, TemplateOutcome::Kind::kAnswer);
  EXPECT_EQ(out.rcode, kNxDomain);
  ASSERT_NE(out.ede, nullptr);
  std::vector<uint8_t> want = {0, 15, 0, 30, 0, 21};
  for (char c : std::string("Blocked according to RFC2606")) want.push_back(static_cast<uint8_t>(c));
  EXPECT_EQ(*out.ede, want);

  r.ederror->reason.clear();
  out = Handler({r}).Answer(N("example.invalid"), kTypeA, kClassIN);
  ASSERT_NE(out.ede, nullptr);
  EXPECT_EQ(*out.ede, (std::vector<uint8_t>{0, 15, 0, 2, 0, 21})) << "no reason: INFO-CODE alone";

  r.ederror.reset();
  EXPECT_EQ(Handler({r}).Answer(N("example.invalid"), kTypeA, kClassIN).ede, nullptr);

  r.ederror = ExtendedError{21, std::string(kMaxExtendedErrorText + 1, 'x')};
  EXPECT_FALSE(TemplateHandler::Compile({r}).ok()) << "a reason too long to leave room for the answer";
}

TEST(TemplateHandlerTest, TemplatesAreTriedInOrderAndRcodeServfailWritesNothing) {
  TemplateRule first = Rule(kClassIN, kTypeA, {"example.org"}, {"^a\\."}, {"{{ .Name }} 5 IN A 192.0.2.1"});
  first.fallthrough = std::vector<DnsName>{};
  TemplateRule second = Rule(kClassIN, kTypeA, {"example.org"}, {"^b\\."}, {});
  second.rcode = kServFail;
  TemplateHandler h = Handler({first, second});
  EXPECT_EQ(Texts(h.Answer(N("a.example.org"), kTypeA, kClassIN).answer),
            (std::vector<std::string>{"a.example.org.\t5\tIN\tA\t192.0.2.1"}));
  EXPECT_EQ(h.Answer(N("b.example.org"), kTypeA, kClassIN).kind, TemplateOutcome::Kind::kServFail);
}

TEST(TemplateHandlerTest, NoMatchLineMeansEveryName) {
  TemplateHandler h = Handler({Rule(kClassIN, kTypeA, {"example.org"}, {}, {"{{ .Name }} 5 IN A 192.0.2.9"})});
  EXPECT_EQ(h.Answer(N("anything.example.org"), kTypeA, kClassIN).answer.size(), 1u);
}

TEST(TemplateHandlerTest, ARecordThatDoesNotParseIsServfail) {
  TemplateHandler h = Handler({Rule(kClassIN, kTypeA, {"example.org"}, {}, {"{{ .Name }} 5 IN A not-an-address"})});
  EXPECT_EQ(h.Answer(N("x.example.org"), kTypeA, kClassIN).kind, TemplateOutcome::Kind::kServFail);
}

}  // namespace
}  // namespace meshdns
