#include "server/metrics.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include <set>
#include <sstream>
#include <string>

namespace meshdns {
namespace {

TEST(HistogramTest, BucketsAreCoreDnsBoundsInclusive) {
  Histogram h;
  for (int64_t micros : {0, 250, 251, 500, 8'192'000, 8'192'001, 60'000'000}) h.Observe(micros);
  EXPECT_EQ(h.counts[0], 2u) << "0 and exactly 0.25 ms";
  EXPECT_EQ(h.counts[1], 2u) << "just above 0.25 ms, and 0.5 ms";
  EXPECT_EQ(h.counts[Histogram::kBounds - 1], 1u) << "exactly 8.192 s";
  EXPECT_EQ(h.counts[Histogram::kBounds], 2u) << "above the last bound: +Inf only";
  EXPECT_EQ(h.Count(), 7u);
  EXPECT_DOUBLE_EQ(Histogram::Bound(Histogram::kBounds - 1), 8.192);
}

// CoreDNS's README: coredns_build_info{version, revision, goversion}, a constant 1.
TEST(MetricsTest, BuildInfoIsAConstantOneGaugeWithCoreDnsLabels) {
  const std::string page = RenderMetrics(MetricsInput{});
  EXPECT_NE(page.find("# TYPE coredns_build_info gauge\n"), std::string::npos);
  EXPECT_NE(page.find("coredns_build_info{version=\"" MESHDNS_VERSION "\",revision=\"\",goversion=\"none\"} 1\n"),
            std::string::npos)
      << page.substr(0, 400);
}

TEST(MetricsTest, CumulativeBucketsAndCoreDnsLabels) {
  MetricsInput in;
  in.server = "dns://127.0.0.1:53";
  in.dns.CountRequest(ServerStats::kUdp, false, 1, 40, false);
  in.dns.CountRequest(ServerStats::kTcp, true, 99, 600, true);  // a type CoreDNS does not name
  in.dns.CountResponse(ServerStats::kUdp, 1, 3, 90, 300);
  in.dns.CountResponse(ServerStats::kUdp, 1, 0, 150, 100);
  in.peers.push_back({"c2", "192.0.2.1:53", false, 4});
  const std::string page = RenderMetrics(in);
  auto has = [&](const std::string& line) { return page.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("coredns_dns_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",proto=\"udp\","
                  "family=\"1\",type=\"A\"} 1"));
  EXPECT_TRUE(has("coredns_dns_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\",proto=\"tcp\","
                  "family=\"2\",type=\"other\"} 1"));
  EXPECT_TRUE(has("coredns_dns_responses_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\","
                  "rcode=\"NXDOMAIN\",plugin=\"\"} 1"));
  const std::string bucket = "coredns_dns_request_duration_seconds_bucket{server=\"dns://127.0.0.1:53\",zone=\".\","
                             "view=\"\",le=";
  EXPECT_TRUE(has(bucket + "\"0.00025\"} 1"));
  EXPECT_TRUE(has(bucket + "\"0.0005\"} 2")) << "cumulative";
  EXPECT_TRUE(has(bucket + "\"+Inf\"} 2"));
  EXPECT_TRUE(has("meshdns_peer_up{cluster=\"c2\",resolver=\"192.0.2.1:53\"} 0"));
  const std::string sizes = "coredns_dns_response_size_bytes_bucket{server=\"dns://127.0.0.1:53\",zone=\".\","
                            "view=\"\",proto=\"udp\",le=";
  EXPECT_TRUE(has(sizes + "\"100\"} 1"));
  EXPECT_TRUE(has(sizes + "\"200\"} 2"));
  EXPECT_TRUE(has("coredns_dns_do_requests_total{server=\"dns://127.0.0.1:53\",zone=\".\",view=\"\"} 1"));
  EXPECT_TRUE(has("coredns_proxy_healthcheck_failures_total{proxy_name=\"forward\",to=\"192.0.2.1:53\"} 4"));
  EXPECT_TRUE(has("coredns_forward_healthcheck_failures_total{to=\"192.0.2.1:53\"} 4"));
}

// Prometheus refuses a page that names a series twice or describes a family
// twice; a resolver in two pools (the local cluster's and upstream, the
// default) used to give both.
TEST(MetricsTest, EachSeriesAndEachFamilyOnce) {
  MetricsInput in;
  in.peers.push_back({"c1", "10.96.0.10:53", true, 2});
  in.peers.push_back({"upstream", "10.96.0.10:53", false, 3});
  in.peers.push_back({"c2", "192.0.2.1:53", true, 0});
  in.peers.push_back({"c3", "192.0.2.9:53", false, 0});
  in.peers.push_back({"c3", "192.0.2.9:53", true, 1});  // listed twice in one pool
  in.forward.push_back({"10.96.0.10:53", ChannelCounters{}});
  in.dns.CountRequest(ServerStats::kUdp, false, 1, 40, false);
  in.dns.CountResponse(ServerStats::kTcp, 1, 0, 150, 100);
  const std::string page = RenderMetrics(in);
  std::set<std::string> series, described;
  std::string family;  // the last TYPE's: every sample until the next belongs to it
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(described.insert(line.substr(0, line.find(' ', 7))).second) << "described twice: " << line;
      if (line.rfind("# TYPE ", 0) == 0) family = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    EXPECT_EQ(line.rfind(family, 0), 0u) << "apart from its family: " << line;
    const std::string key = line.substr(0, line.rfind(' '));
    EXPECT_TRUE(series.insert(key).second) << "series twice: " << key;
  }
  auto has = [&](const std::string& line) { return page.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("coredns_forward_healthcheck_failures_total{to=\"10.96.0.10:53\"} 5")) << "both pools' failures";
  EXPECT_TRUE(has("coredns_proxy_healthcheck_failures_total{proxy_name=\"forward\",to=\"10.96.0.10:53\"} 5"));
  EXPECT_TRUE(has("meshdns_peer_up{cluster=\"c1\",resolver=\"10.96.0.10:53\"} 1"));
  EXPECT_TRUE(has("meshdns_peer_up{cluster=\"upstream\",resolver=\"10.96.0.10:53\"} 0"));
  EXPECT_TRUE(has("meshdns_peer_up{cluster=\"c3\",resolver=\"192.0.2.9:53\"} 1")) << "up while one copy is";
}

TEST(MetricsTest, PluginEnabledIsOneGaugePerZoneAndPlugin) {
  // test/metrics_test.go TestMetricsPluginEnabled; none without plugins (the YAML mesh).
  MetricsInput in;
  in.server = "dns://0.0.0.0:53";
  EXPECT_EQ(RenderMetrics(in).find("coredns_plugin_enabled"), std::string::npos);
  in.plugins = {{"example.org.", "", "forward"}, {"example.com.", "", "cache"}, {"example.net.", "v1", "view"}};
  const std::string page = RenderMetrics(in);
  EXPECT_NE(page.find("# TYPE coredns_plugin_enabled gauge\n"), std::string::npos);
  EXPECT_NE(page.find("coredns_plugin_enabled{server=\"dns://0.0.0.0:53\",zone=\"example.org.\",view=\"\",name=\"forward\"} 1\n"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("zone=\"example.com.\",view=\"\",name=\"cache\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("zone=\"example.net.\",view=\"v1\",name=\"view\"} 1\n"), std::string::npos);
}

// CoreDNS's `view` label on the request metrics: a view's blocks' queries
// under its name (two blocks may share one), the rest under "".
TEST(MetricsTest, RequestsCarryTheirView) {
  MetricsInput in;
  in.server = "dns://:53";
  in.route_views = {"", "inside", "", "inside"};  // route 2: a block without a view
  in.dns.CountRequest(ServerStats::kUdp, false, 1, 40, true, 1);
  in.dns.CountRequest(ServerStats::kUdp, false, 1, 40, false, 3);
  in.dns.CountRequest(ServerStats::kUdp, false, 1, 40, false, 2);
  in.dns.CountRequest(ServerStats::kTcp, false, 28, 40, false);
  in.dns.CountResponse(ServerStats::kUdp, 1, 0, 90, 300, 1);
  in.dns.CountResponse(ServerStats::kUdp, 1, 3, 90, 300, 2);
  const std::string page = RenderMetrics(in);
  auto has = [&](const std::string& line) { return page.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("coredns_dns_requests_total{server=\"dns://:53\",zone=\".\",view=\"inside\",proto=\"udp\",family=\"1\",type=\"A\"} 2")) << page;
  EXPECT_TRUE(has("coredns_dns_requests_total{server=\"dns://:53\",zone=\".\",view=\"\",proto=\"udp\",family=\"1\",type=\"A\"} 1"));
  EXPECT_TRUE(has("coredns_dns_requests_total{server=\"dns://:53\",zone=\".\",view=\"\",proto=\"tcp\",family=\"1\",type=\"AAAA\"} 1"));
  EXPECT_TRUE(has("coredns_dns_responses_total{server=\"dns://:53\",zone=\".\",view=\"inside\",rcode=\"NOERROR\",plugin=\"\"} 1"));
  EXPECT_TRUE(has("coredns_dns_responses_total{server=\"dns://:53\",zone=\".\",view=\"\",rcode=\"NXDOMAIN\",plugin=\"\"} 1"));
  EXPECT_FALSE(absl::StrContains(page, "view=\"\",rcode=\"NOERROR\"")) << "the view's reply is not counted twice";
  EXPECT_TRUE(has("coredns_dns_do_requests_total{server=\"dns://:53\",zone=\".\",view=\"inside\"} 1"));
  EXPECT_TRUE(has("coredns_dns_do_requests_total{server=\"dns://:53\",zone=\".\",view=\"\"} 0"));
}

}  // namespace
}  // namespace meshdns
