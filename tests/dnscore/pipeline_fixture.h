// The pipeline tests' fixture: programs compiled from YAML or Corefile text by
// the real compilers, a cache, a clock that is a number, and helpers that
// play a resolver's replies. Shared by pipeline_test and pipeline_clusterset_test.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/corefile_runtime.h"
#include "config/runtime.h"
#include "dnscore/pipeline.h"
#include "tests/dnscore/message_text.h"
#include "tests/dnscore/wire_builder.h"

namespace meshdns {

using testing::MessageText;
using testing::ReadMessage;
using testing::Wire;
using S = std::vector<std::string>;

inline DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

// Pools in file order: 0 cluster1, 1 cluster2, 2 cluster3, 3 upstream.
inline constexpr char kMesh[] = R"(cluster: cluster1
clusters:
  cluster1: {resolvers: ["10.1.0.10"]}
  cluster2: {resolvers: ["10.2.0.10"]}
  cluster3: {resolvers: ["10.3.0.10"]}
upstream: ["10.9.0.10"]
)";
inline constexpr size_t kCluster2Pool = 1, kUpstreamPool = 3;

// A resolver's reply to (name, qtype): the header and question; records follow.
inline Wire ReplyTo(std::string_view name, uint16_t qtype, uint16_t answers, uint16_t authority = 0,
             uint8_t rcode = kNoError) {
  Wire w;
  w.Header(0, kFlagQR | kFlagRD | kFlagRA | rcode, 1, answers, authority).Question(name, qtype);
  return w;
}
inline std::vector<uint8_t> AReply(std::string_view name, uint32_t ttl = 300, std::vector<uint8_t> ip = {192, 0, 2, 1}) {
  return ReplyTo(name, kTypeA, 1).Rr(name, kTypeA, ttl, ip).bytes();
}
inline std::vector<uint8_t> NxReply(std::string_view name, std::string_view zone) {
  return ReplyTo(name, kTypeA, 0, 1, kNxDomain).Soa(zone, 60, 60).bytes();
}
inline std::vector<uint8_t> ServFailReply(std::string_view name) { return ReplyTo(name, kTypeA, 0, 0, kServFail).bytes(); }

inline MessageText Text(const Answer& answer) {
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

  Pipeline pipeline() { return Pipeline(rt_->program, rt_->pool_health, cache_, counters_, scratch_); }
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
  // The resolver's reply, which must end the question (no chase for rewrite cname).
  Answer Forwarded(std::span<const uint8_t> reply, bool overloaded = false) {
    return Answered(pipeline().Forwarded(state_, reply, overloaded, At()));
  }
  static Answer Answered(const Step& step) {
    EXPECT_EQ(step.kind, Step::Kind::kAnswer);
    return step.answer;
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
  RenameScratch scratch_;
  std::shared_ptr<const Runtime> rt_;
  QueryState state_;
};

}  // namespace meshdns
