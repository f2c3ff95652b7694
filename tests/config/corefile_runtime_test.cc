#include "config/corefile_runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

CorefileLoad Compile(const std::string& text, bool ignore_unsupported = false) {
  CorefileResult r = ReadCorefileText(text, "Corefile");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.corefile) return {};
  return CompileCorefile(*r.corefile, {.ignore_unsupported = ignore_unsupported});
}

std::string Errors(const CorefileLoad& c) {
  std::string out;
  for (const ConfigError& e : c.errors) out += e.ToString() + "\n";
  return out;
}

constexpr const char* kMesh = R"(.:53 {
    forward . 127.0.0.1:5300
    cache 30
}
cluster2.svc.cluster.local {
    forward . 127.0.0.2:30053 127.0.0.3:30053 {
        policy round_robin
        max_fails 0
        force_tcp
        max_concurrent 10
    }
}
svc.cluster.local {
    forward . 127.0.0.4
}
clusterset.local {
    cache 10 clusterset.local
    template IN ANY clusterset.local {
        match ^x\.clusterset\.local\.$
        answer "{{ .Name }} 5 IN A 192.0.2.1"
    }
}
)";

TEST(CorefileRuntimeTest, DispatchPicksTheLongestZone) {
  CorefileLoad c = Compile(kMesh);
  ASSERT_TRUE(c.config) << Errors(c);
  const Program& p = c.serving.program;
  EXPECT_EQ(p.Dispatch(N("a.b.Cluster2.svc.cluster.local"))->name, "cluster2.svc.cluster.local");
  EXPECT_EQ(p.Dispatch(N("cluster2.svc.cluster.local"))->name, "cluster2.svc.cluster.local");
  EXPECT_EQ(p.Dispatch(N("a.cluster3.svc.cluster.local"))->name, "svc.cluster.local");
  EXPECT_EQ(p.Dispatch(N("example.com"))->name, ".");
  EXPECT_EQ(p.Dispatch(N("x.xcluster2.svc.cluster.local"))->name, "svc.cluster.local") << "whole labels only";

  CorefileLoad no_root = Compile("example.org {\n forward . 127.0.0.1\n}\n");
  ASSERT_TRUE(no_root.config) << Errors(no_root);
  EXPECT_EQ(no_root.serving.program.Dispatch(N("example.com")), nullptr) << "then the answer is REFUSED";
}

TEST(CorefileRuntimeTest, EachForwardGetsAPoolWithItsOptions) {
  CorefileLoad c = Compile(kMesh);
  ASSERT_TRUE(c.config) << Errors(c);
  ASSERT_EQ(c.serving.pools.size(), 3u);
  const Pool& peer = c.serving.pools[1];
  EXPECT_EQ(peer.name, "cluster2.svc.cluster.local");
  EXPECT_EQ(peer.policy, Policy::kRoundRobin);
  EXPECT_EQ(peer.resolvers.size(), 2u);
  EXPECT_EQ(peer.health_options.max_fails, 0u);
  EXPECT_TRUE(peer.force_tcp);
  EXPECT_EQ(peer.max_concurrent, 10u);
  EXPECT_EQ(c.serving.pools[0].policy, Policy::kRandom) << "CoreDNS's default policy";
  const Block* block = c.serving.program.Dispatch(N("x.cluster2.svc.cluster.local"));
  ASSERT_NE(block->ForwardFor(N("x.cluster2.svc.cluster.local")), nullptr);
  EXPECT_EQ(block->ForwardFor(N("x.cluster2.svc.cluster.local"))->pool, 1u);
}

TEST(CorefileRuntimeTest, ForwardFromAndExcept) {
  CorefileLoad c = Compile(R"(. {
    forward example.org 127.0.0.1 {
        except internal.example.org
    }
    forward . 127.0.0.2
})");
  ASSERT_TRUE(c.config) << Errors(c);
  const Block& b = c.serving.program.blocks()[0];
  EXPECT_EQ(b.ForwardFor(N("www.example.org"))->pool, 0u);
  EXPECT_EQ(b.ForwardFor(N("a.internal.example.org"))->pool, 1u) << "excepted names go on to the next forward";
  EXPECT_EQ(b.ForwardFor(N("example.com"))->pool, 1u);

  CorefileLoad only = Compile("example.org {\n forward example.org 127.0.0.1 {\n except example.org\n }\n}\n");
  ASSERT_TRUE(only.config) << Errors(only);
  EXPECT_NE(only.serving.program.blocks()[0].ForwardFor(N("example.org")), nullptr) << "the apex is never excepted";
}

