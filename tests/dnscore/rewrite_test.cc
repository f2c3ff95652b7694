#include "dnscore/rewrite.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/corefile_plugins.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/message.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

// The rules of `rewrite` lines, read as a Corefile block would be.
Rewriter Rules(const std::string& lines) {
  CorefileResult r = ReadCorefileText(". {\n" + lines + "\n}\n", "Corefile");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.corefile) return {};
  CorefilePlan plan = PlanCorefile(*r.corefile);
  for (const ConfigError& e : plan.errors) ADD_FAILURE() << e.ToString();
  return Rewriter(plan.servers.empty() ? std::vector<RewriteRule>{} : plan.servers[0].rewrites);
}

std::string Rewritten(const Rewriter& r, absl::string_view qname) {
  absl::StatusOr<RewriteOutcome> out = r.Apply(N(qname));
  return out.ok() ? out->name.ToText() : std::string(out.status().message());
}

std::vector<uint8_t> Reply(const DnsName& qname, uint16_t qtype, const std::vector<std::string>& answer,
                           const std::vector<std::string>& authority = {}) {
  std::vector<RrPtr> an, ns;
  for (const std::string& text : answer) an.push_back(*ParseRecord(text));
  for (const std::string& text : authority) ns.push_back(*ParseRecord(text));
  return *BuildAuthoritativeReply(qname, qtype, kClassIN, kNoError, an, ns);
}

// Question and records of a message, one line each, as ldns prints them.
std::vector<std::string> Lines(std::span<const uint8_t> wire) {
  PktPtr pkt = *ParseMessage(wire);
  std::vector<std::string> out;
  for (ldns_rr_list* list : {ldns_pkt_question(pkt.get()), ldns_pkt_answer(pkt.get()), ldns_pkt_authority(pkt.get()),
                             ldns_pkt_additional(pkt.get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
      std::string line(text);
      free(text);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      out.push_back(line);
    }
  }
  return out;
}

// Asks `client` through `rules`; the chain answers `answer` for the rewritten
// name; returns what the client gets back.
std::vector<std::string> RoundTrip(const Rewriter& rules, absl::string_view client, uint16_t qtype,
                                   const std::vector<std::string>& answer,
                                   const std::vector<std::string>& authority = {}) {
  absl::StatusOr<RewriteOutcome> out = rules.Apply(N(client));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  RenameScratch scratch;
  absl::StatusOr<std::vector<uint8_t>> back =
      Rewriter::Revert(*out, Reply(out->name, qtype, answer, authority), N(client), scratch);
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? Lines(*back) : std::vector<std::string>{};
}

TEST(RewriteTest, MatchTypesAsCoreDnsNormalisesThem) {
  EXPECT_EQ(Rewritten(Rules("rewrite name Foo.Example.org bar.example.org"), "foo.example.org"), "bar.example.org.");
  EXPECT_EQ(Rewritten(Rules("rewrite name exact foo.example.org bar.example.org"), "x.foo.example.org"),
            "x.foo.example.org.")
      << "exact does not take subdomains";
  // prefix and suffix compare plain strings with a trailing dot appended.
  EXPECT_EQ(Rewritten(Rules("rewrite name prefix foo bar"), "foo.x.nl"), "bar.x.nl.");
  EXPECT_EQ(Rewritten(Rules("rewrite name suffix .clusterset.local .svc.cluster.local"), "a.b.clusterset.local"),
            "a.b.svc.cluster.local.");
  // CoreDNS's own test: every occurrence replaced.
  EXPECT_EQ(Rewritten(Rules("rewrite name substring from.substring to"), "from.substring.nl"), "to.nl.");
  EXPECT_EQ(Rewritten(Rules(R"(rewrite name regex (.*)\.cluster2\.svc\.cluster\.local {1}.svc.cluster.local)"),
                      "Web.NS.cluster2.svc.cluster.local"),
            "web.ns.svc.cluster.local.")
      << "regexes see the lower-cased name";
}

TEST(RewriteTest, StopEndsTheListContinueHandsTheNewNameOn) {
  Rewriter stop = Rules("rewrite stop name exact a.example b.example\nrewrite name exact b.example c.example");
  EXPECT_EQ(Rewritten(stop, "a.example"), "b.example.");
  Rewriter go_on = Rules("rewrite continue name exact a.example b.example\nrewrite name exact b.example c.example");
  EXPECT_EQ(Rewritten(go_on, "a.example"), "c.example.");
  EXPECT_EQ(Rewritten(go_on, "b.example"), "c.example.") << "a rule that does not match never stops";
}

TEST(RewriteTest, ANameThatCannotExistIsAnError) {
  Rewriter r = Rules(R"(rewrite name regex ^(.*)$ {1}{1}{1}{1}{1}{1}{1}.example)");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("abcdefghij"));
  EXPECT_FALSE(out.ok()) << "a 70-character label";
}

TEST(RewriteTest, TheSeedsSubstringRuleMapsEveryNameOfThePeerBack) {
  Rewriter r = Rules("rewrite stop {\n name substring cluster2.svc.cluster.local svc.cluster.local\n answer auto\n}");
  std::vector<std::string> got =
      RoundTrip(r, "_kafka._tcp.Kafka.NS.Cluster2.svc.cluster.local", kTypeSRV,
                {"_kafka._tcp.kafka.ns.svc.cluster.local. 5 IN SRV 0 100 9092 broker-0.kafka.ns.svc.cluster.local."},
                {"cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"});
  EXPECT_EQ(got, (std::vector<std::string>{
                     "_kafka._tcp.Kafka.NS.Cluster2.svc.cluster.local.\tIN\tSRV",
                     "_kafka._tcp.kafka.ns.cluster2.svc.cluster.local.\t5\tIN\tSRV\t0 100 9092 "
                     "broker-0.kafka.ns.cluster2.svc.cluster.local.",
                     "cluster.local.\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"}))
      << "the SRV target is a name other than the question's, and still goes back into cluster2 (contract rule 1);"
         " names outside svc.cluster.local stay";
}

