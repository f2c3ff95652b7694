// Runtime: a configuration compiled for serving — the program (server blocks
// and the mesh's rules, dnscore/program.h), the resolver pools its forwards
// name with their shared health, the ACL. Both front-ends, a meshdns YAML
// (CompileMesh) and a Corefile (corefile_runtime.h), produce the same
// Compiled form; nothing after this point knows which file it came from.
// Immutable once built and published as a whole (shared_ptr<const>), so a
// reload swaps it in one step and queries in flight keep the one they began with.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "dnscore/acl.h"
#include "dnscore/forward_attempts.h"
#include "dnscore/health_check.h"
#include "dnscore/pipeline.h"
#include "dnscore/policy.h"
#include "dnscore/program.h"

namespace meshdns {

struct Pool {
  std::string name;  // the cluster's, "upstream", or the Corefile block's
  Policy policy = Policy::kRoundRobin;
  std::vector<SocketAddress> resolvers;
  // Shared by every worker; one per resolver.
  std::vector<std::shared_ptr<ResolverHealth>> health;
  std::vector<ResolverHealth*> health_view;  // for PlanAttempts
  // Round-robin position, shared by the workers so the pool as a whole rotates.
  std::shared_ptr<std::atomic<uint64_t>> rotation = std::make_shared<std::atomic<uint64_t>>(0);
  // How queries to it are sent: the YAML's `forward`, or one Corefile `forward`'s options.
  HealthOptions health_options;
  // What the prober asks a resolver out of rotation, and how often.
  HealthCheck health_check;
  Millis timeout = 2000;  // per attempt, the most it may back off to (CoreDNS's read_timeout)
  Millis expire = 10000;  // idle TCP connection lifetime
  bool force_tcp = false;
  uint32_t max_concurrent = 0;  // 0: no limit but limits.inflight per resolver
  uint16_t retry_rcodes = AttemptPool::kDefaultRetryRcodes;  // and CoreDNS's `failover` rcodes
  uint32_t max_failed_attempts = 0;  // CoreDNS's max_connect_attempts; 0: the budget alone
  // Queries in flight over the whole pool, over all workers (for max_concurrent).
  std::shared_ptr<std::atomic<uint32_t>> concurrent = std::make_shared<std::atomic<uint32_t>>(0);
};

// What a front-end compiles a file into.
struct Compiled {
  Program program;
  std::vector<Pool> pools;  // the program's forwards name them by index
  // Whether a reload may keep the cache (PlanCacheCarryOver then says what
  // to forget): true where the blocks follow from the mesh's clusters alone.
  bool cache_follows_mesh = false;
};

// A meshdns YAML's program: the blocks its Corefile twin would have.
//   <cluster>.svc.<domain>  strip the cluster label, forward to its pool (one per cluster)
//   <clusterset>            the YAML's templates and the clusterset rules
//   .                       forward upstream
// Every block caches by the YAML's `cache`.
Compiled CompileMesh(const Config& config);
// The mesh of config.clusters with its clusterset zone (`templates` answer
// there before the rules) and `cluster_pools`, the pool each cluster's names go to.
std::shared_ptr<const MeshRules> CompileMeshRules(const Config& config,
                                                  std::vector<std::shared_ptr<const Template>> templates,
                                                  std::vector<int> cluster_pools);

struct Runtime {
  Config config;
  Program program;
  std::vector<Pool> pools;
  std::vector<PoolHealth> pool_health;  // pools[i]'s resolvers, as the pipeline asks about them
  Acl acl;
  HealthOptions health;

  // The pool a cluster's names are sent to; null without a mesh, or when no block forwards them.
  const Pool* PoolOfCluster(size_t cluster) const;
  // The pool of the mesh's own cluster (readiness); null without a mesh.
  const Pool* LocalPool() const;
  // How the query log writes this reply, or null when it does not: every
  // reply in the default line with the YAML's log.queries, as a Corefile
  // block's `log` says otherwise.
  // `route`: the block the views chose (QueryView::route).
  const LogRule* QueryLogRule(const DnsName& qname, uint16_t server, std::span<const uint8_t> reply,
                              uint16_t route = 0) const {
    static const LogRule kEveryReply;
    if (!config.log_queries) return nullptr;
    return config.log_by_block ? program.LogRuleFor(qname, server, reply, route) : &kEveryReply;
  }
  const PrefetchPolicy* prefetch() const { return config.cache.prefetch ? &*config.cache.prefetch : nullptr; }

  // `previous`, on a reload: resolvers it had keep their health (AddHealth).
  static std::shared_ptr<const Runtime> Compile(Config config, Compiled compiled, const Runtime* previous = nullptr);
  // A meshdns YAML: Compile(config, CompileMesh(config), previous).
  static std::shared_ptr<const Runtime> Compile(Config config, const Runtime* previous = nullptr);
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
