// The pipeline driven by hand, as the server's QueryEngine drives it: Start,
// then the I/O its Step asks for played by the test (a resolver's reply, a
// chased target, the clusters' parts), then Forwarded / Chased / FannedOut.
// Programs come from YAML and Corefile text through the real compilers; the
// clock is a number; pool health is ResolverHealth the test marks down.
#include "dnscore/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/corefile_runtime.h"
#include "config/runtime.h"
#include "tests/dnscore/message_text.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {
namespace {

using testing::MessageText;
using testing::ReadMessage;
using testing::Wire;
using S = std::vector<std::string>;

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

// Pools in file order: 0 cluster1, 1 cluster2, 2 cluster3, 3 upstream.
constexpr char kMesh[] = R"(cluster: cluster1
clusters:
  cluster1: {resolvers: ["10.1.0.10"]}
  cluster2: {resolvers: ["10.2.0.10"]}
  cluster3: {resolvers: ["10.3.0.10"]}
upstream: ["10.9.0.10"]
)";
constexpr size_t kCluster2Pool = 1, kUpstreamPool = 3;

// A resolver's reply to (name, qtype): the header and question; records follow.
Wire ReplyTo(std::string_view name, uint16_t qtype, uint16_t answers, uint16_t authority = 0,
             uint8_t rcode = kNoError) {
  Wire w;
  w.Header(0, kFlagQR | kFlagRD | kFlagRA | rcode, 1, answers, authority).Question(name, qtype);
  return w;
}
std::vector<uint8_t> AReply(std::string_view name, uint32_t ttl = 300, std::vector<uint8_t> ip = {192, 0, 2, 1}) {
  return ReplyTo(name, kTypeA, 1).Rr(name, kTypeA, ttl, ip).bytes();
}
std::vector<uint8_t> NxReply(std::string_view name, std::string_view zone) {
  return ReplyTo(name, kTypeA, 0, 1, kNxDomain).Soa(zone, 60, 60).bytes();
}
std::vector<uint8_t> ServFailReply(std::string_view name) { return ReplyTo(name, kTypeA, 0, 0, kServFail).bytes(); }

MessageText Text(const Answer& answer) {
  EXPECT_EQ(answer.kind, Answer::Kind::kReply) << answer.why;
  return answer.kind == Answer::Kind::kReply ? ReadMessage(answer.reply->wire) : MessageText{};
}

class PipelineTest : public ::testing::Test {
 protected:
  void LoadMesh(const std::string& extra = "") {
    LoadResult r = LoadConfigText(kMesh + extra, "mesh.yaml");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
    ASSERT_TRUE(r.config);
    rt_ = Runtime::Compile(*std::move(r.config));
  }
  void LoadCorefile(const std::string& text) {
    CorefileResult r = ReadCorefileText(text, "Corefile");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
    ASSERT_TRUE(r.corefile);
    CorefileLoad c = CompileCorefile(*r.corefile);
    for (const ConfigError& e : c.errors) ADD_FAILURE() << e.ToString();
    ASSERT_TRUE(c.config);
    rt_ = Runtime::Compile(*std::move(c.config), std::move(c.serving));
  }

  Pipeline pipeline() { return Pipeline(rt_->program, rt_->pool_health, cache_, counters_); }
  Pipeline::Options At() const { return {.now = now_}; }

  Step Start(const Question& q, int depth = 0) { return pipeline().Start(q, depth, state_, At()); }
  Step Start(absl::string_view name, uint16_t qtype, int depth = 0) {
    return Start(Question{.name = N(name), .qtype = qtype, .qclass = kClassIN}, depth);
  }
  // Start must answer without any I/O; its answer.
  Answer StartAnswers(absl::string_view name, uint16_t qtype, int depth = 0) {
    const Step step = Start(name, qtype, depth);
    EXPECT_EQ(step.kind, Step::Kind::kAnswer) << name;
    return step.answer;
  }
  Answer Forwarded(std::span<const uint8_t> reply, bool overloaded = false) {
    return pipeline().Forwarded(state_, reply, overloaded, At());
  }
  // A whole forwarded question: Start must ask a resolver, which answers `reply`.
  Answer Resolve(absl::string_view name, uint16_t qtype, std::span<const uint8_t> reply) {
    const Step step = Start(name, qtype);
    EXPECT_EQ(step.kind, Step::Kind::kForward) << name;
    return Forwarded(reply);
  }
  // Every resolver of the pool out of rotation.
  void PoolDown(size_t pool) {
    for (const auto& h : rt_->pools[pool].health) (void)h->RecordFailure(HealthOptions{.max_fails = 1}, now_);
  }

  Millis now_ = 1'000'000;
  PacketCache cache_{1024};
  PipelineCounters counters_;
  std::shared_ptr<const Runtime> rt_;
  QueryState state_;
};

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
  const Answer answer = pipeline().Forwarded(state_, AReply("example.com"), false, {.now = now_, .store = false});
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

