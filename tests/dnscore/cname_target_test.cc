#include "dnscore/cname_target.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <map>
#include <string>
#include <vector>

#include "dnscore/wire.h"
#include "tests/dnscore/message_text.h"

namespace meshdns {
namespace {

using S = std::vector<std::string>;

RewriteRule Rule(RewriteRule::Match match, std::string from, std::string to) {
  RewriteRule rule;
  rule.field = RewriteRule::Field::kCname;
  rule.stop = false;
  rule.match = match;
  rule.from = std::move(from);
  rule.to = std::move(to);
  if (match == RewriteRule::Match::kRegex) rule.regex = std::make_shared<const re2::RE2>(rule.from);
  return rule;
}

// A message for (qname, qtype) with `answer` (zone-file lines) and the TC flag.
std::vector<uint8_t> Message(absl::string_view qname, uint16_t qtype, const S& answer, bool truncated = false,
                             const S& authority = {}, uint8_t rcode = kNoError) {
  PktPtr pkt = NewReply(*DnsName::FromText(qname), qtype, kClassIN, kFlagRD | kFlagRA, rcode);
  for (const std::string& line : answer) AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, ParseRecord(line)->get());
  for (const std::string& line : authority) AppendRecord(pkt.get(), LDNS_SECTION_AUTHORITY, ParseRecord(line)->get());
  ldns_pkt_set_tc(pkt.get(), truncated);
  return *EncodeMessage(pkt.get());
}

// The lookups a test's resolver answers, by target name and type.
using Lookups = std::map<std::pair<std::string, uint16_t>, std::vector<uint8_t>>;

struct Outcome {
  testing::MessageText reply;
  bool truncated = false;
  S looked_up;
};

// The rewrite carried out to the end, each lookup answered from `lookups`
// (one it has no answer for answers nothing, as CoreDNS's mocked upstream does).
Outcome Rewrite(const std::vector<RewriteRule>& rules, std::span<const uint8_t> reply, uint16_t qtype,
            const Lookups& lookups) {
  std::vector<const RewriteRule*> reached;
  for (const RewriteRule& r : rules) reached.push_back(&r);
  absl::StatusOr<CnameTargetRewrite> rewrite = CnameTargetRewrite::Begin(reached, reply);
  EXPECT_TRUE(rewrite.ok()) << rewrite.status();
  if (!rewrite.ok()) return {};
  Outcome out;
  for (int bound = 0; bound < 16; ++bound) {
    const CnameTargetStep step = rewrite->Next();
    if (step.kind == CnameTargetStep::Kind::kDone) break;
    const std::string name = step.target.ToText();
    out.looked_up.push_back(name);
    auto it = lookups.find({name, qtype});
    if (it != lookups.end()) {
      EXPECT_TRUE(rewrite->Looked(it->second).ok());
    } else {
      rewrite->Looked(std::span<const RrPtr>(), false);
    }
  }
  absl::StatusOr<std::vector<uint8_t>> wire = rewrite->Reply();
  EXPECT_TRUE(wire.ok()) << wire.status();
  if (!wire.ok()) return out;
  out.reply = testing::ReadMessage(*wire);
  out.truncated = (*wire)[2] & 0x02;
  return out;
}

// plugin/rewrite/cname_target_test.go TestCNameTargetRewrite: its seven rules,
// all `continue`, and the MockedUpstream's answers.
class CoreDnsCasesTest : public ::testing::Test {
 protected:
  CoreDnsCasesTest() {
    using M = RewriteRule::Match;
    rules_ = {Rule(M::kExact, "def.example.com.", "xyz.example.com."),
              Rule(M::kPrefix, "chat.openai.com", "bard.google.com"),
              Rule(M::kSuffix, "uvw.", "xyz."),
              Rule(M::kSubstring, "efgh", "zzzz.www"),
              Rule(M::kRegex, R"((.*)\.web\.(.*)\.site\.)", "{1}.webapp.{2}.org."),
              Rule(M::kExact, "music.truncated.spotify.com.", "music.truncated.spotify.com."),
              Rule(M::kSuffix, "prod.", "staging.")};
    lookups_[{"xyz.example.com.", kTypeA}] = Message("xyz.example.com", kTypeA, {"xyz.example.com. 3600 IN A 3.4.5.6"});
    lookups_[{"xyz.example.com.", kTypeAAAA}] =
        Message("xyz.example.com", kTypeAAAA, {"xyz.example.com. 3600 IN AAAA 3a01:7e00::f03c:91ff:fe79:234c"});
    lookups_[{"bard.google.com.cdn.cloudflare.net.", kTypeA}] =
        Message("bard.google.com.cdn.cloudflare.net", kTypeA, {"bard.google.com.cdn.cloudflare.net. 1800 IN A 9.7.2.1"});
    lookups_[{"www.hosting.xyz.", kTypeA}] = Message("www.hosting.xyz", kTypeA, {"www.hosting.xyz. 500 IN A 20.30.40.50"});
    lookups_[{"abcd.zzzz.www.pqrst.", kTypeA}] = Message(
        "abcd.zzzz.www.pqrst", kTypeA, {"abcd.zzzz.www.pqrst. 120 IN A 101.20.5.1", "abcd.zzzz.www.pqrst. 120 IN A 101.20.5.2"});
    lookups_[{"orders.webapp.eu.org.", kTypeA}] =
        Message("orders.webapp.eu.org", kTypeA, {"orders.webapp.eu.org. 120 IN A 20.0.0.9"});
    lookups_[{"music.truncated.spotify.com.", kTypeA}] =
        Message("music.truncated.spotify.com", kTypeA, {"music.truncated.spotify.com. 120 IN A 10.1.0.9"}, true);
    lookups_[{"intermediate-2.staging.", kTypeA}] =
        Message("intermediate-2.staging", kTypeA,
                {"intermediate-2.staging. 200 IN CNAME final.staging.net.", "final.staging.net. 120 IN A 5.6.7.8"});
  }
  Outcome Run(absl::string_view qname, uint16_t qtype, const S& answer) {
    return Rewrite(rules_, Message(qname, qtype, answer), qtype, lookups_);
  }
  std::vector<RewriteRule> rules_;
  Lookups lookups_;
};

TEST_F(CoreDnsCasesTest, Exact) {
  const Outcome o = Run("abc.example.com", kTypeA,
                        {"abc.example.com. 5 IN CNAME def.example.com.", "def.example.com. 5 IN A 1.2.3.4"});
  EXPECT_EQ(o.reply.answer,
            (S{"abc.example.com. 5 IN CNAME xyz.example.com.", "xyz.example.com. 3600 IN A 3.4.5.6"}));
  EXPECT_FALSE(o.truncated);
  EXPECT_EQ(o.looked_up, (S{"xyz.example.com."})) << "one lookup, with the question's type";
}

TEST_F(CoreDnsCasesTest, ExactAaaa) {
  const Outcome o = Run("abc.example.com", kTypeAAAA,
                        {"abc.example.com. 5 IN CNAME def.example.com.",
                         "def.example.com. 5 IN AAAA 2a01:7e00::f03c:91ff:fe79:234c"});
  EXPECT_EQ(o.reply.answer, (S{"abc.example.com. 5 IN CNAME xyz.example.com.",
                               "xyz.example.com. 3600 IN AAAA 3a01:7e00::f03c:91ff:fe79:234c"}));
}

TEST_F(CoreDnsCasesTest, Prefix) {
  const Outcome o = Run("chat.openai.com", kTypeA,
                        {"chat.openai.com. 20 IN CNAME chat.openai.com.cdn.cloudflare.net.",
                         "chat.openai.com.cdn.cloudflare.net. 30 IN A 23.2.1.2",
                         "chat.openai.com.cdn.cloudflare.net. 30 IN A 24.6.0.8"});
  EXPECT_EQ(o.reply.answer, (S{"chat.openai.com. 20 IN CNAME bard.google.com.cdn.cloudflare.net.",
                               "bard.google.com.cdn.cloudflare.net. 1800 IN A 9.7.2.1"}));
}

TEST_F(CoreDnsCasesTest, Suffix) {
  const Outcome o = Run("coredns.io", kTypeA, {"coredns.io. 100 IN CNAME www.hosting.uvw.", "www.hosting.uvw. 200 IN A 7.2.3.4"});
  EXPECT_EQ(o.reply.answer, (S{"coredns.io. 100 IN CNAME www.hosting.xyz.", "www.hosting.xyz. 500 IN A 20.30.40.50"}));
}

TEST_F(CoreDnsCasesTest, Substring) {
  const Outcome o = Run("core.dns.rocks", kTypeA,
                        {"core.dns.rocks. 200 IN CNAME abcd.efgh.pqrst.", "abcd.efgh.pqrst. 100 IN A 200.30.45.67"});
  EXPECT_EQ(o.reply.answer, (S{"core.dns.rocks. 200 IN CNAME abcd.zzzz.www.pqrst.",
                               "abcd.zzzz.www.pqrst. 120 IN A 101.20.5.1", "abcd.zzzz.www.pqrst. 120 IN A 101.20.5.2"}));
}

TEST_F(CoreDnsCasesTest, Regex) {
  const Outcome o = Run("order.service.eu", kTypeA,
                        {"order.service.eu. 200 IN CNAME orders.web.eu.site.", "orders.web.eu.site. 50 IN A 10.10.15.1"});
  EXPECT_EQ(o.reply.answer,
            (S{"order.service.eu. 200 IN CNAME orders.webapp.eu.org.", "orders.webapp.eu.org. 120 IN A 20.0.0.9"}));
}

TEST_F(CoreDnsCasesTest, TheLookupsTruncationIsTheReplys) {
  const Outcome o = Run("music.spotify.com", kTypeA, {"music.spotify.com. 200 IN CNAME music.truncated.spotify.com."});
  EXPECT_EQ(o.reply.answer, (S{"music.spotify.com. 200 IN CNAME music.truncated.spotify.com.",
                               "music.truncated.spotify.com. 120 IN A 10.1.0.9"}));
  EXPECT_TRUE(o.truncated);
}

TEST_F(CoreDnsCasesTest, AChainKeepsItsCnamesUpToTheRewrittenOne) {
  const Outcome o = Run("cname-chain.org", kTypeA,
                        {"cname-chain.org. 200 IN CNAME intermediate-1.com.",
                         "intermediate-1.com. 200 IN CNAME intermediate-2.prod.",
                         "intermediate-2.prod. 200 IN CNAME final.prod.net.", "final.prod.net. 120 IN A 1.2.3.4"});
  EXPECT_EQ(o.reply.answer, (S{"cname-chain.org. 200 IN CNAME intermediate-1.com.",
                               "intermediate-1.com. 200 IN CNAME intermediate-2.staging.",
                               "intermediate-2.staging. 200 IN CNAME final.staging.net.",
                               "final.staging.net. 120 IN A 5.6.7.8"}));
  EXPECT_EQ(o.looked_up, (S{"intermediate-2.staging."}));
}

// TestCNAMETargetRewrite_upstreamFailurePaths: no answer for the lookup
// leaves the reply as it was.
TEST(CnameTargetRewriteTest, NoLookupAnswerLeavesTheReply) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kExact, "bad.target.", "good.target.")};
  const std::vector<uint8_t> reply = Message("bad.test", kTypeA, {"bad.test. 60 IN CNAME bad.target."});
  std::vector<const RewriteRule*> reached{&rules[0]};
  absl::StatusOr<CnameTargetRewrite> r = CnameTargetRewrite::Begin(reached, reply);
  ASSERT_TRUE(r.ok());
  const CnameTargetStep step = r->Next();
  ASSERT_EQ(step.kind, CnameTargetStep::Kind::kLookup);
  EXPECT_EQ(step.target.ToText(), "good.target.");
  EXPECT_EQ(r->Next().kind, CnameTargetStep::Kind::kDone) << "Next without Looked: the lookup gave nothing";
  EXPECT_EQ(testing::ReadMessage(*r->Reply()).answer, (S{"bad.test. 60 IN CNAME bad.target."}));
}

