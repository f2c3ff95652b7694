// The pipeline driven by hand, as the server's QueryEngine drives it: Start,
// then the I/O its Step asks for played by the test (a resolver's reply, a
// chased target, the clusters' parts), then Forwarded / Chased / FannedOut.
// Programs come from YAML and Corefile text through the real compilers; the
// clock is a number; pool health is ResolverHealth the test marks down.
#include "dnscore/pipeline.h"

#include <gtest/gtest.h>

#include "tests/dnscore/pipeline_fixture.h"

namespace meshdns {
namespace {

// --- dispatch -----------------------------------------------------------------

constexpr char kTwoZones[] = R"(example.org {
    forward . 10.0.0.1
}
a.example.org {
    forward . 10.0.0.2
}
)";

TEST_F(PipelineTest, ANameInNoBlockIsRefused) {
  LoadCorefile(kTwoZones);
  const Answer answer = StartAnswers("example.com", kTypeA);
  EXPECT_EQ(answer.kind, Answer::Kind::kRefused);
}

TEST_F(PipelineTest, TheLongestZoneWins) {
  LoadCorefile(kTwoZones);
  const Step deep = Start("x.a.example.org", kTypeA);
  ASSERT_EQ(deep.kind, Step::Kind::kForward);
  EXPECT_EQ(deep.pool, 1u);
  const Step shallow = Start("b.example.org", kTypeA);
  ASSERT_EQ(shallow.kind, Step::Kind::kForward);
  EXPECT_EQ(shallow.pool, 0u);
}

// Two servers (ports) with a block for the same zone each, answering differently.
constexpr char kTwoServers[] = R"(example.org:1053 {
    cache 300
    template IN A example.org {
        answer "{{ .Name }} 60 IN A 10.0.0.1"
    }
}
example.org:1054 {
    cache 300
    template IN A example.org {
        answer "{{ .Name }} 60 IN A 10.0.0.2"
    }
}
.:1054 {
    forward . 10.0.0.3
}
)";

TEST_F(PipelineTest, EachServerDispatchesAmongItsOwnBlocksAndCachesApart) {
  LoadCorefile(kTwoServers);
  ASSERT_EQ(rt_->program.server_count(), 2u);
  const Question on_1053{.name = N("www.example.org"), .qtype = kTypeA, .qclass = kClassIN, .server = 0};
  for (int round = 0; round < 2; ++round) {  // the second round comes from the cache
    Question q = on_1053;
    EXPECT_EQ(Text(Start(q).answer).answer, (S{"www.example.org. 60 IN A 10.0.0.1"})) << round;
    q.server = 1;
    EXPECT_EQ(Text(Start(q).answer).answer, (S{"www.example.org. 60 IN A 10.0.0.2"})) << round;
  }
  EXPECT_EQ(cache_.size(), 2u);
  EXPECT_EQ(StartAnswers("example.com", kTypeA).kind, Answer::Kind::kRefused) << "port 1053 has no root block";
  Question elsewhere{.name = N("example.com"), .qtype = kTypeA, .qclass = kClassIN, .server = 1};
  EXPECT_EQ(Start(elsewhere).kind, Step::Kind::kForward);
}

// --- cache --------------------------------------------------------------------

TEST_F(PipelineTest, TheNextStartFindsWhatForwardedStored) {
  LoadMesh();
  const Answer first = Resolve("example.com", kTypeA, AReply("example.com"));
  ASSERT_EQ(first.kind, Answer::Kind::kReply);
  now_ += 1000;
  const Step again = Start("example.com", kTypeA);
  ASSERT_EQ(again.kind, Step::Kind::kAnswer);
  EXPECT_EQ(again.answer.reply, first.reply);
  EXPECT_EQ(again.answer.ttl, first.ttl - 1) << "a second of its life has gone";
}

TEST_F(PipelineTest, StoreFalseDoesNotInsert) {
  LoadMesh();
  ASSERT_EQ(Start("example.com", kTypeA).kind, Step::Kind::kForward);
  const Answer answer = Answered(pipeline().Forwarded(state_, AReply("example.com"), false, {.now = now_, .store = false}));
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(Start("example.com", kTypeA).kind, Step::Kind::kForward);
}

TEST_F(PipelineTest, LookInCacheFalseAsksAgain) {
  LoadMesh();
  (void)Resolve("example.com", kTypeA, AReply("example.com"));
  const Step step = pipeline().Start(state_.question, 0, state_, {.now = now_, .look_in_cache = false});
  EXPECT_EQ(step.kind, Step::Kind::kForward);
}

