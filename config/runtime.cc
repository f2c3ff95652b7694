#include "config/runtime.h"

#include "absl/strings/str_cat.h"

#include "absl/strings/match.h"

#include <algorithm>

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

// The mesh of config.clusters and its clusterset zone, with `templates`.
void AddMesh(Runtime& rt, const Config& config, std::vector<std::shared_ptr<const Template>> templates) {
  std::vector<std::string> names;
  for (const ClusterConfig& c : config.clusters) names.push_back(c.name);
  rt.mesh = std::make_unique<Mesh>(config.domain, config.clusterset_domain, names, config.LocalCluster());
  rt.clusterset = std::make_unique<ClustersetZone>(*rt.mesh, std::move(templates), config.cache.ttl.denial_ttl);
}

void AddAccess(Runtime& rt, Config config) {
  rt.acl = Acl(config.acl_allow, config.acl_deny);
  rt.health = HealthOptions{.max_fails = config.forward.max_fails};
  rt.config = std::move(config);
}

}  // namespace

std::shared_ptr<const Runtime> Runtime::Compile(Config config, const Runtime* previous) {
  auto rt = std::make_shared<Runtime>();
  std::vector<std::shared_ptr<const Template>> templates;
  for (const TemplateConfig& t : config.templates) templates.push_back(t.compiled);
  AddMesh(*rt, config, std::move(templates));

  auto make_pool = [&](std::string name, Policy policy, std::vector<SocketAddress> resolvers) {
    Pool p;
    p.name = std::move(name);
    p.policy = policy;
    p.resolvers = std::move(resolvers);
    p.health_options = HealthOptions{.max_fails = config.forward.max_fails};
    p.timeout = config.forward.timeout;
    p.expire = config.forward.expire;
    AddHealth(p, previous);
    rt->pools.push_back(std::move(p));
  };
  for (const ClusterConfig& c : config.clusters) make_pool(c.name, c.policy.value_or(config.forward.policy), c.resolvers);
  std::vector<SocketAddress> upstream =
      config.upstream.empty() ? config.clusters[config.LocalCluster()].resolvers : config.upstream;
  make_pool("upstream", config.forward.policy, upstream);
  AddAccess(*rt, std::move(config));
  return rt;
}

std::shared_ptr<const Runtime> Runtime::Compile(Config config, CorefileServing corefile, const Runtime* previous) {
  auto rt = std::make_shared<Runtime>();
  rt->corefile = std::move(corefile.program);
  rt->pools = std::move(corefile.pools);
  rt->cluster_pools = std::move(corefile.cluster_pools);
  // The Corefile's own templates answer; the zone gives the rest of it (rules 3 and 4).
  if (!config.clusters.empty()) AddMesh(*rt, config, {});
  for (Pool& p : rt->pools) AddHealth(p, previous);
  AddAccess(*rt, std::move(config));
  return rt;
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