TEST(RewriteTest, SubstringInTheMiddleMapsOnlyTheQuestionsName) {
  Rewriter r = Rules("rewrite name substring from.substring to answer auto");
  std::vector<std::string> got = RoundTrip(r, "a.from.substring.nl", kTypeCNAME,
                                           {"a.to.nl. 5 IN CNAME b.to.nl.", "x.a.to.nl. 5 IN A 192.0.2.1"});
  EXPECT_EQ(got, (std::vector<std::string>{"a.from.substring.nl.\tIN\tCNAME",
                                           "a.from.substring.nl.\t5\tIN\tCNAME\tb.to.nl.",
                                           "x.a.from.substring.nl.\t5\tIN\tA\t192.0.2.1"}));
}

TEST(RewriteTest, WithoutAnswerRulesOnlyTheQuestionIsRestored) {
  Rewriter r = Rules("rewrite name suffix .a.example .b.example");
  std::vector<std::string> got = RoundTrip(r, "x.a.example", kTypeA, {"x.b.example. 5 IN A 192.0.2.1"});
  EXPECT_EQ(got, (std::vector<std::string>{"x.a.example.\tIN\tA", "x.b.example.\t5\tIN\tA\t192.0.2.1"}));
}

TEST(RewriteTest, SuffixAutoSwapsTheSuffixWhereverItIs) {
  Rewriter r = Rules("rewrite name suffix .a.example .b.example answer auto");
  std::vector<std::string> got =
      RoundTrip(r, "x.a.example", kTypeA, {"x.b.example. 5 IN CNAME y.b.example.", "y.b.example. 5 IN A 192.0.2.1"});
  EXPECT_EQ(got, (std::vector<std::string>{"x.a.example.\tIN\tA", "x.a.example.\t5\tIN\tCNAME\ty.a.example.",
                                           "y.a.example.\t5\tIN\tA\t192.0.2.1"}));
}

TEST(RewriteTest, ExactAutoIsImplicitAndCoversSubdomainsAndTargets) {
  Rewriter r = Rules("rewrite name exact svc.example internal.example");
  std::vector<std::string> got =
      RoundTrip(r, "svc.example", kTypeMX,
                {"internal.example. 5 IN MX 10 mail.internal.example.", "other.example. 5 IN A 192.0.2.1"});
  EXPECT_EQ(got, (std::vector<std::string>{"svc.example.\tIN\tMX", "svc.example.\t5\tIN\tMX\t10 mail.svc.example.",
                                           "other.example.\t5\tIN\tA\t192.0.2.1"}));
}

TEST(RewriteTest, AnswerNameAndValueRulesUseTheirRegexes) {
  Rewriter r = Rules(
      R"(rewrite stop {
  name regex (.*)\.east\.example {1}.internal
  answer name (.*)\.internal {1}.east.example
  answer value (.*)\.internal {1}.east.example
})");
  std::vector<std::string> got =
      RoundTrip(r, "web.east.example", kTypeCNAME, {"web.internal. 5 IN CNAME pod.internal."});
  EXPECT_EQ(got, (std::vector<std::string>{"web.east.example.\tIN\tCNAME",
                                           "web.east.example.\t5\tIN\tCNAME\tpod.east.example."}));
}

TEST(RewriteTest, TtlRulesClampEveryRecordButLeaveOptAlone) {
  Rewriter r = Rules("rewrite ttl exact web.example 30-60");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("web.example"));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->ttl.has_value());
  EXPECT_TRUE(out->steps.empty()) << "the name is not rewritten";
  std::vector<RrPtr> an;
  an.push_back(*ParseRecord("web.example. 5 IN A 192.0.2.1"));
  an.push_back(*ParseRecord("web.example. 3600 IN A 192.0.2.2"));
  PktPtr pkt = NewReply(N("web.example"), kTypeA, kClassIN, kFlagAA, kNoError);
  for (const RrPtr& rr : an) AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, rr.get());
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  ldns_pkt_set_edns_do(pkt.get(), true);
  std::vector<uint8_t> reply = *EncodeMessage(pkt.get());
  RenameScratch scratch;
  absl::StatusOr<std::vector<uint8_t>> back = Rewriter::Revert(*out, reply, N("web.example"), scratch);
  ASSERT_TRUE(back.ok()) << back.status();
  PktPtr got = *ParseMessage(*back);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(got.get()), 0)), 30u);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(got.get()), 1)), 60u);
  EXPECT_TRUE(ldns_pkt_edns_do(got.get())) << "OPT's TTL field holds flags, not a TTL";
  EXPECT_EQ(Rules("rewrite ttl exact web.example 30-60").Apply(N("other.example"))->ttl, std::nullopt);
}

TEST(RewriteTest, NoRulesChangeNothing) {
  Rewriter none;
  absl::StatusOr<RewriteOutcome> out = none.Apply(N("Web.Example"));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->changed());
  EXPECT_EQ(out->name.ToText(), "Web.Example.") << "the client's case, untouched";
}

}  // namespace
}  // namespace meshdns