TEST_F(PipelineTest, ABlockWithoutCacheNeverInserts) {
  LoadCorefile(". {\n    forward . 10.0.0.1\n}\n");
  const Answer answer = Resolve("example.com", kTypeA, AReply("example.com", 300));
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_FALSE(answer.reply->cacheable);
  EXPECT_EQ(Text(answer).answer, (S{"example.com. 300 IN A 192.0.2.1"})) << "TTLs as they came";
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(Start("example.com", kTypeA).kind, Step::Kind::kForward);
}

// CoreDNS's cache sits before rewrite: its zones hold the client's name, as
// the entry's key does. The seed Corefiles' peer blocks depend on it.
TEST_F(PipelineTest, ABlocksCacheZonesHoldTheClientsNameNotTheRewrittenOne) {
  LoadCorefile(R"(cluster2.svc.cluster.local {
    cache 10
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 10.0.0.2
}
)");
  const Answer answer = Resolve("web.nginx.default.cluster2.svc.cluster.local", kTypeA,
                                AReply("web.nginx.default.svc.cluster.local", 300));
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_TRUE(answer.reply->cacheable);
  EXPECT_EQ(answer.ttl, 10u) << "cache 10 caps it";
  EXPECT_EQ(Start("web.nginx.default.cluster2.svc.cluster.local", kTypeA).kind, Step::Kind::kAnswer);
}

// --- a meshdns YAML's cluster blocks (contract rule 1) ---------------------------

TEST_F(PipelineTest, AClusterNameIsAskedOfItsPoolWithoutTheClusterLabel) {
  LoadMesh();
  const Step step = Start("web.nginx.default.cluster2.svc.cluster.local", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kForward);
  EXPECT_EQ(step.pool, kCluster2Pool);
  EXPECT_EQ(state_.ask.ToText(), "web.nginx.default.svc.cluster.local.");
}

TEST_F(PipelineTest, ForwardedPutsTheClusterLabelBack) {
  LoadMesh();
  const std::string ask = "web.nginx.default.svc.cluster.local";
  const std::vector<uint8_t> reply = ReplyTo(ask, kTypeA, 2)
                                         .Cname(ask, 30, "pod.nginx.default.svc.cluster.local")
                                         .A("pod.nginx.default.svc.cluster.local", 30)
                                         .bytes();
  const MessageText m = Text(Resolve("web.nginx.default.cluster2.svc.cluster.local", kTypeA, reply));
  EXPECT_EQ(m.question, (S{"web.nginx.default.cluster2.svc.cluster.local. IN A"}));
  EXPECT_EQ(m.answer, (S{"web.nginx.default.cluster2.svc.cluster.local. 30 IN CNAME "
                         "pod.nginx.default.cluster2.svc.cluster.local.",
                         "pod.nginx.default.cluster2.svc.cluster.local. 30 IN A 192.0.2.1"}));
}

// --- a Corefile's rewrite and loadbalance -----------------------------------------

TEST_F(PipelineTest, RewriteAsksTheNewNameAndRevertsTheReply) {
  LoadCorefile(". {\n    rewrite name exact www.example.org web.example.net\n    forward . 10.0.0.1\n}\n");
  ASSERT_EQ(Start("www.example.org", kTypeA).kind, Step::Kind::kForward);
  EXPECT_EQ(state_.ask.ToText(), "web.example.net.");
  const MessageText m = Text(Forwarded(AReply("web.example.net")));
  EXPECT_EQ(m.question, (S{"www.example.org. IN A"}));
  EXPECT_EQ(m.answer, (S{"www.example.org. 300 IN A 192.0.2.1"}));
}

TEST_F(PipelineTest, ARewriteTtlRuleBoundsTheServedTtl) {
  LoadCorefile(". {\n    rewrite ttl exact www.example.org 30-60\n    forward . 10.0.0.1\n}\n");
  const Answer answer = Resolve("www.example.org", kTypeA, AReply("www.example.org"));
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_EQ(answer.reply->ttl_floor, 30u);
  EXPECT_EQ(answer.reply->ttl_ceiling, 60u);
}

