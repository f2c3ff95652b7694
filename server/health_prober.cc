#include "server/health_prober.h"

#include "dnscore/reply_writer.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"
#include "server/log.h"

namespace meshdns {

void HealthProber::SetRuntime(std::shared_ptr<const Runtime> runtime) {
  runtime_ = std::move(runtime);
  probing_.clear();
}

const Pool* HealthProber::LocalPool() const {
  return runtime_ ? runtime_->LocalPool() : nullptr;
}

std::optional<LocalCluster> HealthProber::Local() const {
  const Pool* local = LocalPool();
  if (!local) return std::nullopt;
  LocalCluster out{runtime_->config.cluster, {}};
  for (size_t r = 0; r < local->resolvers.size(); ++r) {
    out.resolvers.push_back({local->resolvers[r].ToString(), local->health[r]->IsUp(), local->health[r]->last_answer()});
  }
  return out;
}

void HealthProber::Tick() {
  // Often enough for the quickest pool's probes and the local cluster's quiet resolvers.
  Millis interval = std::min(kMaxTick, Lifecycle::kProbeQuietAfter);
  if (runtime_) {
    const Pool* local = LocalPool();
    const Millis now = NowMillis();
    for (size_t p = 0; p < runtime_->pools.size(); ++p) {
      const Pool& pool = runtime_->pools[p];
      interval = std::min(interval, std::max(pool.health_check.interval, HealthCheck::kMinGap));
      for (size_t r = 0; r < pool.resolvers.size(); ++r) {
        const ResolverHealth* health = pool.health[r].get();
        const bool quiet_local = &pool == local && now - health->last_answer() >= Lifecycle::kProbeQuietAfter;
        if ((health->IsUp() && !quiet_local) || probing_[health]) continue;
        probing_[health] = true;
        asio::co_spawn(io_, Probe(runtime_, p, r), asio::detached);
      }
    }
  }
  timer_.expires_after(std::chrono::milliseconds(interval));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

// CoreDNS's health check goes over the TO's protocol: TCP with force_tcp.
asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> HealthProber::Ask(const Pool& pool, size_t r,
                                                                       std::span<uint8_t> query, Millis timeout) {
  UpstreamChannel& channel = channels_.Get(pool.resolvers[r]);
  if (pool.force_tcp) co_return co_await channel.ExchangeTcp(query, timeout, pool.expire);
  co_return co_await channel.ExchangeUdp(query, {.timeout = timeout});
}

asio::awaitable<void> HealthProber::Probe(std::shared_ptr<const Runtime> runtime, size_t pool_index, size_t r) {
  const Pool& pool = runtime->pools[pool_index];
  const HealthCheck& check = pool.health_check;
  ResolverHealth& health = *pool.health[r];
  // A resolver in rotation is asked only for readiness (a quiet local one):
  // its answer says nothing of its queries, so it neither clears their
  // failures nor counts as a health check. It is asked for the cluster
  // domain's SOA, which kube-dns answers itself; one out of rotation is asked
  // what its pool's health_check says.
  const bool readiness = health.IsUp();
  const UpstreamQuestion question =
      readiness ? UpstreamQuestion{runtime->config.domain, kTypeSOA, kClassIN, /*recursion_desired=*/false}
                : check.Question();
  std::array<uint8_t, kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize> query;
  const std::span<uint8_t> bytes(query.data(), WriteUpstreamQuery(0, question, query));
  const Millis timeout = check.ProbeTimeout();
  asio::steady_timer pause(io_);
  // One out of rotation is probed until it is back, each probe started when
  // HealthCheck::NextProbe says: left to the next Tick, a probe that waited
  // the whole interval would still be in flight then, and a silent resolver
  // would be asked only every other interval.
  for (;;) {
    const Millis sent = NowMillis();
    const absl::StatusOr<std::vector<uint8_t>> reply = co_await Ask(pool, r, bytes, timeout);
    if (readiness) {
      if (reply.ok()) health.RecordAnswer(NowMillis());
      break;
    }
    if (health.RecordProbe(reply.ok(), NowMillis())) {
      Log(LogLevel::kInfo, "cluster ", pool.name, ": resolver ", pool.resolvers[r].ToString(), " answers again");
    }
    if (health.IsUp() || runtime != runtime_) break;  // back, or a reload's prober takes over
    const Millis wait = check.NextProbe(sent, NowMillis()) - NowMillis();
    if (wait > 0) {
      pause.expires_after(std::chrono::milliseconds(wait));
      boost::system::error_code ignored;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (runtime != runtime_) break;
  }
  if (runtime == runtime_) probing_[&health] = false;
}

}  // namespace meshdns
