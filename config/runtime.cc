#include "config/runtime.h"

namespace meshdns {

std::shared_ptr<const Runtime> Runtime::Compile(Config config) {
  auto rt = std::make_shared<Runtime>();
  std::vector<std::string> names;
  for (const ClusterConfig& c : config.clusters) names.push_back(c.name);
  rt->mesh = std::make_unique<Mesh>(config.domain, config.clusterset_domain, names, config.LocalCluster());
  std::vector<std::shared_ptr<const Template>> templates;
  for (const TemplateConfig& t : config.templates) templates.push_back(t.compiled);
  rt->clusterset = std::make_unique<ClustersetZone>(*rt->mesh, std::move(templates), config.cache.ttl.denial_ttl);

  auto make_pool = [&](std::string name, Policy policy, std::vector<SocketAddress> resolvers) {
    Pool p;
    p.name = std::move(name);
    p.policy = policy;
    p.resolvers = std::move(resolvers);
    for (size_t i = 0; i < p.resolvers.size(); ++i) {
      p.health.push_back(std::make_shared<ResolverHealth>());
      p.health_view.push_back(p.health.back().get());
    }
    rt->pools.push_back(std::move(p));
  };
  for (const ClusterConfig& c : config.clusters) make_pool(c.name, c.policy.value_or(config.forward.policy), c.resolvers);
  std::vector<SocketAddress> upstream =
      config.upstream.empty() ? config.clusters[config.LocalCluster()].resolvers : config.upstream;
  make_pool("upstream", config.forward.policy, upstream);

  rt->acl = Acl(config.acl_allow, config.acl_deny);
  rt->health = HealthOptions{.max_fails = config.forward.max_fails};
  rt->config = std::move(config);
  return rt;
}

}  // namespace meshdns
