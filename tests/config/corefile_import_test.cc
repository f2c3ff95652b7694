#include "config/corefile_import.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "config/corefile_plugins.h"
#include "config/imported_mesh.h"

namespace meshdns {
namespace {

// One cluster's hand-edited Corefile in the stretch-cluster pattern.
constexpr const char* kCluster1 = R"(.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . 192.0.2.53 192.0.2.54:5353 {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
}
cluster2.svc.cluster.local:53 {
    errors
    cache 10
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 172.18.0.5:30053 172.18.0.6:30053 {
        expire 10s
        policy random
    }
}
cluster3.svc.cluster.local:53 {
    cache 10
    rewrite stop name suffix cluster3.svc.cluster.local svc.cluster.local answer auto
    forward . 172.18.0.9:30053 {
        expire 10s
    }
}
clusterset.local:53 {
    template IN ANY clusterset.local {
        match "^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$"
        answer "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"
    }
}
)";

struct Imported {
  ImportResult result;
  std::optional<Config> config;
};

Imported Import(const std::string& corefile, std::optional<std::string> cluster = std::nullopt) {
  CorefileResult read = ReadCorefileText(corefile, "Corefile");
  EXPECT_TRUE(read.corefile.has_value());
  Imported out{ImportCorefile(*read.corefile, cluster), std::nullopt};
  if (out.result.errors.empty()) {
    LoadResult loaded = LoadConfigText(out.result.yaml, "imported.yaml");
    for (const ConfigError& e : loaded.errors) ADD_FAILURE() << e.ToString() << "\n" << out.result.yaml;
    out.config = loaded.config;
  }
  return out;
}