TEST_F(PipelineTest, ATypeRuleAsksTheNewTypeAndCachesUnderTheClientsQuestion) {
  LoadCorefile(". {\n    cache 30\n    rewrite type AAAA A\n    forward . 10.0.0.1\n}\n");
  ASSERT_EQ(Start("www.example.org", kTypeAAAA).kind, Step::Kind::kForward);
  EXPECT_EQ(state_.Upstream().qtype, kTypeA);
  EXPECT_EQ(state_.Upstream().qclass, kClassIN);
  EXPECT_EQ(Forwarded(AReply("www.example.org")).kind, Answer::Kind::kReply);
  // CoreDNS's cache sits before rewrite: the entry is the client's AAAA
  // question's, and an A question is another entry.
  EXPECT_TRUE(StartAnswers("www.example.org", kTypeAAAA).from_cache);
  EXPECT_EQ(Start("www.example.org", kTypeA).kind, Step::Kind::kForward);
  EXPECT_EQ(state_.Upstream().qtype, kTypeA);
}

TEST_F(PipelineTest, ARcodeRuleRewritesForwardedRepliesAndFailures) {
  LoadCorefile(". {\n    rewrite continue rcode suffix .example.org. NXDOMAIN NOERROR\n"
               "    rewrite rcode suffix .example.org. SERVFAIL REFUSED\n    forward . 10.0.0.1\n}\n");
  EXPECT_EQ(Text(Resolve("a.example.org", kTypeA, NxReply("a.example.org", "example.org"))).rcode, kNoError);
  // No reply at all: rewrite's own reply, with the rewritten RCODE; the
  // errors log still hears why.
  const Answer own = Resolve("b.example.org", kTypeA, {});
  EXPECT_EQ(Text(own).rcode, kRefused);
  EXPECT_EQ(own.why.message(), "no resolver answered in time");
  EXPECT_EQ(Text(Resolve("c.example.org", kTypeA, ServFailReply("c.example.org"))).rcode, kRefused);
  // Other names keep theirs.
  EXPECT_EQ(Resolve("other.example", kTypeA, {}).kind, Answer::Kind::kServFail);
}

// rewrite cname: the reply's CNAME to old.example.net is sent to
// new.example.net, which is looked up through the pipeline again.
class RetargetTest : public PipelineTest {
 protected:
  static constexpr char kCorefile[] =
      ". {\n    cache 300\n    rewrite cname suffix .old.example.net. .new.example.net.\n    forward . 10.0.0.1\n}\n";
  static std::vector<uint8_t> AliasReply(uint16_t qtype = kTypeA) {
    return ReplyTo("www.example.org", qtype, 2)
        .Cname("www.example.org", 100, "cdn.old.example.net")
        .A("cdn.old.example.net", 100, {192, 0, 2, 1})
        .bytes();
  }
  // The client's question forwarded and answered AliasReply: the step that follows.
  Step Forward(absl::string_view name = "www.example.org", uint16_t qtype = kTypeA) {
    EXPECT_EQ(Start(name, qtype).kind, Step::Kind::kForward);
    return pipeline().Forwarded(state_, AliasReply(qtype), false, At());
  }
  // The lookup `step` asks for, resolved through the pipeline with `reply`.
  Answer Lookup(const Step& step, std::span<const uint8_t> reply) {
    QueryState target;
    EXPECT_EQ(pipeline().Start(step.target, state_.depth + 1, target, At()).kind, Step::Kind::kForward);
    return Answered(pipeline().Forwarded(target, reply, false, At()));
  }
};

TEST_F(RetargetTest, TheNewTargetIsLookedUpAndSpliced) {
  LoadCorefile(kCorefile);
  const Step step = Forward();
  ASSERT_EQ(step.kind, Step::Kind::kChase);
  EXPECT_EQ(step.target.name.ToText(), "cdn.new.example.net.");
  EXPECT_EQ(step.target.qtype, kTypeA);
  EXPECT_EQ(step.target.qclass, kClassIN);
  const Answer target = Lookup(step, AReply("cdn.new.example.net", 60, {192, 0, 2, 9}));
  const Answer answer = Answered(pipeline().Chased(state_, target, At()));
  const MessageText m = Text(answer);
  EXPECT_EQ(m.question, (S{"www.example.org. IN A"}));
  EXPECT_EQ(m.answer, (S{"www.example.org. 60 IN CNAME cdn.new.example.net.", "cdn.new.example.net. 60 IN A 192.0.2.9"}));
  // Cached under the client's question, for no longer than the lookup's
  // answer lives; a hit needs no lookup.
  EXPECT_EQ(answer.ttl, 60u);
  now_ += 1000;
  const Answer hit = StartAnswers("www.example.org", kTypeA);
  EXPECT_TRUE(hit.from_cache);
  EXPECT_EQ(hit.ttl, 59u);
  // The lookup has its own entry too, as CoreDNS's lookup through its cache.
  EXPECT_TRUE(StartAnswers("cdn.new.example.net", kTypeA).from_cache);
}

