#include "server/metrics.h"

#include <cstdio>
#include <algorithm>
#include <span>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

#ifdef MESHDNS_VERSION
constexpr absl::string_view kBuildVersion = MESHDNS_VERSION;
#else
constexpr absl::string_view kBuildVersion = "unknown";
#endif

class Page {
 public:
  void Family(const char* name, const char* type, const char* help) {
    absl::StrAppend(&text_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
  }
  void Sample(absl::string_view name, absl::string_view labels, uint64_t value) {
    absl::StrAppend(&text_, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", value, "\n");
  }
  void SampleDouble(absl::string_view name, absl::string_view labels, double value) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6f", value);
    absl::StrAppend(&text_, name, labels.empty() ? "" : "{", labels, labels.empty() ? "" : "}", " ", buf, "\n");
  }
  // Buckets are cumulative on the page; `labels` may be empty.
  void Histo(absl::string_view name, absl::string_view labels, const Histogram& h) {
    std::vector<double> bounds;
    for (size_t i = 0; i < Histogram::kBounds; ++i) bounds.push_back(Histogram::Bound(i));
    Buckets(name, labels, bounds, h.counts, static_cast<double>(h.sum_micros) / 1e6);
  }
  void Histo(absl::string_view name, absl::string_view labels, const SizeHistogram& h) {
    std::vector<double> bounds(SizeHistogram::kBounds.begin(), SizeHistogram::kBounds.end());
    Buckets(name, labels, bounds, h.counts, static_cast<double>(h.sum));
  }
  std::string Take() { return std::move(text_); }

 private:
  // counts[i] falls at or below bounds[i]; the last count is above them all.
  void Buckets(absl::string_view name, absl::string_view labels, const std::vector<double>& bounds,
               std::span<const uint64_t> counts, double sum) {
    const std::string sep = labels.empty() ? "" : ",";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts[i];
      char le[32];
      std::snprintf(le, sizeof(le), "%g", bounds[i]);
      Sample(absl::StrCat(name, "_bucket"), absl::StrCat(labels, sep, "le=\"", le, "\""), cumulative);
    }
    cumulative += counts[bounds.size()];
    Sample(absl::StrCat(name, "_bucket"), absl::StrCat(labels, sep, "le=\"+Inf\""), cumulative);
    SampleDouble(absl::StrCat(name, "_sum"), labels, sum);
    Sample(absl::StrCat(name, "_count"), labels, cumulative);
  }

 public:

 private:
  std::string text_;
};

}  // namespace

void AddWorker(MetricsInput& into, const ServerStats& dns, const EngineCounters& engine,
               const std::vector<std::pair<std::string, ChannelCounters>>& forward) {
  into.dns.Add(dns);
  into.engine.upstream_failures += engine.upstream_failures;
  into.engine.synthesized += engine.synthesized;
  into.engine.stale_answers += engine.stale_answers;
  into.engine.overloaded += engine.overloaded;
  into.engine.prefetches += engine.prefetches;
  into.engine.fanout_left_out += engine.fanout_left_out;
  for (const auto& [to, counters] : forward) {
    auto it = std::find_if(into.forward.begin(), into.forward.end(), [&](const auto& f) { return f.first == to; });
    if (it == into.forward.end()) {
      into.forward.emplace_back(to, counters);
    } else {
      it->second.Add(counters);
    }
  }
}

