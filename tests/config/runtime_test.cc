#include "config/runtime.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshdns {
namespace {

std::shared_ptr<const Runtime> CompileText(const std::string& yaml, const Runtime* previous = nullptr) {
  LoadResult r = LoadConfigText(yaml, "mesh.yaml");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.config) return nullptr;
  return Runtime::Compile(*std::move(r.config), previous);
}

std::vector<std::string> Addresses(const Pool& pool) {
  std::vector<std::string> out;
  for (const SocketAddress& a : pool.resolvers) out.push_back(a.ToString());
  return out;
}

using S = std::vector<std::string>;

constexpr char kMesh[] = R"(cluster: cluster2
clusters:
  cluster1: {resolvers: ["10.1.0.10"]}
  cluster2: {resolvers: ["10.2.0.10", "10.2.0.11:1053"], policy: sequential}
  cluster3: {resolvers: ["10.3.0.10:30053"]}
forward: {policy: random, max_fails: 4}
)";

// A reload must not forget what is known of a resolver: /ready would fail
// until the next probe, a resolver marked down would be asked again at once.
TEST(RuntimeTest, AReloadKeepsTheHealthOfResolversItKeeps) {
  auto before = CompileText(kMesh);
  ASSERT_NE(before, nullptr);
  before->pools[1].health[0]->RecordSuccess(1234);
  ASSERT_TRUE(before->pools[2].health[0]->RecordFailure(HealthOptions{.max_fails = 1}, 99));
  std::string changed = kMesh;
  changed.replace(changed.find("\"10.2.0.11:1053\""), 16, "\"10.2.0.12\"");
  auto after = CompileText(changed, before.get());
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->pools[1].health[0], before->pools[1].health[0]) << "10.2.0.10 is still in cluster2";
  EXPECT_EQ(after->pools[1].health[0]->last_answer(), 1234);
  EXPECT_EQ(after->pools[1].health_view[0], after->pools[1].health[0].get());
  EXPECT_NE(after->pools[1].health[1], before->pools[1].health[1]) << "a new resolver starts afresh";
  EXPECT_EQ(after->pools[1].health[1]->last_answer(), 0);
  EXPECT_FALSE(after->pools[2].health[0]->IsUp()) << "still out of rotation";
  EXPECT_NE(after->pools[3].health[0], before->pools[1].health[0])
      << "the same address in another pool (upstream) has its own health";
}

TEST(RuntimeTest, OnePoolPerClusterInFileOrderThenUpstream) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  ASSERT_EQ(rt->pools.size(), 4u);
  EXPECT_EQ(rt->pools[0].name, "cluster1");
  EXPECT_EQ(rt->pools[1].name, "cluster2");
  EXPECT_EQ(rt->pools[2].name, "cluster3");
  EXPECT_EQ(rt->pools[3].name, "upstream");
  EXPECT_EQ(rt->PoolOfCluster(1), &rt->pools[1]);
  EXPECT_EQ(rt->LocalPool(), &rt->pools[1]);
  EXPECT_EQ(Addresses(rt->pools[0]), (S{"10.1.0.10:53"}));
  EXPECT_EQ(Addresses(rt->pools[1]), (S{"10.2.0.10:53", "10.2.0.11:1053"}));
  EXPECT_EQ(Addresses(rt->pools[2]), (S{"10.3.0.10:30053"}));

  // The pools line up with the mesh's clusters, and each cluster's block forwards to its own.
  const MeshRules* mesh = rt->program.mesh();
  ASSERT_NE(mesh, nullptr);
  ASSERT_EQ(mesh->mesh.clusters().size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(mesh->mesh.clusters()[i].name, rt->pools[i].name);
  EXPECT_EQ(mesh->mesh.local(), 1u);
  const DnsName name = *DnsName::FromText("web.default.cluster3.svc.cluster.local");
  const Block* block = rt->program.Dispatch(name);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->name, "cluster3");
  ASSERT_TRUE(block->cluster.has_value()) << "the cluster label is stripped";
  ASSERT_NE(block->ForwardFor(name), nullptr);
  EXPECT_EQ(rt->pools[block->ForwardFor(name)->pool].name, "cluster3");
}

TEST(RuntimeTest, TheMeshCompilesIntoTheBlocksOfItsCorefileTwin) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  std::vector<std::string> zones;
  for (const Block& b : rt->program.blocks()) {
    for (const DnsName& z : b.zones) zones.push_back(z.ToText());
    ASSERT_TRUE(b.cache.has_value()) << b.name << ": every block caches by the YAML's cache";
  }
  EXPECT_EQ(zones, (S{"cluster1.svc.cluster.local.", "cluster2.svc.cluster.local.", "cluster3.svc.cluster.local.",
                      "clusterset.local.", "."}));
  EXPECT_EQ(rt->program.Dispatch(*DnsName::FromText("x.cluster9.svc.cluster.local"))->name, ".")
      << "a label that names no cluster goes upstream";
  const Block* clusterset = rt->program.Dispatch(*DnsName::FromText("a.b.svc.clusterset.local"));
  EXPECT_TRUE(clusterset->forwards.empty()) << "the clusterset rules answer the whole zone";
}