TEST_F(RetargetTest, TheLookupAsksTheTypeRewriteLeft) {
  LoadCorefile(". {\n    rewrite continue type AAAA A\n    rewrite cname suffix .old.example.net. .new.example.net.\n"
               "    forward . 10.0.0.1\n}\n");
  ASSERT_EQ(Start("www.example.org", kTypeAAAA).kind, Step::Kind::kForward);
  const Step step = pipeline().Forwarded(state_, AliasReply(kTypeA), false, At());
  ASSERT_EQ(step.kind, Step::Kind::kChase);
  EXPECT_EQ(step.target.qtype, kTypeA);
}

TEST_F(RetargetTest, ALookupNothingAnsweredIsServFail) {
  LoadCorefile(kCorefile);
  const Step step = Forward();
  ASSERT_EQ(step.kind, Step::Kind::kChase);
  const Answer target = Lookup(step, ServFailReply("cdn.new.example.net"));
  const Answer answer = Answered(pipeline().Chased(state_, target, At()));
  EXPECT_EQ(answer.kind, Answer::Kind::kServFail);
  EXPECT_EQ(Start("www.example.org", kTypeA).kind, Step::Kind::kForward) << "nothing was cached";
}

TEST_F(RetargetTest, ALookupOfANameNoBlockHoldsEndsTheChainUncached) {
  LoadCorefile("example.org {\n    cache 300\n    rewrite cname suffix .old.example.net. .new.example.net.\n"
               "    forward . 10.0.0.1\n}\n");
  const Step step = Forward();
  ASSERT_EQ(step.kind, Step::Kind::kChase);
  QueryState target;
  const Step refused = pipeline().Start(step.target, 1, target, At());
  ASSERT_EQ(refused.kind, Step::Kind::kAnswer);
  const Answer answer = Answered(pipeline().Chased(state_, refused.answer, At()));
  EXPECT_EQ(Text(answer).answer, (S{"www.example.org. 100 IN CNAME cdn.new.example.net."}));
  EXPECT_EQ(Text(answer).rcode, kNoError);
  EXPECT_EQ(Start("www.example.org", kTypeA).kind, Step::Kind::kForward) << "not cached";
}

TEST_F(RetargetTest, AtTheChainLimitTheQuestionIsServFail) {
  LoadCorefile(kCorefile);
  ASSERT_EQ(Start("www.example.org", kTypeA, Pipeline::kMaxChainLinks).kind, Step::Kind::kForward);
  const Step step = pipeline().Forwarded(state_, AliasReply(), false, At());
  ASSERT_EQ(step.kind, Step::Kind::kAnswer);
  EXPECT_EQ(step.answer.kind, Answer::Kind::kServFail);
}

TEST_F(RetargetTest, AReplyWithoutAMatchingTargetIsFinalAtOnce) {
  LoadCorefile(kCorefile);
  ASSERT_EQ(Start("plain.example.org", kTypeA).kind, Step::Kind::kForward);
  const Step step = pipeline().Forwarded(state_, AReply("plain.example.org"), false, At());
  ASSERT_EQ(step.kind, Step::Kind::kAnswer);
  EXPECT_EQ(Text(step.answer).answer, (S{"plain.example.org. 300 IN A 192.0.2.1"}));
}

TEST_F(PipelineTest, LoadbalanceMarksTheAddressesForRotation) {
  LoadCorefile(". {\n    loadbalance\n    forward . 10.0.0.1\n}\n");
  const std::vector<uint8_t> ip1 = {192, 0, 2, 1}, ip2 = {192, 0, 2, 2};
  // Owners as compression pointers to the question, as resolvers write them.
  const std::vector<uint8_t> reply =
      ReplyTo("example.com", kTypeA, 2).Pointer(12).RrBody(kTypeA, 300, ip1).Pointer(12).RrBody(kTypeA, 300, ip2).bytes();
  const Answer answer = Resolve("example.com", kTypeA, reply);
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_EQ(answer.reply->rotation.count, 2u);
}