bool Warned(const ImportResult& r, const std::string& position, const std::string& words) {
  for (const ConfigError& w : r.warnings) {
    if (w.ToString().rfind(position, 0) == 0 && w.message.find(words) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> Resolvers(const Config& c, const std::string& cluster) {
  for (const ClusterConfig& cc : c.clusters) {
    if (cc.name != cluster) continue;
    std::vector<std::string> out;
    for (const SocketAddress& a : cc.resolvers) out.push_back(a.ToString());
    return out;
  }
  return {};
}

TEST(CorefileImportTest, TheMeshPatternBecomesOneMeshdnsConfig) {
  Imported i = Import(kCluster1);
  ASSERT_TRUE(i.config) << (i.result.errors.empty() ? "" : i.result.errors[0].ToString());
  const Config& c = *i.config;
  EXPECT_EQ(c.cluster, "cluster1") << "the one cluster without a peer block";
  EXPECT_EQ(c.domain.ToText(), "cluster.local.");
  EXPECT_EQ(c.clusterset_domain.ToText(), "clusterset.local.");
  ASSERT_EQ(c.clusters.size(), 3u);
  EXPECT_EQ(Resolvers(c, "cluster2"), (std::vector<std::string>{"172.18.0.5:30053", "172.18.0.6:30053"}));
  EXPECT_EQ(Resolvers(c, "cluster3"), (std::vector<std::string>{"172.18.0.9:30053"}));
  EXPECT_EQ(Resolvers(c, "cluster1"), (std::vector<std::string>{"10.96.0.10:53"}));
  EXPECT_EQ(c.clusters[1].policy, Policy::kRandom);
  EXPECT_FALSE(c.clusters[2].policy.has_value());
  EXPECT_EQ(c.forward.expire, 10000);
  EXPECT_EQ(c.cache.ttl.max_ttl, 10u) << "the mesh blocks' cache, not the root's";
  ASSERT_EQ(c.upstream.size(), 2u);
  EXPECT_EQ(c.upstream[1].ToString(), "192.0.2.54:5353");
  ASSERT_EQ(c.templates.size(), 1u);
  EXPECT_EQ(c.templates[0].match.substr(0, 10), "^(?P<host>");
  EXPECT_EQ(c.limits.inflight, 1000u);
  EXPECT_EQ(c.metrics, "0.0.0.0:9153");
  EXPECT_EQ(c.health, "0.0.0.0:8080");
  EXPECT_EQ(c.ready, "0.0.0.0:8181");
  EXPECT_EQ(c.lameduck, 5000) << "health { lameduck 5s } carries over";

  EXPECT_TRUE(Warned(i.result, "Corefile:7:5:", "kube-dns"));
  EXPECT_FALSE(Warned(i.result, "Corefile:", "lameduck"));
  EXPECT_TRUE(Warned(i.result, "Corefile:16:5:", "loop"));
  EXPECT_TRUE(Warned(i.result, "Corefile:1:1:", "10.96.0.10:53 assumed"));
  EXPECT_FALSE(Warned(i.result, "Corefile:", "no rewrite")) << "both peer blocks strip their label";
}

TEST(CorefileImportTest, TheClusterCanBeNamed) {
  Imported i = Import(kCluster1, "cluster2");
  ASSERT_TRUE(i.config);
  EXPECT_EQ(i.config->cluster, "cluster2");
  EXPECT_EQ(Resolvers(*i.config, "cluster2"), (std::vector<std::string>{"172.18.0.5:30053", "172.18.0.6:30053"}));
  EXPECT_EQ(i.config->clusters.size(), 2u) << "cluster1 has no block of its own: only the blocks' clusters";
}

TEST(CorefileImportTest, WithoutNumberedPeersTheClusterMustBeNamed) {
  const std::string corefile =
      "east.svc.cluster.local {\n  forward . 172.18.0.5:30053\n}\nwest.svc.cluster.local {\n"
      "  forward . 172.18.0.6:30053\n}\n";
  Imported i = Import(corefile);
  ASSERT_EQ(i.result.errors.size(), 1u);
  EXPECT_NE(i.result.errors[0].message.find("pass --cluster NAME"), std::string::npos);
  EXPECT_TRUE(i.result.yaml.empty());
  Imported named = Import(corefile, "east");
  ASSERT_TRUE(named.config);
  EXPECT_TRUE(Warned(named.result, "Corefile:1:1:", "no rewrite that strips the cluster label"));
}

TEST(CorefileImportTest, DifferingForwardOptionsKeepTheFirstAndSaySo) {
  Imported i = Import(
      "cluster2.svc.cluster.local {\n  forward . 172.18.0.5:30053 {\n    expire 10s\n  }\n}\n"
      "cluster3.svc.cluster.local {\n  forward . 172.18.0.9:30053 {\n    expire 30s\n    force_tcp\n  }\n}\n");
  ASSERT_TRUE(i.config);
  EXPECT_EQ(i.config->forward.expire, 10000);
  EXPECT_TRUE(Warned(i.result, "Corefile:8:5:", "expire 30s differs from 10s"));
  EXPECT_TRUE(Warned(i.result, "Corefile:9:5:", "force_tcp has no meshdns equivalent"));
}

TEST(CorefileImportTest, ABindIsNotCarriedOverAndSaysSo) {
  Imported i = Import("cluster2.svc.cluster.local {\n  bind 169.254.20.10\n  forward . 172.18.0.5:30053\n}\n",
                      "cluster1");
  ASSERT_TRUE(i.config);
  EXPECT_TRUE(Warned(i.result, "Corefile:2:3:", "meshdns listens where `listen` says"));
}

TEST(CorefileImportTest, AViewIsRefused) {
  // Left out, the block would answer everyone: an error, never a warning.
  Imported i = Import(". {\n  view inside {\n    expr incidr(client_ip(), '10.0.0.0/8')\n  }\n  forward . 10.0.0.1\n}\n"
                      ". {\n  forward . 10.0.0.2\n}\n",
                      "cluster1");
  ASSERT_EQ(i.result.errors.size(), 1u);
  EXPECT_EQ(i.result.errors[0].ToString(),
            "Corefile:2:3: view: the mesh YAML cannot carry a Corefile view (blocks chosen by client or query); run "
            "this Corefile with `meshdns serve --corefile`");
  EXPECT_TRUE(i.result.yaml.empty());
}

TEST(CorefileImportTest, TheAnsweringPluginsAreNotCarriedOverAndSaySo) {
  Imported i = Import(". {\n  local\n  any\n  chaos\n  whoami\n  forward . 10.0.0.1\n}\n", "cluster1");
  ASSERT_TRUE(i.config);
  EXPECT_TRUE(Warned(i.result, "Corefile:2:3:", "local: not carried over"));
  EXPECT_TRUE(Warned(i.result, "Corefile:3:3:", "any: not carried over"));
  EXPECT_TRUE(Warned(i.result, "Corefile:4:3:", "chaos: not carried over"));
  EXPECT_TRUE(Warned(i.result, "Corefile:5:3:", "whoami: not carried over"));
}

TEST(CorefileImportTest, TheMeshIsReadFromThePlanWithWhereEachClusterCameFrom) {
  CorefileResult read = ReadCorefileText(kCluster1, "Corefile");
  ASSERT_TRUE(read.corefile);
  MeshImport imported = ImportMesh(PlanCorefile(*read.corefile));
  ASSERT_TRUE(imported.mesh);
  const ImportedMesh& m = *imported.mesh;
  ASSERT_EQ(m.clusters.size(), 3u);
  EXPECT_EQ(m.clusters[0].name, "cluster1");
  ASSERT_TRUE(m.clusters[0].origin) << "its names reach the root block's forward .";
  EXPECT_EQ(m.clusters[0].origin->server, 0u);
  EXPECT_EQ(m.clusters[0].origin->forward, 0u);
  ASSERT_TRUE(m.clusters[2].origin);
  EXPECT_EQ(m.clusters[2].name, "cluster3");
  EXPECT_EQ(m.clusters[2].origin->server, 2u);
  EXPECT_EQ(m.clusters[1].resolvers.size(), 2u);
  EXPECT_EQ(m.expire, 10000);
  EXPECT_EQ(m.cache_max_ttl, 10u);
  EXPECT_EQ(m.lameduck, 5000);
}

TEST(CorefileImportTest, WhatMeshdnsCannotRunIsLeftOutWhereItIsWritten) {
  Imported i = Import(
      "cluster2.svc.cluster.local {\n  forward . tls://172.18.0.5:853 172.18.0.6:30053 {\n    tls_servername x\n"
      "  }\n}\ncluster3.svc.cluster.local {\n  forward . 172.18.0.9:30053\n  template IN A {\n    rcode NXDOMAIN\n"
      "  }\n}\n");
  ASSERT_TRUE(i.config);
  EXPECT_TRUE(Warned(i.result, "Corefile:2:13:", "tls://172.18.0.5:853: only plain DNS upstreams are supported; left out"));
  EXPECT_TRUE(Warned(i.result, "Corefile:3:5:", "tls_servername is not supported"));
  EXPECT_TRUE(Warned(i.result, "Corefile:8:3:", "template: not carried over"));
  EXPECT_EQ(Resolvers(*i.config, "cluster2"), (std::vector<std::string>{"172.18.0.6:30053"}));

  Imported broken = Import("cluster2.svc.cluster.local {\n  forward . 172.18.0.5 {\n    policy fastest\n  }\n}\n");
  ASSERT_EQ(broken.result.errors.size(), 1u) << "a mistake is an error at its position, not in the YAML";
  EXPECT_EQ(broken.result.errors[0].ToString(),
            "Corefile:3:12: policy: 'fastest' is not random, round_robin or sequential");
}

TEST(CorefileImportTest, AResolvConfUpstreamCarriesOverAsItsFile) {
  const std::string path = ::testing::TempDir() + "/import_test_resolv.conf";
  std::ofstream(path) << "nameserver 192.0.2.53\n";
  Imported i = Import(".:53 {\n  forward . " + path + "\n}\ncluster2.svc.cluster.local {\n  forward . 172.18.0.5:30053\n}\n");
  ASSERT_TRUE(i.config);
  EXPECT_NE(i.result.yaml.find(path), std::string::npos) << "the file, not what it lists today";
  ASSERT_EQ(i.config->upstream.size(), 1u);
  EXPECT_EQ(i.config->upstream[0].ToString(), "192.0.2.53:53");
  std::remove(path.c_str());
}

TEST(CorefileImportTest, TheYamlQuotesWhatWouldReadAsAnotherType) {
  Imported i = Import("cluster2.svc.cluster.local {\n  forward . 172.18.0.5:30053\n}\n", "true");
  ASSERT_TRUE(i.config) << i.result.yaml;
  EXPECT_EQ(i.config->cluster, "true");
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// issue #19: `cache 3` loads in CoreDNS (the cap wins over the 5 s floor);
// its import must load too and mean the same 3 s for answers and denials.
TEST(CorefileImportTest, CacheBelowTheFloorImportsAsItsCap) {
  std::string text = kCluster1;
  for (size_t at; (at = text.find("cache 10")) != std::string::npos;) text.replace(at, 8, "cache 3");
  Imported i = Import(text);
  ASSERT_TRUE(i.config) << i.result.yaml;
  EXPECT_EQ(i.config->cache.ttl.max_ttl, 3u);
  EXPECT_EQ(i.config->cache.ttl.min_ttl, 3u);
  EXPECT_EQ(i.config->cache.ttl.denial_ttl, 3u);
}

}  // namespace
}  // namespace meshdns
