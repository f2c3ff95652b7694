// The pipeline's other hot parts, one benchmark each: cache insert (with
// eviction), TTL ageing on a hit, storing an upstream reply, routing, the
// cluster rewrite both ways, the clusterset template, and resolver selection.
#include <benchmark/benchmark.h>

#include "dnscore/clusterset_zone.h"
#include "dnscore/mesh.h"
#include "dnscore/message.h"
#include "dnscore/packet_cache.h"
#include "dnscore/policy.h"
#include "dnscore/template.h"

namespace meshdns {
namespace {

constexpr const char* kHost = "my-cluster-broker-100.my-cluster-kafka-brokers.strimzi.svc.cluster.local.";
constexpr const char* kClusterHost = "my-cluster-broker-100.my-cluster-kafka-brokers.strimzi.cluster2.svc.cluster.local.";

DnsName Name(absl::string_view text) { return *DnsName::FromText(text); }

std::vector<uint8_t> AReply(const DnsName& name, int records) {
  std::vector<RrPtr> answer;
  for (int i = 0; i < records; ++i) {
    answer.push_back(*ParseRecord(absl::StrCat(name.ToText(), " 30 IN A 10.2.0.", i + 1)));
  }
  return *BuildAuthoritativeReply(name, kTypeA, kClassIN, kNoError, answer, {});
}

QueryView View(const std::vector<uint8_t>& wire) {
  QueryView view;
  (void)ParseQuery(wire, view);
  return view;
}

std::vector<uint8_t> Query(const DnsName& name) {
  std::vector<uint8_t> q(kHeaderSize);
  q[5] = 1;  // QDCOUNT
  q.resize(kHeaderSize + name.WireSize() + 4);
  name.WriteLowerWire(&q[kHeaderSize]);
  WriteU16(&q[kHeaderSize + name.WireSize()], kTypeA);
  WriteU16(&q[kHeaderSize + name.WireSize() + 2], kClassIN);
  return q;
}

// Every insert is a new name into a full cache: the eviction is part of it.
void BM_CacheInsert(benchmark::State& state) {
  const size_t capacity = static_cast<size_t>(state.range(0));
  PacketCache cache(capacity);
  const DnsName base = Name(kHost);
  auto stored = std::make_shared<const StoredReply>(*StoredReply::FromMessage(AReply(base, 1), TtlPolicy{}));
  std::vector<CacheKey> keys;
  for (size_t i = 0; i < 2 * capacity; ++i) {
    keys.emplace_back(Name(absl::StrCat("q", i, ".", kHost)), kTypeA, kClassIN, false, false);
  }
  size_t i = 0;
  for (auto _ : state) {
    cache.Insert(keys[i], stored, 1000);
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_CacheInsert)->Arg(1000)->Arg(100000);

// A hit part-way through the entry's life: every TTL rewritten on the way out.
void BM_CacheHitTtlAgeing(benchmark::State& state) {
  const DnsName name = Name(kHost);
  PacketCache cache(16);
  const CacheKey key(name, kTypeA, kClassIN, false, false);
  cache.Insert(key, std::make_shared<const StoredReply>(
                        *StoredReply::FromMessage(AReply(name, static_cast<int>(state.range(0))), TtlPolicy{})),
               0);
  const std::vector<uint8_t> query = Query(name);
  const QueryView view = View(query);
  std::array<uint8_t, 4096> out;
  const CacheLookup options{.write = {.limit = 1232}, .now = 12345};
  for (auto _ : state) benchmark::DoNotOptimize(cache.Lookup(key, view, query, options, out));
}
BENCHMARK(BM_CacheHitTtlAgeing)->Arg(1)->Arg(8);

// What a miss pays once its reply arrives: scan, OPT dropped, TTLs made uniform.
void BM_StoreUpstreamReply(benchmark::State& state) {
  const std::vector<uint8_t> reply = AReply(Name(kHost), 3);
  for (auto _ : state) benchmark::DoNotOptimize(StoredReply::FromMessage(reply, TtlPolicy{}));
}
BENCHMARK(BM_StoreUpstreamReply);

Mesh TestMesh() {
  return Mesh(Name("cluster.local"), Name("clusterset.local"), {"cluster1", "cluster2", "cluster3"}, 0);
}

void BM_RouteName(benchmark::State& state) {
  const Mesh mesh = TestMesh();
  const DnsName name = Name(kClusterHost);
  for (auto _ : state) benchmark::DoNotOptimize(mesh.RouteName(name));
}
BENCHMARK(BM_RouteName);

void BM_ClusterStrip(benchmark::State& state) {
  const Mesh mesh = TestMesh();
  const DnsName name = Name(kClusterHost);
  DnsName out;
  for (auto _ : state) benchmark::DoNotOptimize(mesh.clusters()[1].rewrite.Strip(name, out));
}
BENCHMARK(BM_ClusterStrip);

// The reply rewrite: owner names moved back under the cluster's zone.
void BM_ClusterRestoreReply(benchmark::State& state) {
  const Mesh mesh = TestMesh();
  const DnsName client = Name(kClusterHost);
  const std::vector<uint8_t> reply = AReply(Name(kHost), static_cast<int>(state.range(0)));
  RenameScratch scratch;  // a worker's, kept from reply to reply
  for (auto _ : state) benchmark::DoNotOptimize(mesh.clusters()[1].rewrite.RestoreReply(reply, client, scratch));
}
BENCHMARK(BM_ClusterRestoreReply)->Arg(1)->Arg(8);

std::shared_ptr<const Template> DefaultTemplate() {
  const std::string label = "[a-zA-Z0-9-]+";
  return *Template::Compile(
      absl::StrCat("^(?P<host>", label, ")\\.(?P<cluster>", label, ")\\.(?P<service>", label, ")\\.(?P<ns>", label,
                   ")\\.svc\\.clusterset\\.local\\.$"),
      {"{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc."
       "cluster.local."});
}

void BM_TemplateMatch(benchmark::State& state) {
  const std::shared_ptr<const Template> t = DefaultTemplate();
  const std::string name = "my-cluster-broker-1.cluster2.my-cluster-kafka-brokers.strimzi.svc.clusterset.local.";
  TemplateMatch m;
  for (auto _ : state) benchmark::DoNotOptimize(t->Match(name, m));
}
BENCHMARK(BM_TemplateMatch);

void BM_TemplateRender(benchmark::State& state) {
  const std::shared_ptr<const Template> t = DefaultTemplate();
  const std::string name = "my-cluster-broker-1.cluster2.my-cluster-kafka-brokers.strimzi.svc.clusterset.local.";
  TemplateMatch m;
  (void)t->Match(name, m);
  const TemplateData data{.name = name, .zone = "clusterset.local.", .qclass = "IN", .qtype = "A"};
  for (auto _ : state) benchmark::DoNotOptimize(t->Render(m, data));
}
BENCHMARK(BM_TemplateRender);

// The whole synthesis of a clusterset answer (match, render, CNAME target).
void BM_ClustersetAnswer(benchmark::State& state) {
  const Mesh mesh = TestMesh();
  const ClustersetZone zone(mesh, {DefaultTemplate()}, 5);
  const DnsName name = Name("my-cluster-broker-1.cluster2.my-cluster-kafka-brokers.strimzi.svc.clusterset.local.");
  for (auto _ : state) benchmark::DoNotOptimize(zone.Answer(name, kTypeA, kClassIN));
}
BENCHMARK(BM_ClustersetAnswer);

void BM_PlanAttempts(benchmark::State& state) {
  std::vector<ResolverHealth> health(static_cast<size_t>(state.range(0)));
  std::vector<ResolverHealth*> view;
  for (ResolverHealth& h : health) view.push_back(&h);
  (void)health[1].RecordFailure(HealthOptions{.max_fails = 1}, 1);  // one resolver down: it is skipped
  std::array<uint8_t, 256> order;
  uint64_t ticket = 0;
  for (auto _ : state) benchmark::DoNotOptimize(PlanAttempts(Policy::kRoundRobin, ticket++, view, order));
}
BENCHMARK(BM_PlanAttempts)->Arg(3)->Arg(16);

}  // namespace
}  // namespace meshdns