// loadbalance { prefer … } (CoreDNS's README "Subnet Prioritization"): the
// block's subnets go with the rotated reply, so every write, cache hits
// included, puts them first (reply_writer_test checks the order).
TEST_F(PipelineTest, LoadbalancePreferGoesWithTheRotatedReply) {
  LoadCorefile(". {\n    loadbalance round_robin {\n        prefer 192.0.2.2/32\n    }\n    cache 30\n"
               "    forward . 10.0.0.1\n}\n");
  const std::vector<uint8_t> ip1 = {192, 0, 2, 1}, ip2 = {192, 0, 2, 2};
  const std::vector<uint8_t> reply =
      ReplyTo("example.com", kTypeA, 2).Pointer(12).RrBody(kTypeA, 300, ip1).Pointer(12).RrBody(kTypeA, 300, ip2).bytes();
  const Answer answer = Resolve("example.com", kTypeA, reply);
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  ASSERT_NE(answer.reply->prefer, nullptr);
  EXPECT_EQ(answer.reply->prefer->size(), 1u);
  const Answer hit = StartAnswers("example.com", kTypeA);
  ASSERT_TRUE(hit.from_cache);
  EXPECT_EQ(hit.reply->prefer, answer.reply->prefer);
}

// --- serve stale (RFC 8767) -------------------------------------------------------

class StaleTest : public PipelineTest {
 protected:
  // example.com cached for 30 s (the YAML's max_ttl), then 40 s pass.
  void ExpireAnEntry(bool serve_stale = true) {
    LoadMesh(serve_stale ? "cache: {serve_stale: 60s}\n" : "");
    ASSERT_EQ(Resolve("example.com", kTypeA, AReply("example.com")).ttl, 30u);
    now_ += 40'000;
  }
};

// Whether a pool is down is the attempt plan's to say (it is empty, and the
// forward ends at once with no reply): the pipeline forwards as ever, and the
// missing reply is what gives the stale answer.
TEST_F(StaleTest, AWholePoolDownServesStaleOnceItsAttemptsEnd) {
  ExpireAnEntry();
  PoolDown(kUpstreamPool);
  const Answer answer = Resolve("example.com", kTypeA, {});
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_EQ(answer.ttl, kStaleTtl);
  EXPECT_EQ(counters_.stale_answers, 1u);
}

TEST_F(StaleTest, AForwardedServFailGivesTheStaleAnswer) {
  ExpireAnEntry();
  const Answer answer = Resolve("example.com", kTypeA, ServFailReply("example.com"));
  EXPECT_EQ(Text(answer).rcode, kNoError);
  EXPECT_EQ(counters_.stale_answers, 1u);
}

TEST_F(StaleTest, NoReplyGivesTheStaleAnswer) {
  ExpireAnEntry();
  const Answer answer = Resolve("example.com", kTypeA, {});
  EXPECT_EQ(Text(answer).answer.size(), 1u);
  EXPECT_EQ(counters_.stale_answers, 1u);
}

TEST_F(StaleTest, AForwardedServFailWithoutStaleIsPassedOn) {
  ExpireAnEntry(/*serve_stale=*/false);
  const Answer answer = Resolve("example.com", kTypeA, ServFailReply("example.com"));
  EXPECT_EQ(Text(answer).rcode, kServFail);
  EXPECT_EQ(counters_.stale_answers, 0u);
}

TEST_F(StaleTest, NoReplyWithoutStaleIsServFail) {
  ExpireAnEntry(/*serve_stale=*/false);
  const Answer answer = Resolve("example.com", kTypeA, {});
  EXPECT_EQ(answer.kind, Answer::Kind::kServFail);
  // The errors log says what happened: a timeout, not a block without a forward.
  EXPECT_EQ(answer.why.message(), "no resolver answered in time");
}

TEST_F(StaleTest, OverloadedWithoutAReplyIsRefused) {
  LoadMesh();
  ASSERT_EQ(Start("example.com", kTypeA).kind, Step::Kind::kForward);
  EXPECT_EQ(Forwarded({}, /*overloaded=*/true).kind, Answer::Kind::kRefused);
}

// --- templates and CNAME chains ---------------------------------------------------

constexpr char kTemplates[] = R"(example.org {
    template IN A example.org {
        match ^a\.example\.org\.$
        answer "{{ .Name }} 60 IN A 192.0.2.7"
        fallthrough
    }
    template IN A example.org {
        match ^alias\.example\.org\.$
        answer "{{ .Name }} 60 IN CNAME target.example.net."
    }
}
. {
    forward . 10.0.0.1
}
)";

