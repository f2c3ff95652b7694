// HealthProber: brings resolvers that are down back into rotation, and asks
// the local cluster's quiet ones so /ready knows they answer.
// Runs on the daemon's main io_context; touches resolver health only
// through its atomics, so it needs no lock with the workers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "config/runtime.h"
#include "server/asio.h"
#include "server/lifecycle.h"
#include "server/upstream_channel.h"

namespace meshdns {

// A resolver marked down is probed as its pool's HealthCheck says (CoreDNS's
// forward `health_check DURATION [no_rec] [domain FQDN]`): `<domain> IN NS`,
// RD unless no_rec, over the pool's transport (TCP with force_tcp), paced by
// HealthCheck::NextProbe; any reply, whatever its rcode, means the resolver
// is alive. This is the only way back into rotation for a pool whose
// resolvers are all out: its queries are not sent (PlanAttempts). A pool
// with max_fails 0 never has a resolver down, so it is never probed.
// Resolvers in rotation are not probed: real queries tell their health,
// except the local cluster's, which readiness depends on: one that has been
// quiet for Lifecycle::kProbeQuietAfter is asked, so /ready knows it answers
// before the first query and notices when it stops.
class HealthProber {
 public:
  // How often resolvers are looked at for one newly out of rotation (or a
  // quiet local one), at most: the first probe follows a fall within this,
  // where CoreDNS starts it at the failing query.
  static constexpr Millis kMaxTick = 100;

  explicit HealthProber(asio::io_context& io) : io_(io), timer_(io), channels_(io) {}

  void SetRuntime(std::shared_ptr<const Runtime> runtime);
  void Start() { Tick(); }
  void Stop() { timer_.cancel(); }

  // The local cluster and its resolvers, for /ready; none when the configuration
  // does not say which pool is the local cluster's.
  std::optional<LocalCluster> Local() const;

 private:
  void Tick();
  const Pool* LocalPool() const;
  asio::awaitable<void> Probe(std::shared_ptr<const Runtime> runtime, size_t pool, size_t resolver);
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Ask(const Pool& pool, size_t resolver,
                                                            std::span<uint8_t> query, Millis timeout);

  asio::io_context& io_;
  asio::steady_timer timer_;
  std::shared_ptr<const Runtime> runtime_;
  ChannelMap channels_;
  absl::flat_hash_map<const ResolverHealth*, bool> probing_;
};

}  // namespace meshdns