TEST(CnameTargetRewriteTest, NoMatchingTargetAsksNothing) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kSuffix, "example.net.", "example.org.")};
  const Outcome o = Rewrite(rules, Message("www.example.com", kTypeA, {"www.example.com. 60 IN A 192.0.2.1"}), kTypeA, {});
  EXPECT_TRUE(o.looked_up.empty());
  EXPECT_EQ(o.reply.answer, (S{"www.example.com. 60 IN A 192.0.2.1"}));
}

// An empty lookup answer (NXDOMAIN, REFUSED) still cuts the chain there; the
// RCODE and authority stay the reply's.
TEST(CnameTargetRewriteTest, AnEmptyLookupCutsTheChainAndKeepsTheRcodeAndAuthority) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kExact, "old.example.net.", "new.example.net.")};
  const std::vector<uint8_t> reply =
      Message("www.example.com", kTypeA, {"www.example.com. 60 IN CNAME old.example.net.", "old.example.net. 60 IN A 192.0.2.1"},
              false, {"example.net. 60 IN NS ns.example.net."});
  Lookups lookups;
  lookups[{"new.example.net.", kTypeA}] =
      Message("new.example.net", kTypeA, {}, false, {"example.net. 60 IN SOA ns. host. 1 2 3 4 5"}, kNxDomain);
  const Outcome o = Rewrite(rules, reply, kTypeA, lookups);
  EXPECT_EQ(o.reply.answer, (S{"www.example.com. 60 IN CNAME new.example.net."}));
  EXPECT_EQ(o.reply.rcode, kNoError);
  EXPECT_EQ(o.reply.authority, (S{"example.net. 60 IN NS ns.example.net."}));
}