TEST_F(PipelineTest, ATemplateAnswers) {
  LoadCorefile(kTemplates);
  const Answer answer = StartAnswers("a.example.org", kTypeA);
  const MessageText m = Text(answer);
  EXPECT_TRUE(m.aa);
  EXPECT_EQ(m.answer, (S{"a.example.org. 60 IN A 192.0.2.7"}));
  EXPECT_EQ(counters_.synthesized, 1u);
}

// CoreDNS's README example "Resolve .invalid as NXDOMAIN" (template, v1.14.7):
// NXDOMAIN with the SOA, and EDE 21 with its text for the OPT, kept in the
// cache with the answer. A forwarded answer has none.
TEST_F(PipelineTest, ATemplatesEderrorGoesWithItsReplyIntoTheCache) {
  LoadCorefile(R"cf(. {
    cache 30
    forward . 10.0.0.1
    template ANY ANY invalid {
      rcode NXDOMAIN
      authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
      ederror 21 "Blocked according to RFC2606"
    }
}
)cf");
  const Answer answer = StartAnswers("host.example.invalid", kTypeA);
  ASSERT_EQ(answer.kind, Answer::Kind::kReply);
  EXPECT_EQ(answer.reply->rcode(), kNxDomain);
  EXPECT_EQ(Text(answer).authority, (S{"invalid. 30 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60"}))
      << "the SOA as cache 30 keeps it";
  ASSERT_NE(answer.reply->ede, nullptr);
  EXPECT_EQ(ReadU16(&(*answer.reply->ede)[4]), 21);
  EXPECT_EQ(std::string(answer.reply->ede->begin() + 6, answer.reply->ede->end()), "Blocked according to RFC2606");
  const Answer hit = StartAnswers("host.example.invalid", kTypeA);
  ASSERT_TRUE(hit.from_cache);
  EXPECT_EQ(hit.reply->ede, answer.reply->ede);

  const Answer forwarded = Resolve("example.com", kTypeA, AReply("example.com"));
  ASSERT_EQ(forwarded.kind, Answer::Kind::kReply);
  EXPECT_EQ(forwarded.reply->ede, nullptr);
}

TEST_F(PipelineTest, ATemplateCnameIsChased) {
  LoadCorefile(kTemplates);
  const Step step = Start("alias.example.org", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kChase);
  EXPECT_EQ(step.target.name.ToText(), "target.example.net.");
  EXPECT_EQ(step.target.qtype, kTypeA);
}

class ChaseTest : public PipelineTest {
 protected:
  // alias.example.org A chased: the target resolved through the pipeline
  // with `reply` from its resolver, then merged.
  MessageText Chase(std::span<const uint8_t> reply) {
    LoadCorefile(kTemplates);
    const Step step = Start("alias.example.org", kTypeA);
    EXPECT_EQ(step.kind, Step::Kind::kChase);
    QueryState target;
    EXPECT_EQ(pipeline().Start(step.target, state_.depth + 1, target, At()).kind, Step::Kind::kForward);
    const Answer end = Answered(pipeline().Forwarded(target, reply, false, At()));
    return Text(Answered(pipeline().Chased(state_, end, At())));
  }
};

TEST_F(ChaseTest, ChasedMergesTheTargetsAnswer) {
  const MessageText m = Chase(AReply("target.example.net"));
  EXPECT_EQ(m.question, (S{"alias.example.org. IN A"}));
  EXPECT_EQ(m.answer, (S{"alias.example.org. 60 IN CNAME target.example.net.",
                         "target.example.net. 300 IN A 192.0.2.1"}));
}

TEST_F(ChaseTest, TheRcodeIsTheChainEnds) {
  const MessageText m = Chase(NxReply("target.example.net", "example.net"));
  EXPECT_EQ(m.rcode, kNxDomain);
  EXPECT_EQ(m.answer.size(), 1u);
}

TEST_F(PipelineTest, AChainAtItsLongestIsServFail) {
  LoadCorefile(kTemplates);
  EXPECT_EQ(Start("alias.example.org", kTypeA, Pipeline::kMaxChainLinks - 1).kind, Step::Kind::kChase);
  const Answer answer = StartAnswers("alias.example.org", kTypeA, Pipeline::kMaxChainLinks);
  EXPECT_EQ(answer.kind, Answer::Kind::kServFail);
}

// --- hosts, and a block with nothing to answer ---------------------------------------

