// The cache directive read as CoreDNS reads it: black-box cases from
// CoreDNS v1.14.7 plugin/cache/setup_test.go (each case names its Go test),
// and what meshdns refuses because it cannot serve it the same way.
#include <gtest/gtest.h>

#include <string>

#include "config/corefile_plugins.h"

namespace meshdns {
namespace {

struct Planned {
  CorefilePlan plan;
  const CachePlan* cache() const {
    return plan.servers.empty() || !plan.servers[0].cache ? nullptr : &*plan.servers[0].cache;
  }
};

// `cache_text` is the cache directive with its block, inside `. { … }`.
Planned PlanCache(const std::string& cache_text, bool ignore_unsupported = false) {
  CorefileResult r = ReadCorefileText(". {\n" + cache_text + "\n}\n", "Corefile");
  EXPECT_TRUE(r.corefile) << cache_text;
  if (!r.corefile) return {};
  return {PlanCorefile(*r.corefile, {.ignore_unsupported = ignore_unsupported})};
}

std::string Errors(const Planned& p) {
  std::string out;
  for (const ConfigError& e : p.plan.errors) out += e.ToString() + "\n";
  return out;
}

// TestSetup, TestServeStale, TestServeStaleFailureRecheck, TestServfail,
// TestDisable, TestKeepttl: the inputs CoreDNS refuses.
TEST(CachePlanTest, RefusesWhatCoreDnsRefuses) {
  const char* cases[] = {
      "cache example.nl {\n success\n denial 10 15\n}",            // TestSetup
      "cache example.nl {\n success 15\n denial aaa\n}",           // TestSetup
      "cache example.nl {\n positive 15\n negative aaa\n}",        // TestSetup
      "cache 0 example.nl",                                        // TestSetup
      "cache -1 example.nl",                                       // TestSetup
      "cache 1 example.nl {\n prefetch 0 blurp\n}",                // TestSetup
      "cache {\n success 10 0\n}",                                 // TTL zero reserved (setup.go)
      "cache {\n denial 10 15 -2\n}",                              // negative MINTTL (setup.go)
      "cache {\n prefetch -1\n}",                                  // setup.go: amount should be positive
      "cache {\n prefetch 2 1m 20\n}",                             // setup.go: percentage needs %
      "cache {\nserve_stale 20\n}",                                // TestServeStale
      "cache {\nserve_stale -20m\n}",                              // TestServeStale
      "cache {\nserve_stale aa\n}",                                // TestServeStale
      "cache {\nserve_stale 1m nono\n}",                           // TestServeStale
      "cache {\nserve_stale 0 after nono\n}",                      // TestServeStale
      "cache {\nserve_stale 1h immediate 100ms\n}",                // TestServeStale
      "cache {\nserve_stale 1h immediate 4294967296s\n}",          // TestServeStale
      "cache {\nserve_stale 1h immediate -1s\n}",                  // TestServeStale
      "cache {\nserve_stale 1h immediate garbage\n}",              // TestServeStale
      "cache {\nserve_stale 1h immediate 30s extra\n}",            // TestServeStale
      "cache {\nserve_stale 1h verify -1ms\n}",                    // TestServeStale
      "cache {\nserve_stale 1h verify garbage\n}",                 // TestServeStale
      "cache {\nserve_stale 1h verify 100ms 500ms\n}",             // TestServeStale
      "cache {\nserve_stale 1h verify 100ms -1s\n}",               // TestServeStale
      "cache {\nserve_stale 1h immediate 30s -1s\n}",              // TestServeStaleFailureRecheck
      "cache {\nserve_stale 1h immediate 30s 5m1s\n}",             // TestServeStaleFailureRecheck
      "cache {\nserve_stale 1h immediate 30s invalid\n}",          // TestServeStaleFailureRecheck
      "cache {\nserve_stale_policy prefer_positive\n}",            // TestServeStalePolicy
      "cache {\nserve_stale\nserve_stale_policy\n}",               // TestServeStalePolicy
      "cache {\nserve_stale\nserve_stale_policy invalid\n}",       // TestServeStalePolicy
      "cache {\nservfail\n}",                                      // TestServfail
      "cache {\nservfail 6m\n}",                                   // TestServfail
      "cache {\nservfail 20\n}",                                   // TestServfail
      "cache {\nservfail -1s\n}",                                  // TestServfail
      "cache {\nservfail aa\n}",                                   // TestServfail
      "cache {\nservfail 1m invalid\n}",                           // TestServfail
      "cache {\ndisable invalid example.com example.org\n}",       // TestDisable
      "cache {\nkeepttl arg1\n}",                                  // TestKeepttl
  };
  for (const char* text : cases) {
    // Not even --ignore-unsupported lets these through: CoreDNS would not start.
    const Planned p = PlanCache(text, /*ignore_unsupported=*/true);
    EXPECT_FALSE(p.plan.errors.empty()) << text;
    for (const ConfigError& e : p.plan.errors) EXPECT_GT(e.line, 0) << text << ": " << e.ToString();
  }
}

// TestSetup: the values CoreDNS reads.
TEST(CachePlanTest, ReadsTheValuesCoreDnsReads) {
  Planned p = PlanCache("cache 25 example.nl {\n success 10\n denial 10 15 5\n}");
  ASSERT_TRUE(p.cache()) << Errors(p);
  EXPECT_EQ(p.cache()->success_ttl, 25u);
  EXPECT_EQ(p.cache()->success_min_ttl, 5u);
  EXPECT_EQ(p.cache()->denial_ttl, 15u) << "denial's own TTL overrides the directive's";
  EXPECT_EQ(p.cache()->denial_min_ttl, 5u);
  EXPECT_EQ(p.cache()->success_capacity, 1024u) << "CoreDNS's shards hold at least 4 entries each";
  EXPECT_EQ(p.cache()->zones[0].ToText(), "example.nl.");

  p = PlanCache("cache aaa example.nl");  // TestSetup: a first argument that is no number is a zone
  ASSERT_TRUE(p.cache()) << Errors(p);
  EXPECT_EQ(p.cache()->zones.size(), 2u);
  EXPECT_FALSE(p.cache()->ttl);

  p = PlanCache("cache {\n prefetch 10\n}");  // TestSetup
  ASSERT_TRUE(p.cache() && p.cache()->prefetch) << Errors(p);
  EXPECT_EQ(p.cache()->prefetch->amount, 10u);
  EXPECT_EQ(p.cache()->prefetch->duration, 60000);
  EXPECT_EQ(p.cache()->prefetch->percentage, 10u);

  p = PlanCache("cache {\n prefetch 0\n}");  // setup.go accepts 0, and then does not prefetch
  ASSERT_TRUE(p.cache()) << Errors(p);
  EXPECT_FALSE(p.cache()->prefetch);
}

// The kubeadm default's cache and CoreDNS's `cache 3` clamping order.
TEST(CachePlanTest, CacheThreeLoadsAndDisableListsItsZones) {
  Planned p = PlanCache("cache 3");
  ASSERT_TRUE(p.cache()) << Errors(p);
  EXPECT_EQ(p.cache()->success_ttl, 3u);
  EXPECT_EQ(p.cache()->success_min_ttl, 5u) << "kept: the cap applies last";

  // kubernetes/kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go (CoreDNSConfigMap).
  p = PlanCache("cache 30 {\n disable success cluster.local\n disable denial cluster.local\n}");
  ASSERT_TRUE(p.cache()) << Errors(p);
  ASSERT_EQ(p.cache()->success_off.size(), 1u);
  EXPECT_EQ(p.cache()->success_off[0].ToText(), "cluster.local.");
  ASSERT_EQ(p.cache()->denial_off.size(), 1u);

  // TestDisable: no zone means every name; a later line replaces an earlier one.
  p = PlanCache("cache {\ndisable denial\ndisable success a.example\ndisable success b.example c.example\n}");
  ASSERT_TRUE(p.cache()) << Errors(p);
  ASSERT_EQ(p.cache()->denial_off.size(), 1u);
  EXPECT_TRUE(p.cache()->denial_off[0].IsRoot());
  ASSERT_EQ(p.cache()->success_off.size(), 2u);
  EXPECT_EQ(p.cache()->success_off[0].ToText(), "b.example.");
}

// TestServeStale, TestServfail, TestKeepttl: accepted, and what meshdns keeps of them.
TEST(CachePlanTest, ServeStaleServfailAndKeepttl) {
  Planned p = PlanCache("cache {\nserve_stale 1h immediate 4294967295s\nservfail 5m\nkeepttl\n}");
  ASSERT_TRUE(p.cache()) << Errors(p);
  EXPECT_EQ(p.cache()->serve_stale, 3600000);
  EXPECT_EQ(p.cache()->stale_ttl, 4294967295u);
  EXPECT_EQ(p.cache()->servfail, 300000);
  EXPECT_TRUE(p.cache()->keepttl);

  for (const char* ok : {"serve_stale 0 VERIFY", "serve_stale 1h verify 0 1m", "serve_stale 1h immediate 0 0",
                         "servfail 0", "servfail 0s"}) {
    p = PlanCache(std::string("cache {\n") + ok + "\n}");
    EXPECT_TRUE(p.plan.errors.empty()) << ok << ": " << Errors(p);
  }
}

// What CoreDNS runs and meshdns cannot serve the same way: refused with the
// reason, and with --ignore-unsupported left out with a warning.
TEST(CachePlanTest, RefusesWhatItCannotHonour) {
  for (const char* text : {"serve_stale 1h verify 100ms", "serve_stale 1h immediate 30s 30s",
                           "serve_stale\nserve_stale_policy prefer_positive"}) {
    Planned strict = PlanCache(std::string("cache {\n") + text + "\n}");
    EXPECT_FALSE(strict.plan.errors.empty()) << text;
    EXPECT_NE(Errors(strict).find("not supported"), std::string::npos) << Errors(strict);
    Planned lenient = PlanCache(std::string("cache {\n") + text + "\n}", /*ignore_unsupported=*/true);
    EXPECT_TRUE(lenient.plan.errors.empty()) << text << ": " << Errors(lenient);
    EXPECT_FALSE(lenient.plan.warnings.empty()) << text;
  }
}

}  // namespace
}  // namespace meshdns
