#include "config/runtime.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

// Every resolver of the pool gets its health, shared by the workers. One
// that the previous configuration had in a pool of the same name keeps its
// own across the reload: in or out of rotation, when it last answered (which
// readiness reads), its round-trip estimate and its probe failure count.
void AddHealth(Pool& p, const Runtime* previous) {
  const Pool* before = nullptr;
  if (previous) {
    auto same = std::find_if(previous->pools.begin(), previous->pools.end(),
                             [&](const Pool& q) { return q.name == p.name; });
    if (same != previous->pools.end()) before = &*same;
  }
  p.health.clear();
  p.health_view.clear();
  for (const SocketAddress& resolver : p.resolvers) {
    std::shared_ptr<ResolverHealth> health;
    for (size_t j = 0; before && !health && j < before->resolvers.size(); ++j) {
      if (before->resolvers[j].ToString() == resolver.ToString()) health = before->health[j];
    }
    p.health.push_back(health ? std::move(health) : std::make_shared<ResolverHealth>());
    p.health_view.push_back(p.health.back().get());
  }
}

DnsName Root() { return *DnsName::FromText("."); }

}  // namespace

std::shared_ptr<const MeshRules> CompileMeshRules(const Config& config,
                                                  std::vector<std::shared_ptr<const Template>> templates,
                                                  std::vector<int> cluster_pools) {
  std::vector<std::string> names;
  for (const ClusterConfig& c : config.clusters) names.push_back(c.name);
  auto rules = std::make_shared<MeshRules>(Mesh(config.domain, config.clusterset_domain, names, config.LocalCluster()),
                                           std::move(templates), config.cache.ttl.denial_ttl);
  rules->cluster_pools = std::move(cluster_pools);
  const ClustersetConfig& clusterset = config.clusterset;
  rules->services = clusterset.services;
  rules->fanout_timeout = clusterset.fanout_timeout;
  rules->ttl = clusterset.ttl;
  rules->affinity = [clusterset](absl::string_view service, absl::string_view ns) {
    return clusterset.AffinityFor(service, ns);
  };
  return rules;
}

Compiled CompileMesh(const Config& config) {
  Compiled out;
  out.cache_follows_mesh = true;
  auto make_pool = [&](std::string name, Policy policy, std::vector<SocketAddress> resolvers) {
    Pool p;
    p.name = std::move(name);
    p.policy = policy;
    p.resolvers = std::move(resolvers);
    p.health_options = HealthOptions{.max_fails = config.forward.max_fails};
    p.timeout = config.forward.timeout;
    p.expire = config.forward.expire;
    // The YAML's probes keep asking `. IN NS` without RD, as they always
    // have; a Corefile's follow its forward's health_check line.
    p.health_check = HealthCheck{.interval = config.forward.health_check, .recursion_desired = false};
    out.pools.push_back(std::move(p));
    return out.pools.size() - 1;
  };
  const BlockCache cache{{Root()}, config.cache.ttl, config.cache.serve_stale};
  std::vector<std::shared_ptr<const Template>> templates;
  for (const TemplateConfig& t : config.templates) templates.push_back(t.compiled);
  std::vector<int> cluster_pools;
  for (const ClusterConfig& c : config.clusters) {
    cluster_pools.push_back(static_cast<int>(make_pool(c.name, c.policy.value_or(config.forward.policy), c.resolvers)));
  }
  std::shared_ptr<const MeshRules> rules = CompileMeshRules(config, std::move(templates), cluster_pools);

  std::vector<Block> blocks;
  for (size_t c = 0; c < config.clusters.size(); ++c) {
    const MeshCluster& cluster = rules->mesh.clusters()[c];
    Block b;
    b.zones = {cluster.rewrite.cluster_zone()};
    b.name = cluster.name;
    b.cluster = cluster.rewrite;
    b.cache = cache;
    b.forwards = {BlockForward{Root(), {}, static_cast<size_t>(cluster_pools[c])}};
    blocks.push_back(std::move(b));
  }
  Block clusterset;
  clusterset.zones = {rules->mesh.clusterset()};
  clusterset.name = "clusterset";
  clusterset.cache = cache;
  blocks.push_back(std::move(clusterset));

  const std::vector<SocketAddress>& upstream =
      config.upstream.empty() ? config.clusters[config.LocalCluster()].resolvers : config.upstream;
  Block root;
  root.zones = {Root()};
  root.name = ".";
  root.cache = cache;
  root.forwards = {BlockForward{Root(), {}, make_pool("upstream", config.forward.policy, upstream)}};
  blocks.push_back(std::move(root));

  out.program = Program(std::move(blocks), std::nullopt, std::move(rules));
  return out;
}

const Pool* Runtime::PoolOfCluster(size_t cluster) const {
  const MeshRules* mesh = program.mesh();
  if (mesh == nullptr || cluster >= mesh->cluster_pools.size() || mesh->cluster_pools[cluster] < 0) return nullptr;
  return &pools[mesh->cluster_pools[cluster]];
}

const Pool* Runtime::LocalPool() const {
  const MeshRules* mesh = program.mesh();
  return mesh ? PoolOfCluster(mesh->mesh.local()) : nullptr;
}

std::shared_ptr<const Runtime> Runtime::Compile(Config config, Compiled compiled, const Runtime* previous) {
  auto rt = std::make_shared<Runtime>();
  rt->program = std::move(compiled.program);
  rt->pools = std::move(compiled.pools);
  for (Pool& p : rt->pools) {
    AddHealth(p, previous);
    rt->pool_health.push_back(p.health_view);
  }
  rt->acl = Acl(config.acl_allow, config.acl_deny);
  rt->health = HealthOptions{.max_fails = config.forward.max_fails};
  rt->config = std::move(config);
  return rt;
}

std::shared_ptr<const Runtime> Runtime::Compile(Config config, const Runtime* previous) {
  Compiled compiled = CompileMesh(config);
  return Compile(std::move(config), std::move(compiled), previous);
}

CacheCarryOver PlanCacheCarryOver(const Config& old, const Config& next) {
  CacheCarryOver plan;
  const TtlPolicy& a = old.cache.ttl;
  const TtlPolicy& b = next.cache.ttl;
  if (old.cache.capacity != next.cache.capacity || old.cache.max_entry_size != next.cache.max_entry_size ||
      a.min_ttl != b.min_ttl || a.max_ttl != b.max_ttl ||
      a.denial_ttl != b.denial_ttl || !old.domain.Equals(next.domain) ||
      !old.clusterset_domain.Equals(next.clusterset_domain)) {
    return plan;
  }
  plan.keep = true;
  plan.forget.push_back(next.clusterset_domain.Lowered());
  auto resolvers = [](const ClusterConfig& c) {
    std::vector<std::string> out;
    for (const SocketAddress& r : c.resolvers) out.push_back(r.ToString());
    return out;
  };
  for (const ClusterConfig& before : old.clusters) {
    auto now = std::find_if(next.clusters.begin(), next.clusters.end(),
                            [&](const ClusterConfig& c) { return absl::EqualsIgnoreCase(c.name, before.name); });
    if (now != next.clusters.end() && resolvers(*now) == resolvers(before)) continue;
    absl::StatusOr<DnsName> zone = DnsName::FromText(absl::StrCat(before.name, ".svc.", old.domain.ToText()));
    if (zone.ok()) plan.forget.push_back(zone->Lowered());
  }
  return plan;
}

}  // namespace meshdns