std::string HostsBlock(bool fallthrough) {
  return std::string("example.org {\n    hosts /nonexistent/meshdns-test-hosts {\n        192.0.2.9 h.example.org\n") +
         (fallthrough ? "        fallthrough\n" : "") + "    }\n    forward . 10.0.0.1\n}\n";
}

TEST_F(PipelineTest, HostsAnswers) {
  LoadCorefile(HostsBlock(/*fallthrough=*/true));
  const Answer answer = StartAnswers("h.example.org", kTypeA);
  EXPECT_EQ(Text(answer).answer, (S{"h.example.org. 3600 IN A 192.0.2.9"}));
  EXPECT_EQ(Start("other.example.org", kTypeA).kind, Step::Kind::kForward) << "fallthrough";
}

TEST_F(PipelineTest, HostsWithoutFallthroughIsServFailForOtherNames) {
  LoadCorefile(HostsBlock(/*fallthrough=*/false));
  const Answer answer = StartAnswers("other.example.org", kTypeA);
  EXPECT_EQ(answer.kind, Answer::Kind::kServFail);
}

TEST_F(PipelineTest, ABlockThatDoesNotForwardIsServFail) {
  LoadCorefile("example.org {\n    errors\n}\n");
  const Answer answer = StartAnswers("www.example.org", kTypeA);
  EXPECT_EQ(answer.kind, Answer::Kind::kServFail);
  EXPECT_EQ(answer.why.message(), "no plugin answered");
  EXPECT_TRUE(answer.log) << "the block has errors";
}

// CoreDNS's server.go: a block whose directives add no DNS handler (only
// reload, bind, health, ready, or none) has no plugin chain, and its names
// are REFUSED, even where a shorter zone's block would answer.
TEST_F(PipelineTest, ABlockWithoutPluginsIsRefused) {
  LoadCorefile("example.org {\n    health :18080\n    reload\n}\nexample.net {\n}\n. {\n    forward . 10.0.0.1\n}\n");
  const Answer answer = StartAnswers("www.example.org", kTypeA);
  EXPECT_EQ(answer.kind, Answer::Kind::kRefused);
  EXPECT_EQ(StartAnswers("example.net", kTypeA).kind, Answer::Kind::kRefused) << "an empty block";
  EXPECT_EQ(Start("example.com", kTypeA).kind, Step::Kind::kForward);
}

// server.go refuses a class other than IN unless a block of the server has
// chaos or forward (EnableChaos); a forward then passes the class on.
TEST_F(PipelineTest, ClassesOtherThanInAreRefusedUnlessTheServerForwards) {
  LoadCorefile(R"(example.org:1053 {
    template ANY ANY {
        answer "{{ .Name }} 60 IN A 10.0.0.1"
    }
}
example.org:1054 {
    template ANY ANY {
        answer "{{ .Name }} 60 IN A 10.0.0.1"
    }
}
.:1054 {
    forward . 10.0.0.3
}
)");
  for (const uint16_t qclass : {kClassCH, kClassANY, uint16_t{4}}) {
    const Question on_1053{.name = N("example.org"), .qtype = kTypeTXT, .qclass = qclass, .server = 0};
    const Step refused = Start(on_1053);
    ASSERT_EQ(refused.kind, Step::Kind::kAnswer) << qclass;
    EXPECT_EQ(refused.answer.kind, Answer::Kind::kRefused) << qclass;
    Question on_1054 = on_1053;
    on_1054.server = 1;
    on_1054.name = N("example.com");
    EXPECT_EQ(Start(on_1054).kind, Step::Kind::kForward) << qclass << ": the forward opens the server's classes";
    on_1054.name = N("example.org");
    const Step templated = Start(on_1054);
    ASSERT_EQ(templated.kind, Step::Kind::kAnswer) << qclass;
    EXPECT_EQ(templated.answer.kind, Answer::Kind::kReply) << qclass << ": a block of an open server answers";
  }
  const Question in{.name = N("example.org"), .qtype = kTypeA, .qclass = kClassIN, .server = 0};
  EXPECT_EQ(Text(Start(in).answer).answer, (S{"example.org. 60 IN A 10.0.0.1"}));
}

TEST_F(PipelineTest, AMeshYamlTakesEveryClass) {
  LoadMesh();
  const Question q{.name = N("example.com"), .qtype = kTypeTXT, .qclass = kClassCH};
  EXPECT_EQ(Start(q).kind, Step::Kind::kForward);
}

// --- local, any, chaos, whoami ----------------------------------------------------------

