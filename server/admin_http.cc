#include "server/admin_http.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/runtime.h"
#include "server/config_watcher.h"
#include "server/health_prober.h"
#include "server/lifecycle.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/tcp_connection_caps.h"
#include "server/worker.h"

namespace meshdns {

absl::Status AdminHttp::Listen(const Config& config) {
  std::map<std::string, std::pair<SocketAddress, std::set<std::string>>> by_address;
  for (const auto& [address, path] : {std::pair{config.metrics, "/metrics"}, std::pair{config.health, "/health"},
                                      std::pair{config.ready, "/ready"}}) {
    if (address.empty()) continue;
    absl::StatusOr<SocketAddress> a = SocketAddress::Parse(address);
    if (!a.ok()) return a.status();
    auto& entry = by_address[a->ToString()];
    entry.first = *a;
    entry.second.insert(path);
  }
  for (auto& [text, entry] : by_address) {
    if (absl::Status s = http_.Listen(entry.first, entry.second); !s.ok()) return s;
    Log(LogLevel::kInfo, "http ", absl::StrJoin(entry.second, " "), " on ", text);
  }
  return absl::OkStatus();
}

asio::awaitable<HttpResponse> AdminHttp::Endpoint(const std::string& path) {
  if (path == "/health") co_return Health();
  if (path == "/ready") co_return Ready();
  // Not inside the braces: g++ 12 mishandles co_await within an aggregate initialiser.
  std::string page = co_await Metrics();
  co_return HttpResponse{200, std::move(page), "text/plain; version=0.0.4; charset=utf-8"};
}

HttpResponse AdminHttp::Health() const {
  std::vector<Millis> beats;
  for (const auto& w : sources_.workers) beats.push_back(w->last_beat());
  ProbeAnswer a = sources_.lifecycle.Health(NowMillis(), beats);
  return {a.status, std::move(a.body)};
}

// Ready once serving and while a resolver of the local cluster answers:
// without one, this node cannot answer for its own cluster.
HttpResponse AdminHttp::Ready() const {
  ProbeAnswer a = sources_.lifecycle.Ready(NowMillis(), sources_.prober.Local());
  return {a.status, std::move(a.body)};
}

// One snapshot from each worker, taken on its own thread, then summed here.
asio::awaitable<std::string> AdminHttp::Metrics() {
  struct Gather {
    explicit Gather(asio::io_context& io) : done(io) {}
    asio::steady_timer done;
    std::vector<WorkerSnapshot> snapshots;
    size_t pending = 0;
  };
  auto gather = std::make_shared<Gather>(io_);
  gather->pending = sources_.workers.size();
  gather->done.expires_after(std::chrono::seconds(2));
  for (auto& w : sources_.workers) {
    w->Snapshot([this, gather](WorkerSnapshot s) {
      asio::post(io_, [gather, s = std::move(s)]() mutable {
        gather->snapshots.push_back(std::move(s));
        if (--gather->pending == 0) gather->done.cancel();
      });
    });
  }
  if (gather->pending > 0) {
    boost::system::error_code ec;
    co_await gather->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  // Read after the wait: a reload meanwhile has replaced the generation.
  const Generation& g = *sources_.config.generation();
  const Runtime& rt = *g.runtime;
  MetricsInput in;
  in.server = absl::StrCat("dns://", rt.config.listen.empty() ? "" : rt.config.listen.front().ToString());
  for (const WorkerSnapshot& s : gather->snapshots) AddWorker(in, s.server, s.engine, s.channels);
  in.cache = g.cache->counters();
  in.cache_entries = g.cache->size();
  in.cache_capacity = g.cache->capacity();
  in.tcp_connections = sources_.tcp_caps.open();
  for (const Pool& pool : rt.pools) {
    for (size_t i = 0; i < pool.resolvers.size(); ++i) {
      in.peers.push_back(PeerState{pool.name, pool.resolvers[i].ToString(), pool.health[i]->IsUp(),
                                   pool.health[i]->probe_failures()});
    }
  }
  for (const Block& b : rt.program.blocks()) {
    for (const std::string& plugin : b.plugins) {
      for (const DnsName& zone : b.zones) {
        // One series per zone and plugin: blocks of one zone on several
        // ports share the `server` label (the first listen address).
        std::tuple<std::string, std::string, std::string> series(zone.ToText(), b.view ? b.view->name : "", plugin);
        if (std::find(in.plugins.begin(), in.plugins.end(), series) == in.plugins.end()) in.plugins.push_back(series);
      }
    }
  }
  in.route_views.resize(rt.program.blocks().size() + 1);
  for (const Block& b : rt.program.blocks()) {
    if (const uint16_t route = rt.program.RouteOf(&b); route != 0 && b.view) in.route_views[route] = b.view->name;
  }
  in.reloads = sources_.config.reloads();
  in.reload_failures = sources_.config.reload_failures();
  co_return RenderMetrics(in);
}

}  // namespace meshdns
