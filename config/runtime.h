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
  // How queries to it are sent: the YAML's `forward`, or one Corefile `forward`'s options.
  HealthOptions health_options;
  Millis timeout = 2000;  // per attempt, the most it may back off to
  Millis expire = 10000;  // idle TCP connection lifetime
  bool force_tcp = false;
  uint32_t max_concurrent = 0;  // 0: no limit but limits.inflight per resolver
  // Queries in flight over the whole pool, over all workers (for max_concurrent).
  std::shared_ptr<std::atomic<uint32_t>> concurrent = std::make_shared<std::atomic<uint32_t>>(0);
};

class CorefileProgram;

// What `serve --corefile` runs instead of the mesh: the Corefile's server
// blocks, and one pool per `forward` (CorefileProgram's blocks name them by index).
struct CorefileServing {
  std::shared_ptr<const CorefileProgram> program;
  std::vector<Pool> pools;
  // When the Corefile has the mesh pattern (config.clusters is then set from
  // it, as `import` reads it): the pool each cluster's names end up in, or -1.
  std::vector<int> cluster_pools;
};

struct Runtime {
  Config config;
  // From a meshdns YAML: the mesh and its clusterset zone.
  std::unique_ptr<Mesh> mesh;
  std::unique_ptr<ClustersetZone> clusterset;
  // From a Corefile: its server blocks. `mesh` and `clusterset` are set too
  // when the Corefile has the mesh pattern, for contract rules 3 and 4.
  std::shared_ptr<const CorefileProgram> corefile;
  std::vector<int> cluster_pools;  // with a Corefile and a mesh: see CorefileServing
  // With a mesh, pools[i] serves mesh->clusters()[i] and the last is upstream;
  // with a Corefile, pools[i] is the i-th forward's.
  std::vector<Pool> pools;
  Acl acl;
  HealthOptions health;

  const Pool& ClusterPool(size_t cluster) const { return pools[cluster]; }
  // The pool a cluster's names are sent to, whatever the configuration's
  // kind; null when a Corefile does not tell.
  const Pool* PoolOfCluster(size_t cluster) const {
    if (!corefile) return &pools[cluster];
    return cluster < cluster_pools.size() && cluster_pools[cluster] >= 0 ? &pools[cluster_pools[cluster]] : nullptr;
  }
  const Pool& UpstreamPool() const { return pools.back(); }
  const PrefetchPolicy* prefetch() const { return config.cache.prefetch ? &*config.cache.prefetch : nullptr; }

  // `previous`, on a reload: resolvers it had keep their health (AddHealth).
  static std::shared_ptr<const Runtime> Compile(Config config, const Runtime* previous = nullptr);
  static std::shared_ptr<const Runtime> Compile(Config config, CorefileServing corefile,
                                                const Runtime* previous = nullptr);
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
