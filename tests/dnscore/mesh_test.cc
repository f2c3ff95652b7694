#include "dnscore/mesh.h"

#include <gtest/gtest.h>

namespace meshdns {
namespace {

DnsName N(const char* text) { return *DnsName::FromText(text); }

Mesh ThreeClusters() {
  return Mesh(N("cluster.local"), N("clusterset.local"), {"cluster1", "cluster2", "cluster3"}, /*local=*/0);
}

TEST(MeshTest, RoutesEachNameToItsPartOfTheNameSpace) {
  using K = Route::Kind;
  const Mesh mesh = ThreeClusters();
  const struct {
    const char* name;
    K kind;
    size_t cluster;
  } cases[] = {
      // Rule 1: X.C.svc.D goes to cluster C.
      {"x.cluster2.svc.cluster.local", K::kCluster, 1},
      {"web.default.cluster1.svc.cluster.local", K::kCluster, 0},
      {"A.B.CLUSTER3.Svc.Cluster.LOCAL", K::kCluster, 2},
      // Rule 3: an unknown cluster label falls to upstream.
      {"x.unknown.svc.cluster.local", K::kUpstream, 0},
      {"x.cluster22.svc.cluster.local", K::kUpstream, 0},
      {"svc.cluster.local", K::kUpstream, 0},
      {"cluster.local", K::kUpstream, 0},
      // Rules 2-4: everything under the clusterset zone.
      {"web.cluster2.nginx.default.svc.clusterset.local", K::kClusterset, 0},
      {"web.unknown.nginx.default.svc.clusterset.local", K::kClusterset, 0},
      {"nginx.default.svc.ClusterSet.Local", K::kClusterset, 0},
      {"clusterset.local", K::kClusterset, 0},
      // Rule 5: everything else.
      {"example.com", K::kUpstream, 0},
      {"x.cluster2.svc.cluster.local.example.com", K::kUpstream, 0},
      {"x.cluster2.svc.othercluster.local", K::kUpstream, 0},
      {".", K::kUpstream, 0},
  };
  for (const auto& c : cases) {
    Route r = mesh.RouteName(N(c.name));
    EXPECT_EQ(r.kind, c.kind) << c.name;
    if (c.kind == K::kCluster) {
      EXPECT_EQ(r.cluster, c.cluster) << c.name;
    }
  }
}

TEST(MeshTest, FindClusterIgnoresCase) {
  const Mesh mesh = ThreeClusters();
  EXPECT_EQ(mesh.FindCluster("cluster3"), 2u);
  EXPECT_EQ(mesh.FindCluster("CLUSTER2"), 1u);
  EXPECT_FALSE(mesh.FindCluster("cluster4").has_value());
  EXPECT_FALSE(mesh.FindCluster("").has_value());
}

TEST(MeshTest, BuildsEachClustersZones) {
  const Mesh mesh(N("Example.Internal"), N("Set.Example"), {"east", "west"}, 1);
  EXPECT_EQ(mesh.domain().ToText(), "example.internal.");
  EXPECT_EQ(mesh.svc_zone().ToText(), "svc.example.internal.");
  EXPECT_EQ(mesh.clusterset().ToText(), "set.example.");
  EXPECT_EQ(mesh.local(), 1u);
  ASSERT_EQ(mesh.clusters().size(), 2u);
  EXPECT_EQ(mesh.clusters()[1].name, "west");
  EXPECT_EQ(mesh.clusters()[1].rewrite.cluster_zone().ToText(), "west.svc.example.internal.");
  Route r = mesh.RouteName(N("db.west.svc.example.internal"));
  EXPECT_EQ(r.kind, Route::Kind::kCluster);
  EXPECT_EQ(r.cluster, 1u);
  EXPECT_EQ(mesh.RouteName(N("db.west.svc.cluster.local")).kind, Route::Kind::kUpstream);
}

}  // namespace
}  // namespace meshdns
