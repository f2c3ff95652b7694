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