TEST(CorefileRuntimeTest, CacheCoversItsZonesWithItsTtls) {
  CorefileLoad c = Compile(kMesh);
  ASSERT_TRUE(c.config) << Errors(c);
  const Block* root = c.serving.program.Dispatch(N("example.com"));
  ASSERT_NE(root->CacheFor(N("example.com")), nullptr);
  EXPECT_EQ(root->CacheFor(N("example.com"))->ttl.max_ttl, 30u);
  EXPECT_EQ(c.serving.program.Dispatch(N("x.svc.cluster.local"))->CacheFor(N("x.svc.cluster.local")), nullptr)
      << "a block without cache keeps nothing";
  EXPECT_GE(c.config->cache.capacity, 2 * 9984u);
}

TEST(CorefileRuntimeTest, SideServicesAndListen) {
  CorefileLoad c = Compile(
      ".:5353 {\n health :8080 {\n  lameduck 3s\n }\n ready 127.0.0.1:8181\n prometheus\n log\n forward . 127.0.0.1\n}\n");
  ASSERT_TRUE(c.config) << Errors(c);
  EXPECT_EQ(c.config->lameduck, 3000) << "health's lameduck is honoured, not dropped";
  EXPECT_EQ(c.config->listen.front().ToString(), "0.0.0.0:5353");
  EXPECT_EQ(c.config->health, "0.0.0.0:8080");
  EXPECT_EQ(c.config->ready, "127.0.0.1:8181");
  EXPECT_EQ(c.config->metrics, "127.0.0.1:9153") << "CoreDNS's default localhost:9153";
  EXPECT_TRUE(c.config->log_queries);
}

// CoreDNS's TestPrometheusParse (`prometheus localhost:53`) and the forms real
// Corefiles use: each an address meshdns binds.
TEST(CorefileRuntimeTest, PrometheusAddressFormsCoreDnsAccepts) {
  const std::pair<const char*, const char*> cases[] = {{"localhost:53", "127.0.0.1:53"},
                                                       {":9153", "0.0.0.0:9153"},
                                                       {"0.0.0.0:9253", "0.0.0.0:9253"},
                                                       {"[::1]:9153", "[::1]:9153"},
                                                       {"[::]:9153", "[::]:9153"}};
  for (const auto& [written, bound] : cases) {
    CorefileLoad c = Compile(std::string(".:5353 {\n prometheus ") + written + "\n forward . 127.0.0.1\n}\n");
    ASSERT_TRUE(c.config) << written << ": " << Errors(c);
    EXPECT_EQ(c.config->metrics, bound) << written;
  }
}

TEST(CorefileRuntimeTest, UdpRepliesStopAt1232UnlessBufsizeSaysOtherwise) {
  CorefileLoad plain = Compile(kMesh);
  ASSERT_TRUE(plain.config) << Errors(plain);
  EXPECT_EQ(plain.config->limits.udp_reply_size, 1232u) << "without bufsize too, unlike CoreDNS";
  CorefileLoad raised = Compile(".:53 {\n  bufsize 4096\n  forward . 127.0.0.1\n}\n");
  ASSERT_TRUE(raised.config) << Errors(raised);
  EXPECT_EQ(raised.config->limits.udp_reply_size, 4096u);
  // One cap per port: the smallest a block sets, whichever block comes first.
  CorefileLoad two = Compile(".:53 {\n  bufsize 4096\n  forward . 127.0.0.1\n}\n"
                             "example.org:53 {\n  bufsize 1400\n  forward . 127.0.0.2\n}\n");
  ASSERT_TRUE(two.config) << Errors(two);
  EXPECT_EQ(two.config->limits.udp_reply_size, 1400u);
}

TEST(CorefileRuntimeTest, ProblemsNameFileLineAndColumn) {
  EXPECT_EQ(Errors(Compile(".:53 {\n forward . 127.0.0.1\n}\n.:53 {\n forward . 127.0.0.1\n}\n")),
            "Corefile:4:1: zone .:53 is already defined at line 1 (only blocks with a view may repeat it)\n");
  const std::string k8s = ".:53 {\n    kubernetes cluster.local\n    forward . 127.0.0.1\n}\n";
  EXPECT_NE(Errors(Compile(k8s)).find("Corefile:2:5: "), std::string::npos) << Errors(Compile(k8s));
  CorefileLoad skipped = Compile(k8s, /*ignore_unsupported=*/true);
  EXPECT_TRUE(skipped.config) << Errors(skipped);
  ASSERT_EQ(skipped.warnings.size(), 1u);
  EXPECT_EQ(skipped.warnings[0].line, 2);
  EXPECT_NE(Errors(Compile(".:53 {\n health example.com:8080\n}\n")).find("Corefile:2:2: health:"), std::string::npos);
}

