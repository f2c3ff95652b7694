// Runtime: a configuration compiled for serving — the mesh's routing table,
// the clusterset zone, resolver pools with their shared health, the ACL.
// Immutable once built and published as a whole (shared_ptr<const>), so a
// reload swaps it in one step and queries in flight keep the one they began with.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "dnscore/acl.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/mesh.h"
#include "dnscore/policy.h"

namespace meshdns {

struct Pool {
  std::string name;  // the cluster's, or "upstream"
  Policy policy = Policy::kRoundRobin;
  std::vector<SocketAddress> resolvers;
  // Shared by every worker; one per resolver.
  std::vector<std::shared_ptr<ResolverHealth>> health;
  std::vector<ResolverHealth*> health_view;  // for PlanAttempts
  // Round-robin position, shared by the workers so the pool as a whole rotates.
  std::shared_ptr<std::atomic<uint64_t>> rotation = std::make_shared<std::atomic<uint64_t>>(0);
};

struct Runtime {
  Config config;
  std::unique_ptr<Mesh> mesh;
  std::unique_ptr<ClustersetZone> clusterset;
  std::vector<Pool> pools;  // pools[i] serves mesh->clusters()[i]; the last is upstream
  Acl acl;
  HealthOptions health;

  const Pool& ClusterPool(size_t cluster) const { return pools[cluster]; }
  const Pool& UpstreamPool() const { return pools.back(); }
  const PrefetchPolicy* prefetch() const { return config.cache.prefetch ? &*config.cache.prefetch : nullptr; }

  static std::shared_ptr<const Runtime> Compile(Config config);
};

// What a reload keeps of the cache. Nothing when the capacity, the TTL policy
// or the domains change. Otherwise every entry but those under `forget`: the
// clusterset zone (its answers come from the templates, which may have
// changed) and the zones of clusters that are gone or have other resolvers.
struct CacheCarryOver {
  bool keep = false;
  std::vector<DnsName> forget;  // lower-cased
};
CacheCarryOver PlanCacheCarryOver(const Config& old, const Config& next);

}  // namespace meshdns
