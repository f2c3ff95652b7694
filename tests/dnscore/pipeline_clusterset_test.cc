// The clusterset zone through the pipeline (contract rules 2-4): the schema
// version, synthesised host names, services fanned out to the clusters and
// merged, and what a Corefile's own templates leave to the mesh rules.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace meshdns
