// The clusterset zone through the pipeline (contract rules 2-4): the schema
// version, synthesised host names, services fanned out to the clusters and
// merged, and what a Corefile's own templates leave to the mesh rules.
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "tests/dnscore/pipeline_fixture.h"

namespace meshdns {
namespace {

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

// A Corefile in the mesh pattern (the mesh is recovered from its blocks),
// whose clusterset template has no fallthrough.
constexpr char kMeshCorefile[] = R"(.:53 {
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
)";

// Rule 3 where a Corefile's own template answers.
TEST_F(PipelineTest, ACorefileTemplatesClusterOutsideTheMeshIsNxDomain) {
  LoadCorefile(kMeshCorefile);
  ASSERT_NE(rt_->program.mesh(), nullptr) << "the Corefile is in the mesh pattern";
  EXPECT_EQ(Start("web.cluster2.nginx.default.svc.clusterset.local", kTypeA).kind, Step::Kind::kChase);
  const Answer answer = StartAnswers("web.cluster9.nginx.default.svc.clusterset.local", kTypeA);
  const MessageText m = Text(answer);
  EXPECT_EQ(m.rcode, kNxDomain);
  EXPECT_EQ(m.answer, S{});
  EXPECT_EQ(m.authority.size(), 1u);
}

// --- names that exist without records of their own (v2 rule 4, RFC 8020) ----------

constexpr char kSoa[] = "clusterset.local. 5 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. 1 7200 1800 86400 5";

// NOERROR, no records, and the zone's SOA (owned by the apex) to make it cacheable.
void ExpectNoData(const MessageText& m, absl::string_view why) {
  EXPECT_EQ(m.rcode, kNoError) << why;
  EXPECT_TRUE(m.aa) << why;
  EXPECT_EQ(m.answer, S{}) << why;
  EXPECT_EQ(m.authority, S{kSoa}) << why;
}

TEST_F(PipelineTest, TheClustersetApexAnswersItsSoaAndNs) {
  LoadMesh();
  const MessageText soa = Text(StartAnswers("clusterset.local", kTypeSOA));
  EXPECT_EQ(soa.rcode, kNoError);
  EXPECT_TRUE(soa.aa);
  EXPECT_EQ(soa.answer, S{kSoa});
  EXPECT_EQ(soa.authority, S{});
  const MessageText ns = Text(StartAnswers("ClusterSet.local", kTypeNS));
  EXPECT_EQ(ns.rcode, kNoError);
  EXPECT_EQ(ns.question, S{"ClusterSet.local. IN NS"});
  ASSERT_EQ(ns.answer.size(), 1u);
  // Names in the answer take the question's case (they are compressed against it).
  EXPECT_EQ(absl::AsciiStrToLower(ns.answer[0]), "clusterset.local. 5 in ns ns.dns.clusterset.local.");
  ExpectNoData(Text(StartAnswers("clusterset.local", kTypeA)), "apex A");
  // The NS target exists, without addresses meshdns could vouch for.
  ExpectNoData(Text(StartAnswers("ns.dns.clusterset.local", kTypeA)), "ns.dns A");
}

TEST_F(PipelineTest, SvcUnderTheClustersetIsNoDataWithOrWithoutServiceNames) {
  LoadMesh();
  ExpectNoData(Text(StartAnswers("svc.clusterset.local", kTypeA)), "services on");
  LoadMesh("clusterset: {services: false}\n");
  ExpectNoData(Text(StartAnswers("svc.clusterset.local", kTypeA)), "services off");
}

TEST_F(PipelineTest, ANamespaceIsNoDataWhenSomeClusterKnowsIt) {
  LoadMesh();
  Step step = Start("strimzi.svc.clusterset.local", kTypeA);
  ASSERT_EQ(step.kind, Step::Kind::kFanOut);
  ASSERT_EQ(step.parts.size(), 3u);
  EXPECT_EQ(step.part_questions[0].name.ToText(), "strimzi.cluster1.svc.cluster.local.");
  // cluster2's kube-dns has services in the namespace: an empty non-terminal
  // there; cluster1 has none, and cluster3 did not answer in time.
  step.parts[0].reply = NxReply("strimzi.cluster1.svc.cluster.local.", "cluster1.svc.cluster.local.");
  step.parts[1].reply = ReplyTo("strimzi.cluster2.svc.cluster.local.", kTypeA, 0, 1)
                            .Soa("cluster2.svc.cluster.local.", 60, 60).bytes();
  const Answer answer = Answered(pipeline().FannedOut(state_, step.parts, At()));
  ExpectNoData(Text(answer), "strimzi");
  // Rule 7: negative-cacheable.
  EXPECT_EQ(answer.ttl, 5u);
  EXPECT_EQ(Start("strimzi.svc.clusterset.local", kTypeA).kind, Step::Kind::kAnswer) << "from the cache";
}

TEST_F(PipelineTest, ANamespaceOrServiceNoClusterKnowsIsNxDomain) {
  LoadMesh();
  for (const char* name : {"nothing.svc.clusterset.local", "nothing.strimzi.svc.clusterset.local"}) {
    Step step = Start(name, kTypeA);
    ASSERT_EQ(step.kind, Step::Kind::kFanOut) << name;
    for (size_t i = 0; i < step.parts.size(); ++i) {
      step.parts[i].reply = NxReply(step.part_questions[i].name.ToText(), "cluster.local.");
    }
    const MessageText m = Text(Answered(pipeline().FannedOut(state_, step.parts, At())));
    EXPECT_EQ(m.rcode, kNxDomain) << name;
    EXPECT_EQ(m.authority, S{kSoa}) << name;
  }
}

TEST_F(PipelineTest, ANamespaceIsAskedAboutEvenWithoutServiceNames) {
  // The template's host names lie below it either way.
  LoadMesh("clusterset: {services: false}\n");
  EXPECT_EQ(Start("strimzi.svc.clusterset.local", kTypeA).kind, Step::Kind::kFanOut);
  EXPECT_EQ(Text(StartAnswers("kafka.strimzi.svc.clusterset.local", kTypeA)).rcode, kNxDomain);
}

TEST_F(PipelineTest, AClusterLabelUnderAServiceIsNxDomainWithoutAsking) {
  // KEP-1645: <cluster>.<svc>.<ns>.svc.S must not exist.
  LoadMesh();
  const MessageText m = Text(StartAnswers("cluster2.kafka.strimzi.svc.clusterset.local", kTypeA));
  EXPECT_EQ(m.rcode, kNxDomain);
  EXPECT_EQ(m.authority, S{kSoa});
}

TEST_F(PipelineTest, ACorefilesClustersetZoneHasItsApexAndNamespacesToo) {
  LoadCorefile(kMeshCorefile);
  EXPECT_EQ(Text(StartAnswers("clusterset.local", kTypeSOA)).answer.size(), 1u);
  EXPECT_EQ(Text(StartAnswers("svc.clusterset.local", kTypeA)).rcode, kNoError);
  EXPECT_EQ(Start("strimzi.svc.clusterset.local", kTypeA).kind, Step::Kind::kFanOut);
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
  const MessageText m = Text(Answered(pipeline().FannedOut(state_, step.parts, At())));
  EXPECT_EQ(m.answer, (S{"nginx.default.svc.clusterset.local. 5 IN A 10.1.0.1"})) << "the local cluster's only";
}

}  // namespace
}  // namespace meshdns
