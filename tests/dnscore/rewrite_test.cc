#include "dnscore/rewrite.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

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
  absl::StatusOr<RewriteOutcome> out = r.Apply(N(qname), kTypeA, kClassIN);
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
  absl::StatusOr<RewriteOutcome> out = rules.Apply(N(client), kTypeA, kClassIN);
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
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("abcdefghij"), kTypeA, kClassIN);
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
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("web.example"), kTypeA, kClassIN);
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
  EXPECT_EQ(Rules("rewrite ttl exact web.example 30-60").Apply(N("other.example"), kTypeA, kClassIN)->ttl, std::nullopt);
}

TEST(RewriteTest, NoRulesChangeNothing) {
  Rewriter none;
  absl::StatusOr<RewriteOutcome> out = none.Apply(N("Web.Example"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->changed());
  EXPECT_EQ(out->name.ToText(), "Web.Example.") << "the client's case, untouched";
}

// CoreDNS's TestRewrite (rewrite_test.go): its twelve rules, in order, and
// the question each of its queries leaves for the rest of the chain.
TEST(RewriteTest, TypeAndClassRulesRewriteTheQuestionInRuleOrder) {
  Rewriter r = Rules(R"(rewrite stop name from.nl. to.nl.
rewrite stop name regex (core)\.(dns)\.(rocks)\.(nl) {2}.{1}.{3}.{4} answer name (dns)\.(core)\.(rocks)\.(nl) {2}.{1}.{3}.{4}
rewrite stop name exact from.exact.nl. to.nl.
rewrite stop name prefix prefix to
rewrite stop name suffix .suffix. .nl.
rewrite stop name substring from.substring to
rewrite stop name regex (f.*m)\.regex\.(nl) to.{2}
rewrite continue name regex consul\.(rocks) core.dns.{1}
rewrite stop name core.dns.rocks to.nl.
rewrite continue class HS CH
rewrite stop class CH IN
rewrite stop type ANY HINFO)");
  constexpr uint16_t kCH = 3, kHS = 4, kANY = 255, kHINFO = 13;
  const struct {
    const char* from;
    uint16_t from_type, from_class;
    const char* to;
    uint16_t to_type, to_class;
  } cases[] = {
      {"from.nl.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"a.nl.", kTypeA, kClassIN, "a.nl.", kTypeA, kClassIN},
      {"a.nl.", kTypeA, kCH, "a.nl.", kTypeA, kClassIN},
      {"a.nl.", kANY, kClassIN, "a.nl.", kHINFO, kClassIN},
      {"from.nl.", kANY, kClassIN, "to.nl.", kANY, kClassIN},  // the name rule stops before the type rule
      {"from.exact.nl.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"prefix.nl.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"to.suffix.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"from.substring.nl.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"from.regex.nl.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"consul.rocks.", kTypeA, kClassIN, "to.nl.", kTypeA, kClassIN},
      {"a.nl.", kANY, kCH, "a.nl.", kANY, kClassIN},  // the class rule comes first and stops
      {"a.nl.", kANY, kHS, "a.nl.", kANY, kClassIN},  // HS to CH (continue), CH to IN (stop)
      {"core.dns.rocks.nl.", kTypeA, kClassIN, "dns.core.rocks.nl.", kTypeA, kClassIN},
  };
  for (const auto& c : cases) {
    absl::StatusOr<RewriteOutcome> out = r.Apply(N(c.from), c.from_type, c.from_class);
    ASSERT_TRUE(out.ok()) << c.from;
    EXPECT_EQ(out->name.ToText(), c.to) << c.from << " " << c.from_type << " " << c.from_class;
    EXPECT_EQ(out->qtype, c.to_type) << c.from << " " << c.from_type << " " << c.from_class;
    EXPECT_EQ(out->qclass, c.to_class) << c.from << " " << c.from_type << " " << c.from_class;
  }
}

TEST(RewriteTest, ATypeRuleAloneLeavesTheReplyAsItCame) {
  Rewriter r = Rules("rewrite type A AAAA");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("web.example"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->qtype, kTypeAAAA);
  EXPECT_EQ(out->name.ToText(), "web.example.");
  // The reply writer echoes the client's question; nothing else is undone.
  EXPECT_FALSE(out->changed());
}

// CoreDNS's TestRCodeRewrite (rcode_test.go): SERVFAIL with an answer becomes FORMERR.
TEST(RewriteTest, RcodeRulesRewriteTheRepliesRcode) {
  Rewriter r = Rules("rewrite rcode exact srv1.coredns.rocks SERVFAIL FORMERR");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("srv1.coredns.rocks"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->changed());
  std::vector<RrPtr> an;
  an.push_back(*ParseRecord("srv1.coredns.rocks. 5 IN A 10.0.0.1"));
  std::vector<uint8_t> reply = *BuildAuthoritativeReply(N("srv1.coredns.rocks"), kTypeA, kClassIN, kServFail, an, {});
  RenameScratch scratch;
  absl::StatusOr<std::vector<uint8_t>> back = Rewriter::Revert(*out, reply, N("srv1.coredns.rocks"), scratch);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)[3] & 0xf, kFormErr);
  EXPECT_EQ(Lines(*back).size(), 2u) << "question and answer kept";
  // Another name, or another RCODE, is left alone.
  EXPECT_TRUE(r.Apply(N("srv2.coredns.rocks"), kTypeA, kClassIN)->rcodes.empty());
  std::vector<uint8_t> ok = *BuildAuthoritativeReply(N("srv1.coredns.rocks"), kTypeA, kClassIN, kNoError, an, {});
  EXPECT_EQ((*Rewriter::Revert(*out, ok, N("srv1.coredns.rocks"), scratch))[3] & 0xf, kNoError);
}

TEST(RewriteTest, RcodeRulesMatchEveryNameMatchType) {
  const struct {
    const char* rule;
    const char* name;
    bool matches;
  } cases[] = {
      {"rewrite rcode exact a.example NXDOMAIN NOERROR", "a.example", true},
      {"rewrite rcode exact a.example NXDOMAIN NOERROR", "b.a.example", false},
      {"rewrite rcode prefix b. NXDOMAIN NOERROR", "b.a.example", true},
      {"rewrite rcode suffix .a.example NXDOMAIN NOERROR", "b.a.example", true},
      {"rewrite rcode suffix .a.example NXDOMAIN NOERROR", "a.example", false},
      {"rewrite rcode substring .a. NXDOMAIN NOERROR", "b.a.example", true},
      {R"(rewrite rcode regex ^b\.(a)\.example NXDOMAIN NOERROR)", "b.a.example", true},
      {R"(rewrite rcode regex ^c\. NXDOMAIN NOERROR)", "b.a.example", false},
  };
  for (const auto& c : cases) {
    absl::StatusOr<RewriteOutcome> out = Rules(c.rule).Apply(N(c.name), kTypeA, kClassIN);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->rcodes.size(), c.matches ? 1u : 0u) << c.rule << " / " << c.name;
  }
}