std::string RenderMetrics(const MetricsInput& in) {
  Page p;
  // CoreDNS's build_info (plugin/metrics/metrics.go), which dashboards key
  // on: meshdns's version; no Go, so no goversion to give.
  p.Family("coredns_build_info", "gauge",
           "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.");
  p.Sample("coredns_build_info", absl::StrCat("version=\"", kBuildVersion, "\",revision=\"\",goversion=\"none\""), 1);
  const std::string server = absl::StrCat("server=\"", in.server, "\",zone=\".\",view=\"\"");
  if (!in.plugins.empty()) {
    p.Family("coredns_plugin_enabled", "gauge", "A metric that indicates whether a plugin is enabled on per server and zone basis.");
    for (const auto& [zone, view, plugin] : in.plugins) {
      p.Sample("coredns_plugin_enabled", absl::StrCat("server=\"", in.server, "\",zone=\"", zone, "\",view=\"", view,
                                                      "\",name=\"", plugin, "\""),
               1);
    }
  }

  // CoreDNS's `view` label: the queries of each view's blocks under its
  // name, the rest under "".
  std::vector<std::pair<std::string, RouteCounts>> views(1);
  RouteCounts viewed;
  for (size_t r = 1; r < in.dns.routes.size(); ++r) {
    const std::string name = r < in.route_views.size() ? in.route_views[r] : "";
    if (name.empty()) continue;
    auto it = std::find_if(views.begin(), views.end(), [&](const auto& v) { return v.first == name; });
    if (it == views.end()) it = views.insert(views.end(), {name, RouteCounts{}});
    it->second.Add(in.dns.routes[r]);
    viewed.Add(in.dns.routes[r]);
  }
  {
    RouteCounts& rest = views[0].second;
    rest.requests = in.dns.requests;
    rest.responses = in.dns.responses;
    rest.do_requests = in.dns.do_requests - viewed.do_requests;
    for (size_t p = 0; p < 2; ++p) {
      for (size_t f = 0; f < 2; ++f) {
        for (size_t t = 0; t < kTypeBuckets; ++t) rest.requests[p][f][t] -= viewed.requests[p][f][t];
      }
    }
    for (size_t r = 0; r < 16; ++r) rest.responses[r] -= viewed.responses[r];
  }
  auto labels = [&](const std::string& view) {
    return absl::StrCat("server=\"", in.server, "\",zone=\".\",view=\"", view, "\"");
  };

  p.Family("coredns_dns_requests_total", "counter", "Counter of DNS requests made per zone, protocol and family.");
  for (const auto& [view, counts] : views) {
    for (int proto = 0; proto < 2; ++proto) {
      for (int family = 0; family < 2; ++family) {
        for (size_t t = 0; t < kTypeBuckets; ++t) {
          const uint64_t n = counts.requests[proto][family][t];
          if (n == 0) continue;
          p.Sample("coredns_dns_requests_total",
                   absl::StrCat(labels(view), ",proto=\"", proto == 0 ? "udp" : "tcp", "\",family=\"", family + 1,
                                "\",type=\"", TypeBucketLabel(t), "\""),
                   n);
        }
      }
    }
  }
  p.Family("coredns_dns_responses_total", "counter", "Counter of response status codes.");
  for (const auto& [view, counts] : views) {
    for (uint8_t r = 0; r < 16; ++r) {
      if (counts.responses[r] == 0) continue;
      p.Sample("coredns_dns_responses_total", absl::StrCat(labels(view), ",rcode=\"", RcodeLabel(r), "\",plugin=\"\""),
               counts.responses[r]);
    }
  }
  // CoreDNS's code has no type label here (its README says otherwise): all types together.
  Histogram duration;
  for (const Histogram& h : in.dns.duration) duration.Add(h);
  p.Family("coredns_dns_request_duration_seconds", "histogram",
           "Histogram of the time (in seconds) each request took per zone.");
  p.Histo("coredns_dns_request_duration_seconds", server, duration);
  // A family's samples follow its HELP and TYPE, all together: the text
  // format has no way to come back to a family once another has begun.
  for (const auto& [family, help, sizes] :
       {std::tuple{"coredns_dns_request_size_bytes", "Size of the request in bytes.", &in.dns.request_size},
        std::tuple{"coredns_dns_response_size_bytes", "Size of the returned response in bytes.",
                   &in.dns.response_size}}) {
    p.Family(family, "histogram", help);
    for (int proto = 0; proto < 2; ++proto) {
      p.Histo(family, absl::StrCat(server, ",proto=\"", proto == 0 ? "udp" : "tcp", "\""), (*sizes)[proto]);
    }
  }
  p.Family("coredns_dns_do_requests_total", "counter", "Counter of DNS requests with DO bit set per zone.");
  for (const auto& [view, counts] : views) {
    if (view.empty() || counts.do_requests > 0) p.Sample("coredns_dns_do_requests_total", labels(view), counts.do_requests);
  }
  // CoreDNS's acl plugin (its zone label is the acl rule's zone; meshdns counts over all of them).
  p.Family("coredns_acl_blocked_requests_total", "counter", "Counter of DNS requests being blocked.");
  p.Sample("coredns_acl_blocked_requests_total", server, in.dns.acl_blocked);
  p.Family("coredns_acl_filtered_requests_total", "counter", "Counter of DNS requests being filtered.");
  p.Sample("coredns_acl_filtered_requests_total", server, in.dns.acl_filtered);
  p.Family("coredns_acl_dropped_requests_total", "counter", "Counter of DNS requests being dropped.");
  p.Sample("coredns_acl_dropped_requests_total", server, in.dns.acl_dropped);
  p.Family("coredns_acl_allowed_requests_total", "counter", "Counter of DNS requests being allowed.");
  p.Sample("coredns_acl_allowed_requests_total", server, in.dns.acl_allowed);

  const std::string cache_server = absl::StrCat("server=\"", in.server, "\",zones=\".\",view=\"\"");
  p.Family("coredns_cache_entries", "gauge", "The number of elements in the cache.");
  p.Sample("coredns_cache_entries", absl::StrCat(cache_server, ",type=\"success\""), in.cache_entries);
  p.Family("coredns_cache_hits_total", "counter", "The count of cache hits.");
  p.Sample("coredns_cache_hits_total", absl::StrCat(cache_server, ",type=\"success\""), in.cache.hits);
  p.Family("coredns_cache_misses_total", "counter", "The count of cache misses.");
  p.Sample("coredns_cache_misses_total", cache_server, in.cache.misses);
  p.Family("coredns_cache_requests_total", "counter", "The count of cache requests.");
  p.Sample("coredns_cache_requests_total", cache_server, in.cache.hits + in.cache.misses);
  p.Family("coredns_cache_evictions_total", "counter", "The count of cache evictions.");
  p.Sample("coredns_cache_evictions_total", absl::StrCat(cache_server, ",type=\"success\""), in.cache.evictions);
  p.Family("coredns_cache_prefetch_total", "counter", "The number of times the cache has prefetched a cached item.");
  p.Sample("coredns_cache_prefetch_total", cache_server, in.engine.prefetches);
  p.Family("coredns_cache_served_stale_total", "counter", "The number of requests served from stale cache entries.");
  p.Sample("coredns_cache_served_stale_total", cache_server, in.engine.stale_answers);

  p.Family("coredns_forward_requests_total", "counter", "Counter of requests made per upstream.");
  for (const auto& [to, c] : in.forward) p.Sample("coredns_forward_requests_total", absl::StrCat("to=\"", to, "\""), c.attempts);
  p.Family("coredns_forward_responses_total", "counter", "Counter of responses received per upstream.");
  for (const auto& [to, c] : in.forward) {
    for (uint8_t r = 0; r < 16; ++r) {
      if (c.responses[r] == 0) continue;
      p.Sample("coredns_forward_responses_total", absl::StrCat("to=\"", to, "\",rcode=\"", RcodeLabel(r), "\""),
               c.responses[r]);
    }
  }
  // Both generations of CoreDNS's forwarding metrics: coredns_forward_* (up to 1.10)
  // and coredns_proxy_* (1.11 on), from the same counts.
  for (const char* family : {"coredns_forward_request_duration_seconds", "coredns_proxy_request_duration_seconds"}) {
    const bool proxy = absl::StartsWith(family, "coredns_proxy");
    p.Family(family, "histogram", "Histogram of the time each request took.");
    for (const auto& [to, c] : in.forward) {
      for (uint8_t r = 0; r < 16; ++r) {
        if (c.duration[r].Count() == 0) continue;
        p.Histo(family, absl::StrCat(proxy ? "proxy_name=\"forward\"," : "", "to=\"", to, "\",rcode=\"",
                                     RcodeLabel(r), "\""),
                c.duration[r]);
      }
    }
  }
  // A resolver may sit in several pools (the local cluster's and upstream, by
  // default), each with its own health; a series is one resolver, so their
  // counts add up, and one pool's copy in rotation keeps it up.
  absl::btree_map<std::string, uint64_t> probe_failures;
  absl::btree_map<std::pair<std::string, std::string>, bool> peer_up;
  for (const PeerState& peer : in.peers) {
    probe_failures[peer.resolver] += peer.probe_failures;
    auto [it, fresh] = peer_up.try_emplace({peer.cluster, peer.resolver}, peer.up);
    if (!fresh) it->second = it->second || peer.up;
  }
  for (const char* family : {"coredns_forward_healthcheck_failures_total", "coredns_proxy_healthcheck_failures_total"}) {
    const bool proxy = absl::StartsWith(family, "coredns_proxy");
    p.Family(family, "counter", "Counter of the number of failed healthchecks.");
    for (const auto& [to, failures] : probe_failures) {
      p.Sample(family, absl::StrCat(proxy ? "proxy_name=\"forward\"," : "", "to=\"", to, "\""), failures);
    }
  }
  p.Family("coredns_forward_max_concurrent_rejects_total", "counter",
           "Counter of the number of queries rejected because the concurrent queries were at maximum.");
  p.Sample("coredns_forward_max_concurrent_rejects_total", "", in.engine.overloaded);

  p.Family("meshdns_peer_up", "gauge", "1 when the resolver is in rotation, 0 when it is marked down.");
  for (const auto& [key, up] : peer_up) {
    p.Sample("meshdns_peer_up", absl::StrCat("cluster=\"", key.first, "\",resolver=\"", key.second, "\""), up ? 1 : 0);
  }
  p.Family("meshdns_reloads_total", "counter", "Configuration reloads by result.");
  p.Sample("meshdns_reloads_total", "result=\"success\"", in.reloads);
  p.Sample("meshdns_reloads_total", "result=\"failure\"", in.reload_failures);
  p.Family("meshdns_dropped_packets_total", "counter", "Packets dropped unanswered, by reason.");
  p.Sample("meshdns_dropped_packets_total", "reason=\"malformed\"", in.dns.dropped_malformed);
  p.Sample("meshdns_dropped_packets_total", "reason=\"oversized\"", in.dns.dropped_oversized);
  uint64_t mismatched = 0;
  for (const auto& [to, c] : in.forward) mismatched += c.mismatched;
  p.Sample("meshdns_dropped_packets_total", "reason=\"upstream_mismatch\"", mismatched);
  p.Family("meshdns_tcp_connections_rejected_total", "counter",
           "TCP connections closed at accept because a connection limit was reached.");
  p.Sample("meshdns_tcp_connections_rejected_total", "limit=\"global\"", in.dns.tcp_rejected_global);
  p.Sample("meshdns_tcp_connections_rejected_total", "limit=\"per_client\"", in.dns.tcp_rejected_per_client);
  p.Family("meshdns_tcp_connections", "gauge", "TCP client connections open now.");
  p.Sample("meshdns_tcp_connections", "", in.tcp_connections);
  p.Family("meshdns_tcp_timeouts_total", "counter",
           "TCP connections closed after limits.tcp_idle: idle, sending too slowly, or not reading replies.");
  p.Sample("meshdns_tcp_timeouts_total", "", in.dns.tcp_timeouts);
  p.Family("meshdns_stale_answers_total", "counter", "Answers served from expired cache entries (serve_stale).");
  p.Sample("meshdns_stale_answers_total", "", in.engine.stale_answers);
  p.Family("meshdns_upstream_failures_total", "counter", "Forwarding attempts that got no usable reply.");
  p.Sample("meshdns_upstream_failures_total", "", in.engine.upstream_failures);
  p.Family("meshdns_overloaded_total", "counter", "Queries refused because every resolver was at its in-flight limit.");
  p.Sample("meshdns_overloaded_total", "", in.engine.overloaded);
  p.Family("meshdns_prefetches_total", "counter", "Cache entries refreshed ahead of expiry.");
  p.Sample("meshdns_prefetches_total", "", in.engine.prefetches);
  p.Family("meshdns_fanout_left_out_total", "counter",
           "Clusters left out of a clusterset service answer (down or slower than fanout_timeout).");
  p.Sample("meshdns_fanout_left_out_total", "", in.engine.fanout_left_out);
  p.Family("meshdns_cache_capacity", "gauge", "The cache's capacity in entries.");
  p.Sample("meshdns_cache_capacity", "", in.cache_capacity);
  return p.Take();
}

}  // namespace meshdns