TEST_F(StaleTest, AWholePoolDownServesStaleWithoutForwarding) {
  ExpireAnEntry();
  PoolDown(kUpstreamPool);
  const Answer answer = StartAnswers("example.com", kTypeA);
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
  EXPECT_EQ(Resolve("example.com", kTypeA, {}).kind, Answer::Kind::kServFail);
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
    const Answer end = pipeline().Forwarded(target, reply, false, At());
    return Text(pipeline().Chased(state_, end, At()));
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

// --- the clusterset zone (contract rules 2-4) --------------------------------------

TEST_F(PipelineTest, TheSchemaVersionIsATxtRecord) {
  LoadMesh();
  const Answer answer = StartAnswers("dns-version.clusterset.local", kTypeTXT);
  const MessageText m = Text(answer);
  ASSERT_EQ(m.answer.size(), 1u);
  EXPECT_TRUE(m.answer[0].ends_with("IN TXT \"1.0.0\"")) << m.answer[0];
}

TEST_F(PipelineTest, TheRestOfTheClustersetZoneIsNxDomainWithSoa) {
  LoadMesh();
  const Answer answer = StartAnswers("nothing.here.clusterset.local", kTypeA);
  const MessageText m = Text(answer);
  EXPECT_EQ(m.rcode, kNxDomain);
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_TRUE(m.authority[0].starts_with("clusterset.local. 5 IN SOA")) << m.authority[0];
}

TEST_F(PipelineTest, AHostNameInAClusterOutsideTheMeshIsNxDomain) {
  LoadMesh();
  EXPECT_EQ(Start("web.cluster2.nginx.default.svc.clusterset.local", kTypeA).kind, Step::Kind::kChase);
  const Answer answer = StartAnswers("web.cluster9.nginx.default.svc.clusterset.local", kTypeA);
  EXPECT_EQ(Text(answer).rcode, kNxDomain);
}

// Rule 3 where a Corefile's own template answers (the mesh recovered from its blocks).
TEST_F(PipelineTest, ACorefileTemplatesClusterOutsideTheMeshIsNxDomain) {
  LoadCorefile(R"(.:53 {
    rewrite stop {
        name substring cluster1.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 10.9.0.10
    cache 30
}
cluster2.svc.cluster.local:53 {
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 10.2.0.10
}
clusterset.local:53 {
    template IN ANY clusterset.local {
        match "^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$"
        answer "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"
    }
}
)");
  ASSERT_NE(rt_->program.mesh(), nullptr) << "the Corefile is in the mesh pattern";
  EXPECT_EQ(Start("web.cluster2.nginx.default.svc.clusterset.local", kTypeA).kind, Step::Kind::kChase);
  const Answer answer = StartAnswers("web.cluster9.nginx.default.svc.clusterset.local", kTypeA);
  const MessageText m = Text(answer);
  EXPECT_EQ(m.rcode, kNxDomain);
  EXPECT_EQ(m.answer, S{});
  EXPECT_EQ(m.authority.size(), 1u);
}

std::vector<std::string> PartNames(const Step& step) {
  std::vector<std::string> out;
  for (const Question& q : step.part_questions) out.push_back(q.name.ToText());
  return out;
}

TEST_F(PipelineTest, AServiceNameFansOutToEveryCluster) {
  LoadMesh();
  const Step step = Start("nginx.default.svc.clusterset.local", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kFanOut);
  ASSERT_EQ(step.parts.size(), 3u);
  for (size_t c = 0; c < 3; ++c) EXPECT_EQ(step.parts[c].cluster, c);
  EXPECT_EQ(PartNames(step), (S{"nginx.default.cluster1.svc.cluster.local.", "nginx.default.cluster2.svc.cluster.local.",
                                "nginx.default.cluster3.svc.cluster.local."}));
  EXPECT_EQ(step.budget, 1000);
}

TEST_F(PipelineTest, AClusterWhosePoolIsDownIsLeftOutOfTheFanOut) {
  LoadMesh();
  PoolDown(kCluster2Pool);
  const Step step = Start("nginx.default.svc.clusterset.local", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kFanOut);
  EXPECT_EQ(PartNames(step), (S{"nginx.default.cluster1.svc.cluster.local.", "nginx.default.cluster3.svc.cluster.local."}));
  EXPECT_EQ(counters_.fanout_left_out, 1u);
}

TEST_F(PipelineTest, FannedOutMergesByAffinity) {
  LoadMesh("clusterset: {affinity: local}\n");
  Step step = Start("nginx.default.svc.clusterset.local", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kFanOut);
  ASSERT_EQ(step.parts.size(), 3u);
  const std::vector<uint8_t> ips[] = {{10, 1, 0, 1}, {10, 2, 0, 1}, {10, 3, 0, 1}};
  for (size_t i = 0; i < step.parts.size(); ++i) {
    step.parts[i].reply = AReply(step.part_questions[i].name.ToText(), 5, ips[i]);
  }
  const MessageText m = Text(pipeline().FannedOut(state_, step.parts, At()));
  EXPECT_EQ(m.answer, (S{"nginx.default.svc.clusterset.local. 5 IN A 10.1.0.1"})) << "the local cluster's only";
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