// CoreDNS's TestRCodeRewriteEmptyResponse: a failure nothing wrote a reply
// for gets one from rewrite, through its rcode rules, in both modes.
TEST(RewriteTest, AFailureGetsAReplyWithTheRewrittenRcode) {
  for (const char* mode : {"stop", "continue"}) {
    for (const char* rcode : {"FORMERR", "SERVFAIL", "REFUSED", "NOTIMP"}) {
      Rewriter r = Rules(absl::StrCat("rewrite ", mode, " rcode exact srv1.coredns.rocks ", rcode, " NOERROR"));
      absl::StatusOr<RewriteOutcome> out = r.Apply(N("srv1.coredns.rocks"), kTypeA, kClassIN);
      ASSERT_TRUE(out.ok());
      const uint8_t code = static_cast<uint8_t>(out->rcodes.at(0)->code_from);
      std::optional<std::vector<uint8_t>> own =
          Rewriter::FailureReply(*out, N("srv1.coredns.rocks"), kTypeA, kClassIN, true, false, code);
      ASSERT_TRUE(own.has_value()) << mode << " " << rcode;
      EXPECT_EQ((*own)[3] & 0xf, kNoError);
      EXPECT_EQ(Lines(*own), (std::vector<std::string>{"srv1.coredns.rocks.\tIN\tA"}));
      // A bare reply from a resolver with that RCODE (no records) is rewritten too.
      std::vector<uint8_t> bare = *BuildAuthoritativeReply(N("srv1.coredns.rocks"), kTypeA, kClassIN, code, {}, {});
      RenameScratch scratch;
      EXPECT_EQ((*Rewriter::Revert(*out, bare, N("srv1.coredns.rocks"), scratch))[3] & 0xf, kNoError);
    }
  }
  Rewriter other = Rules("rewrite rcode srv1.coredns.rocks NXDOMAIN NOERROR");
  EXPECT_FALSE(Rewriter::FailureReply(*other.Apply(N("srv1.coredns.rocks"), kTypeA, kClassIN), N("srv1.coredns.rocks"),
                                      kTypeA, kClassIN, true, false, kServFail)
                   .has_value())
      << "a rule for another RCODE leaves the failure as it is";
}

// CoreDNS's reverter runs the rcode rules last rule first, once per record:
// chained rules (A to B, then B to C) go further the more records there are.
TEST(RewriteTest, ChainedRcodeRulesRunOncePerRecordAsInCoreDns) {
  Rewriter r = Rules("rewrite continue rcode a.example NXDOMAIN REFUSED\nrewrite rcode a.example REFUSED NOERROR");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("a.example"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->rcodes.size(), 2u);
  EXPECT_EQ(out->Rcode(kNxDomain, 0), kRefused) << "one pass: the second rule ran before the first";
  EXPECT_EQ(out->Rcode(kNxDomain, 1), kRefused);
  EXPECT_EQ(out->Rcode(kNxDomain, 2), kNoError);
}