// local comes before cache in plugin.cfg: its answers are never kept.
TEST_F(PipelineTest, LocalAnswersAheadOfTheCacheAndTheForward) {
  LoadCorefile(". {\n    cache 300\n    forward . 10.0.0.1\n    local\n}\n");
  for (int round = 0; round < 2; ++round) {
    const Answer answer = StartAnswers("localhost", kTypeA);
    EXPECT_EQ(Text(answer).answer, (S{"localhost. 604800 IN A 127.0.0.1"}));
    EXPECT_FALSE(answer.from_cache);
  }
  EXPECT_EQ(Text(StartAnswers("9.0.0.127.in-addr.arpa", kTypePTR)).rcode, kNxDomain);
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(Start("example.org", kTypeA).kind, Step::Kind::kForward);
}

TEST_F(PipelineTest, AnyAnswersAnyQuestionsOnly) {
  LoadCorefile(". {\n    any\n    forward . 10.0.0.1\n}\n");
  EXPECT_EQ(Text(StartAnswers("example.org", kTypeANY)).answer,
            (S{"example.org. 8482 IN HINFO \"ANY obsoleted\" \"See RFC 8482\""}));
  EXPECT_EQ(Start("example.org", kTypeA).kind, Step::Kind::kForward);
}

// chaos opens the server to class CH (server.go's EnableChaos), on every block of it.
TEST_F(PipelineTest, ChaosAnswersChTxtAndOpensTheServersClasses) {
  LoadCorefile(R"(. {
    chaos v1 Alice
}
example.org {
    template IN A {
        answer "{{ .Name }} 60 IN A 10.0.0.1"
    }
}
)");
  const Question version{.name = N("VERSION.bind"), .qtype = kTypeTXT, .qclass = kClassCH};
  EXPECT_EQ(Text(Start(version).answer).answer, (S{"VERSION.bind. 0 CH TXT \"v1\""}));
  const Question authors{.name = N("authors.bind"), .qtype = kTypeTXT, .qclass = kClassCH};
  EXPECT_EQ(Text(Start(authors).answer).answer, (S{"authors.bind. 0 CH TXT \"Alice\""}));
  const Question other{.name = N("example.org"), .qtype = kTypeTXT, .qclass = kClassCH};
  const Step step = Start(other);
  ASSERT_EQ(step.kind, Step::Kind::kAnswer);
  EXPECT_EQ(step.answer.kind, Answer::Kind::kServFail) << "taken, then no plugin of example.org answers CH";
}

TEST_F(PipelineTest, WhoamiAnswersWhatNoForwardTakesAndIsNeverCached) {
  LoadCorefile(". {\n    cache 300\n    forward example.org 10.0.0.1\n    whoami\n}\n");
  Question q{.name = N("example.com"), .qtype = kTypeA, .qclass = kClassIN,
             .client = {.ip = IpAddress::FromV4({192, 0, 2, 7}), .port = 5353, .tcp = true}};
  const MessageText first = Text(Start(q).answer);
  EXPECT_TRUE(first.aa);
  EXPECT_EQ(first.additional, (S{"example.com. 0 IN A 192.0.2.7", "_tcp.example.com. 0 IN SRV 0 0 5353 ."}));
  q.client = {.ip = IpAddress::FromV4({192, 0, 2, 8}), .port = 1000, .tcp = false};
  EXPECT_EQ(Text(Start(q).answer).additional,
            (S{"example.com. 0 IN A 192.0.2.8", "_udp.example.com. 0 IN SRV 0 0 1000 ."}));
  EXPECT_EQ(cache_.size(), 0u);
  EXPECT_EQ(Start("www.example.org", kTypeA).kind, Step::Kind::kForward) << "forward comes before whoami";
}

// --- loop -----------------------------------------------------------------------------

TEST_F(PipelineTest, TheLoopProbeSeenAThirdTimeIsALoop) {
  LoadCorefile(". {\n    loop\n    forward . 10.0.0.1\n}\n");
  ASSERT_TRUE(rt_->program.loop());
  const Question probe{.name = rt_->program.loop()->name, .qtype = kTypeHINFO, .qclass = kClassIN};
  EXPECT_EQ(Start(probe).kind, Step::Kind::kForward);
  EXPECT_EQ(Start(probe).kind, Step::Kind::kForward);
  EXPECT_EQ(Start(probe).kind, Step::Kind::kLoopDetected);
}

}  // namespace
}  // namespace meshdns
