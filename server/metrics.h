// The /metrics page in Prometheus's text format (version 0.0.4), under
// CoreDNS's metric names and labels where CoreDNS has the metric (so its
// dashboards and alerts work unchanged); meshdns's own under meshdns_*.
// Pure, so thread-safe: AdminHttp gathers the numbers and renders them here.
#pragma once

#include <string>
#include <utility>
#include <tuple>
#include <vector>

#include "dnscore/packet_cache.h"
#include "server/query_engine.h"
#include "server/stats.h"
#include "server/upstream_channel.h"

namespace meshdns {

struct PeerState {
  std::string cluster;
  std::string resolver;  // ip:port
  bool up = true;
  uint64_t probe_failures = 0;
};

struct MetricsInput {
  std::string server;  // CoreDNS's `server` label: dns://<first listen address>
  ServerStats dns;     // summed over workers
  EngineCounters engine;
  std::vector<std::pair<std::string, ChannelCounters>> forward;  // summed per resolver address
  PacketCache::Counters cache;
  size_t cache_entries = 0;
  size_t cache_capacity = 0;
  uint32_t tcp_connections = 0;  // open now, over all workers
  std::vector<PeerState> peers;
  uint64_t reloads = 0, reload_failures = 0;
  // coredns_plugin_enabled: (zone, view, plugin) for each plugin each block runs.
  std::vector<std::tuple<std::string, std::string, std::string>> plugins;
  // [route]: the view name of the block of each route (ServerStats::routes).
  std::vector<std::string> route_views;
};

// Adds one worker's snapshot into `into` (resolvers merged by address).
void AddWorker(MetricsInput& into, const ServerStats& dns, const EngineCounters& engine,
               const std::vector<std::pair<std::string, ChannelCounters>>& forward);

std::string RenderMetrics(const MetricsInput& in);

}  // namespace meshdns