// rewrite edns0: the options the resolver is sent, the client's as the rules leave them.
std::string OptionsSent(const Rewriter& r, absl::string_view qname, std::vector<uint8_t> client = {}) {
  const EdnsRequest who{.has_client = true, .client_ip = IpAddress::FromV4({10, 240, 0, 1}), .client_port = 40212};
  absl::StatusOr<RewriteOutcome> out = r.Apply(N(qname), kTypeA, kClassIN, &who, client);
  if (!out.ok()) return std::string(out.status().message());
  if (!out->edns_options) return "none";
  EdnsOptions options;
  EXPECT_TRUE(ParseEdnsOptions(*out->edns_options, options));
  std::string text;
  for (const EdnsOption& o : options) {
    absl::StrAppend(&text, text.empty() ? "" : ",", o.code, ":", std::string(o.data.begin(), o.data.end()));
  }
  return text;
}

TEST(RewriteEdns0Test, RulesEditTheClientsOptionsForTheResolver) {
  EXPECT_EQ(OptionsSent(Rules("rewrite name a.example. b.example."), "a.example."), "none")
      << "without edns0 rules meshdns sends no options";
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local set 0xffee abc"), "a.example."), "65518:abc");
  // The client's options pass on, edited.
  const std::vector<uint8_t> client = {0xff, 0xee, 0, 3, 'o', 'l', 'd', 0, 3, 0, 0};
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local replace 0xffee new"), "a.example.", client), "65518:new,3:");
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 nsid unset"), "a.example.", client), "65518:old");
  // An ignored rule still passes the client's options on.
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local replace 0xffed new"), "a.example.", client), "65518:old,3:");
}

TEST(RewriteEdns0Test, StopAndContinue) {
  // A stop rule that applied ends the list; one that was ignored does not.
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local set 1000 a\nrewrite edns0 local set 1001 b"), "x.example."),
            "1000:a");
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local replace 1000 a\nrewrite edns0 local set 1001 b"), "x.example."),
            "1001:b");
  EXPECT_EQ(OptionsSent(Rules("rewrite continue edns0 local set 1000 a\nrewrite edns0 local set 1001 b"),
                        "x.example."),
            "1000:a,1001:b");
  // {qname} is the name as the rules before it left it.
  EXPECT_EQ(OptionsSent(Rules("rewrite continue name a.example. b.example.\nrewrite edns0 local set 1000 {qname}"),
                        "a.example."),
            "1000:b.example.");
  EXPECT_EQ(OptionsSent(Rules("rewrite edns0 local set 1000 {qname}"), "A.Example."), "1000:A.Example.")
      << "the client's case, as CoreDNS's QName()";
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// CoreDNS's cname rule reports every question as rewritten (its work is on
// the reply): it is reached unless an earlier stop rule matched, and its own
// stop ends the list even when no CNAME will match.
TEST(RewriterTest, ACnameRuleIsReachedByEveryQuestionAndItsStopEndsTheList) {
  const Rewriter stop = Rules(
      "rewrite cname exact old.example.net new.example.net\n"
      "rewrite name exact a.example.org b.example.org");
  absl::StatusOr<RewriteOutcome> out = stop.Apply(N("a.example.org"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->cnames.size(), 1u);
  EXPECT_EQ(out->name.ToText(), "a.example.org.") << "the name rule after a stop cname rule never runs";
  EXPECT_FALSE(out->changed()) << "a cname rule alone leaves nothing for Revert";

  const Rewriter go_on = Rules(
      "rewrite continue cname suffix .old. .new.\n"
      "rewrite name exact a.example.org b.example.org\n"
      "rewrite cname regex (.*)\\.x\\. {1}.y.");
  out = go_on.Apply(N("a.example.org"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->name.ToText(), "b.example.org.");
  EXPECT_EQ(out->cnames.size(), 1u) << "the exact name rule matched and stopped before the second cname rule";
  EXPECT_EQ(out->cnames[0]->from, ".old.") << "FROM kept as written for a suffix rule";
}

TEST(RewriterTest, ACnameRuleAfterAMatchingStopRuleIsNotReached) {
  const Rewriter r = Rules(
      "rewrite name exact a.example.org b.example.org\n"
      "rewrite cname exact old.example.net new.example.net");
  absl::StatusOr<RewriteOutcome> out = r.Apply(N("a.example.org"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->cnames.empty());
  out = r.Apply(N("c.example.org"), kTypeA, kClassIN);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->cnames.size(), 1u);
}

}  // namespace
}  // namespace meshdns