TEST(CorefileRuntimeTest, HostsReadsItsFileAndKeepsInlineEntriesWithout) {
  const std::string path = ::testing::TempDir() + "/corefile_runtime_test.hosts";
  {
    std::ofstream f(path);
    f << "10.0.0.7 seven.example.org\n";
  }
  CorefileLoad c = Compile("example.org {\n hosts " + path + " {\n  10.0.0.8 eight.example.org\n }\n}\n");
  ASSERT_TRUE(c.config) << Errors(c);
  const HostsTable& t = *c.serving.program.blocks()[0].hosts;
  EXPECT_EQ(t.Lookup(N("seven.example.org"), 1).answer.size(), 1u);
  EXPECT_EQ(t.Lookup(N("eight.example.org"), 1).answer.size(), 1u);
  std::remove(path.c_str());
  CorefileLoad missing = Compile("example.org {\n hosts " + path + " {\n  10.0.0.8 eight.example.org\n }\n}\n");
  ASSERT_TRUE(missing.config) << Errors(missing);
  ASSERT_EQ(missing.warnings.size(), 1u);
  EXPECT_EQ(missing.serving.program.blocks()[0].hosts->Lookup(N("eight.example.org"), 1).answer.size(), 1u);
}

TEST(CorefileRuntimeTest, EachClustersPoolIsTheForwardItWasReadFrom) {
  CorefileLoad c = Compile(R"(.:53 {
    forward cluster.local 127.0.0.9
    forward . 127.0.0.1:5300
}
cluster2.svc.cluster.local {
    rewrite stop name suffix cluster2.svc.cluster.local svc.cluster.local answer auto
    forward . 127.0.0.2:30053
}
cluster3.svc.cluster.local {
    rewrite stop name suffix cluster3.svc.cluster.local svc.cluster.local answer auto
    forward . 127.0.0.3:30053
}
)");
  ASSERT_TRUE(c.config) << Errors(c);
  EXPECT_EQ(c.config->cluster, "cluster1");
  ASSERT_EQ(c.config->clusters.size(), 3u);
  EXPECT_EQ(c.config->clusters[0].resolvers.front().ToString(), "127.0.0.9:53") << "forward cluster.local";
  ASSERT_NE(c.serving.program.mesh(), nullptr);
  EXPECT_EQ(c.serving.program.mesh()->cluster_pools, (std::vector<int>{0, 2, 3}));

  CorefileLoad other = Compile(kMesh);
  ASSERT_TRUE(other.config) << Errors(other);
  EXPECT_EQ(other.config->cluster, "cluster1");
  EXPECT_EQ(other.serving.program.mesh()->cluster_pools, (std::vector<int>{2, 1}))
      << "the own cluster's names go to the svc.cluster.local block's forward";
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// The kubeadm default's cache (kubernetes/kubernetes
// cmd/kubeadm/app/phases/addons/dns/manifests.go, CoreDNSConfigMap), with
// the TTL of `cache 3`: cluster.local answers get the policy's TTLs but are
// not kept; other names are kept; keepttl and servfail reach the block.
TEST(CorefileRuntimeTest, CacheDisableKeepttlAndServfailReachTheBlock) {
  CorefileLoad c = Compile(
      ".:53 {\n  forward . 192.0.2.1\n  cache 3 {\n    disable success cluster.local\n"
      "    disable denial cluster.local\n    keepttl\n    servfail 10s\n  }\n}\n");
  ASSERT_TRUE(c.config) << Errors(c);
  const BlockCache* cache = c.serving.program.Dispatch(N("example.com"))->CacheFor(N("example.com"));
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->ttl.max_ttl, 3u);
  EXPECT_EQ(cache->ttl.denial_ttl, 3u);
  EXPECT_EQ(cache->ttl.servfail_ttl, 10u);
  EXPECT_TRUE(cache->keep_ttl);
  StoredReply success;
  success.cacheable = true;
  StoredReply denial = success;
  denial.denial = true;
  for (const StoredReply* r : {&success, &denial}) {
    EXPECT_FALSE(cache->Keeps(N("kubernetes.default.svc.cluster.local"), *r));
    EXPECT_FALSE(cache->Keeps(N("cluster.local"), *r));
    EXPECT_TRUE(cache->Keeps(N("example.com"), *r));
    EXPECT_TRUE(cache->Keeps(N("notcluster.local"), *r)) << "a zone is matched by labels";
  }
}

}  // namespace
}  // namespace meshdns