// As in CoreDNS, a later record of the reply as it came is still offered to
// the rules after an earlier lookup replaced the answer: its lookup keeps the
// CNAMEs of the answer as it is now, which need not be a chain.
TEST(CnameTargetRewriteTest, EveryRecordOfTheReplyAsItCameIsOffered) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kSuffix, ".old.", ".new.")};
  const std::vector<uint8_t> reply = Message(
      "a.example", kTypeA, {"a.example. 60 IN CNAME x.old.", "x.old. 60 IN CNAME y.old.", "y.old. 60 IN A 192.0.2.1"});
  Lookups lookups;
  lookups[{"x.new.", kTypeA}] = Message("x.new", kTypeA, {"x.new. 30 IN CNAME y.new.", "y.new. 30 IN A 192.0.2.2"});
  lookups[{"y.new.", kTypeA}] = Message("y.new", kTypeA, {"y.new. 20 IN A 192.0.2.3"});
  const Outcome o = Rewrite(rules, reply, kTypeA, lookups);
  EXPECT_EQ(o.looked_up, (S{"x.new.", "y.new."}));
  EXPECT_EQ(o.reply.answer, (S{"a.example. 60 IN CNAME x.new.", "x.new. 30 IN CNAME y.new.", "y.new. 20 IN A 192.0.2.3"}));
}

// Rules are offered each record last rule first; a rule later in the list
// that retargets a record hides it from an earlier one matching the old target.
TEST(CnameTargetRewriteTest, TheLastRuleSeesEachRecordFirst) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kExact, "old.example.", "first.example."),
                                       Rule(RewriteRule::Match::kExact, "old.example.", "last.example.")};
  const Outcome o = Rewrite(rules, Message("a.example", kTypeA, {"a.example. 60 IN CNAME old.example."}), kTypeA, {});
  EXPECT_EQ(o.looked_up, (S{"last.example."}));
  EXPECT_EQ(o.reply.answer, (S{"a.example. 60 IN CNAME last.example."}));
}

TEST(CnameTargetRewriteTest, TargetsMatchWhateverTheirCase) {
  const std::vector<RewriteRule> rules{Rule(RewriteRule::Match::kExact, "old.example.", "new.example.")};
  const Outcome o = Rewrite(rules, Message("a.example", kTypeA, {"a.example. 60 IN CNAME OLD.Example."}), kTypeA, {});
  EXPECT_EQ(o.looked_up, (S{"new.example."}));
}

}  // namespace
}  // namespace meshdns