TEST(RuntimeTest, UpstreamDefaultsToTheLocalClustersResolvers) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  // The local cluster is cluster2, not the first one listed.
  EXPECT_EQ(Addresses(rt->pools.back()), (S{"10.2.0.10:53", "10.2.0.11:1053"}));

  auto with_upstream = CompileText(std::string(kMesh) + "upstream: [\"9.9.9.9\", \"[2620:fe::fe]\"]\n");
  ASSERT_NE(with_upstream, nullptr);
  EXPECT_EQ(Addresses(with_upstream->pools.back()), (S{"9.9.9.9:53", "[2620:fe::fe]:53"}));
}

TEST(RuntimeTest, PerClusterPolicyOverridesTheForwardPolicy) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  EXPECT_EQ(rt->pools[0].policy, Policy::kRandom);
  EXPECT_EQ(rt->pools[1].policy, Policy::kSequential);
  EXPECT_EQ(rt->pools[2].policy, Policy::kRandom);
  EXPECT_EQ(rt->pools.back().policy, Policy::kRandom);
  EXPECT_EQ(rt->health.max_fails, 4u);
}

TEST(RuntimeTest, EachResolverHasItsOwnHealth) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  for (const Pool& pool : rt->pools) {
    ASSERT_EQ(pool.health.size(), pool.resolvers.size()) << pool.name;
    ASSERT_EQ(pool.health_view.size(), pool.resolvers.size()) << pool.name;
    for (size_t i = 0; i < pool.health.size(); ++i) EXPECT_EQ(pool.health_view[i], pool.health[i].get());
    EXPECT_NE(pool.rotation, nullptr);
  }
  EXPECT_NE(rt->pools[1].health[0], rt->pools[1].health[1]);
  // The upstream pool shares addresses with cluster2 but not its health.
  EXPECT_NE(rt->pools.back().health[0], rt->pools[1].health[0]);
}

TEST(RuntimeTest, CompilesTheClustersetZoneAndAcl) {
  auto rt = CompileText(kMesh);
  ASSERT_NE(rt, nullptr);
  absl::StatusOr<ClustersetOutcome> out =
      rt->program.mesh()->zone.Answer(*DnsName::FromText("web.cluster1.nginx.default.svc.clusterset.local"), 1, 1);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->chase.has_value()) << "the default template is in place";
  EXPECT_EQ(out->chase->ToText(), "web.nginx.default.cluster1.svc.cluster.local.");
  EXPECT_TRUE(rt->acl.Allows(IpAddress::FromV4({10, 1, 2, 3})));
  EXPECT_FALSE(rt->acl.Allows(IpAddress::FromV4({203, 0, 113, 1})));
}

Config Load(const std::string& yaml) {
  LoadResult r = LoadConfigText(yaml, "mesh.yaml");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.config.value_or(Config{});
}

std::vector<std::string> Zones(const CacheCarryOver& plan) {
  std::vector<std::string> out;
  for (const DnsName& z : plan.forget) out.push_back(z.ToText());
  return out;
}

TEST(CacheCarryOverTest, ClustersThatStayKeepTheirEntries) {
  const std::string base = "cluster: c1\nclusters:\n  c1: {resolvers: ['10.1.0.10']}\n"
                           "  c2: {resolvers: ['10.2.0.10']}\n";
  const Config old = Load(base + "  c3: {resolvers: ['10.3.0.10']}\n");

  CacheCarryOver same = PlanCacheCarryOver(old, Load(base + "  c3: {resolvers: ['10.3.0.10']}\n"));
  EXPECT_TRUE(same.keep);
  EXPECT_EQ(Zones(same), (S{"clusterset.local."})) << "synthesised answers follow the (maybe new) templates";

  CacheCarryOver gone = PlanCacheCarryOver(old, Load(base));
  EXPECT_TRUE(gone.keep);
  EXPECT_EQ(Zones(gone), (S{"clusterset.local.", "c3.svc.cluster.local."}));

  CacheCarryOver moved = PlanCacheCarryOver(old, Load(base + "  c3: {resolvers: ['10.3.0.99']}\n"));
  EXPECT_EQ(Zones(moved), (S{"clusterset.local.", "c3.svc.cluster.local."}));

  EXPECT_FALSE(PlanCacheCarryOver(old, Load(base + "cache: {capacity: 5}\n")).keep);
  EXPECT_FALSE(PlanCacheCarryOver(old, Load(base + "cache: {max_entry_size: 1024}\n")).keep);
  EXPECT_FALSE(PlanCacheCarryOver(old, Load(base + "cache: {max_ttl: 10s}\n")).keep);
  EXPECT_FALSE(PlanCacheCarryOver(old, Load(base + "domain: mesh.local\n")).keep);
}

}  // namespace
}  // namespace meshdns
