// The values file of `meshdns manifests`: defaults, every key read, and each
// kind of mistake reported at its position.
#include "config/manifest_values.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

constexpr char kMesh[] = R"(# a mesh file with a comment that must survive
cluster: c1
listen: ["0.0.0.0:5353"]
clusters:
  c1: {resolvers: ["10.96.0.10:53"]}
  c2: {resolvers: ["192.0.2.2:30053"]}
acl:
  allow: ["10.0.0.0/8"]
  deny: ["10.9.0.0/16"]
forward: {timeout: 3s}
metrics: "0.0.0.0:9153"
health: "0.0.0.0:8080"
ready: "0.0.0.0:8181"
)";

class ManifestValuesTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("manifest_values_test_", getpid(), "_", testing::UnitTest::GetInstance()->random_seed());
    std::filesystem::create_directories(dir_);
    Write("mesh.yaml", kMesh);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  ManifestValuesLoad Load(const std::string& values) {
    return LoadManifestValuesText(values, (dir_ / "values.yaml").string());
  }

  // The one error of loading `values`, as FILE:LINE:COL: message.
  std::string OnlyError(const std::string& values) {
    ManifestValuesLoad r = Load(values);
    EXPECT_FALSE(r.values);
    EXPECT_EQ(r.errors.size(), 1u);
    return r.errors.empty() ? "" : r.errors[0].ToString();
  }

  std::filesystem::path dir_;
};

TEST_F(ManifestValuesTest, DefaultsAreThoseTheIssueAskedFor) {
  ManifestValuesLoad r = Load("cluster: c1\nimage: meshdns:0.1.0\nmesh: mesh.yaml\n");
  ASSERT_TRUE(r.values) << r.errors[0].ToString();
  const ManifestValues& v = *r.values;
  EXPECT_EQ(v.ns, "meshdns");
  EXPECT_EQ(v.node_port, 30053);
  EXPECT_EQ(v.cluster_ip, "");
  EXPECT_EQ(v.priority_class, "system-node-critical");
  ASSERT_EQ(v.tolerations.size(), 1u);
  EXPECT_EQ(v.tolerations[0].op, "Exists");
  EXPECT_EQ(v.tolerations[0].key, "");
  EXPECT_EQ(v.lameduck, 5000);
  EXPECT_EQ(v.pre_stop_sleep, 2000);
  EXPECT_FALSE(v.monitoring.pod_monitor || v.monitoring.rules || v.monitoring.dashboard);
  EXPECT_EQ(v.mesh_text, kMesh) << "without acl values the mesh file is embedded as it is";
  EXPECT_EQ(v.DnsPort(), 5353);
  EXPECT_EQ(v.MetricsPort(), 9153);
  EXPECT_EQ(v.HealthPort(), 8080);
  EXPECT_EQ(v.ReadyPort(), 8181);
  // preStop 2s + lameduck 5s + forward timeout 3s, plus the margin.
  EXPECT_EQ(v.TerminationGracePeriodSeconds(), 10 + ManifestValues::kGraceMarginSeconds);
}

TEST_F(ManifestValuesTest, ReadsEveryKey) {
  ManifestValuesLoad r = Load(R"(cluster: c1
namespace: dns-mesh
image: registry.example.com:5000/meshdns@sha256:0123
imagePullPolicy: Always
imagePullSecrets: [regcred]
mesh: mesh.yaml
service: {clusterIP: "fd00::53", nodePort: 31053}
resources: {requests: {cpu: 250m}, limits: {memory: 1Gi, cpu: "1"}}
priorityClassName: ""
tolerations: [{key: dedicated, operator: Equal, value: dns, effect: NoExecute, tolerationSeconds: 30}]
nodeSelector: {pool: dns}
lameduck: 1500ms
preStopSleep: 3s
monitoring: {podMonitor: true, rules: true, dashboard: true, labels: {release: prom}}
)");
  ASSERT_TRUE(r.values) << r.errors[0].ToString();
  const ManifestValues& v = *r.values;
  EXPECT_EQ(v.ns, "dns-mesh");
  EXPECT_EQ(v.image, "registry.example.com:5000/meshdns@sha256:0123");
  EXPECT_EQ(v.image_pull_policy, "Always");
  EXPECT_EQ(v.image_pull_secrets, std::vector<std::string>{"regcred"});
  EXPECT_EQ(v.cluster_ip, "fd00::53");
  EXPECT_EQ(v.node_port, 31053);
  EXPECT_EQ(v.requests, (std::map<std::string, std::string>{{"cpu", "250m"}}));
  EXPECT_EQ(v.limits, (std::map<std::string, std::string>{{"cpu", "1"}, {"memory", "1Gi"}}));
  EXPECT_EQ(v.priority_class, "");
  ASSERT_EQ(v.tolerations.size(), 1u);
  EXPECT_EQ(v.tolerations[0].key, "dedicated");
  EXPECT_EQ(v.tolerations[0].op, "Equal");
  EXPECT_EQ(v.tolerations[0].value, "dns");
  EXPECT_EQ(v.tolerations[0].effect, "NoExecute");
  EXPECT_EQ(v.tolerations[0].seconds, 30);
  EXPECT_EQ(v.node_selector, (std::map<std::string, std::string>{{"pool", "dns"}}));
  EXPECT_EQ(v.lameduck, 1500);
  EXPECT_EQ(v.pre_stop_sleep, 3000);
  EXPECT_TRUE(v.monitoring.pod_monitor && v.monitoring.rules && v.monitoring.dashboard);
  EXPECT_EQ(v.monitoring.labels, (std::map<std::string, std::string>{{"release", "prom"}}));
  // 3s + 1.5s + 3s rounds up to 8s.
  EXPECT_EQ(v.TerminationGracePeriodSeconds(), 8 + ManifestValues::kGraceMarginSeconds);
}

TEST_F(ManifestValuesTest, AclValuesReplaceTheMeshFilesListsAndKeepItsComments) {
  ManifestValuesLoad r = Load("cluster: c1\nimage: m:1\nmesh: mesh.yaml\nacl: {allow: [\"100.64.0.0/10\"]}\n");
  ASSERT_TRUE(r.values) << r.errors[0].ToString();
  const ManifestValues& v = *r.values;
  EXPECT_TRUE(absl::StartsWith(v.mesh_text, "# a mesh file with a comment that must survive\n")) << v.mesh_text;
  EXPECT_TRUE(absl::StrContains(v.mesh_text, "  allow: [\"100.64.0.0/10\"]\n  deny: [\"10.9.0.0/16\"]\n"))
      << "the values' allow, the mesh file's deny:\n" << v.mesh_text;
  EXPECT_FALSE(absl::StrContains(v.mesh_text, "\"10.0.0.0/8\""));
  EXPECT_TRUE(absl::StrContains(v.mesh_text, "forward: {timeout: 3s}\n"));
  ASSERT_EQ(v.mesh.acl_allow.size(), 1u);
  EXPECT_EQ(v.mesh.acl_deny.size(), 1u);
  EXPECT_EQ(v.mesh.forward.timeout, 3000);
}

TEST_F(ManifestValuesTest, AclValuesAreAddedToAMeshFileWithoutAcl) {
  Write("plain.yaml", "cluster: c1\nlisten: ['0.0.0.0:53']\nclusters: {c1: {resolvers: ['10.0.0.1']}}\n"
                      "health: '0.0.0.0:8080'\nready: '0.0.0.0:8181'\n");
  ManifestValuesLoad r = Load("cluster: c1\nimage: m:1\nmesh: plain.yaml\nacl: {deny: [\"10.1.0.0/16\"]}\n");
  ASSERT_TRUE(r.values) << r.errors[0].ToString();
  EXPECT_EQ(r.values->mesh.acl_deny.size(), 1u);
  EXPECT_EQ(r.values->mesh.acl_allow.size(), 6u) << "the default allow list stays";
}

TEST_F(ManifestValuesTest, EachMistakeIsReportedAtItsPosition) {
  const std::string ok = "cluster: c1\nimage: m:1\nmesh: mesh.yaml\n";
  const std::string file = (dir_ / "values.yaml").string();
  EXPECT_EQ(OnlyError(ok + "imagePullPolcy: Always\n"),
            file + ":4:1: unknown key 'imagePullPolcy' in the values (known: acl, cluster, image, imagePullPolicy, "
                   "imagePullSecrets, lameduck, mesh, monitoring, namespace, nodeSelector, preStopSleep, "
                   "priorityClassName, resources, service, tolerations)");
  EXPECT_EQ(OnlyError(ok + "service:\n  clusterIP: 10.96.0.300\n"),
            file + ":5:14: service.clusterIP: '10.96.0.300' is not an IPv4 or IPv6 address (leave it empty for the "
                   "API server to pick one)");
  EXPECT_EQ(OnlyError(ok + "service: {nodePort: 53}\n"),
            file + ":4:21: service.nodePort: 53 is outside the NodePort range 30000-32767");
  EXPECT_EQ(OnlyError("cluster: c1\nmesh: mesh.yaml\n"),
            file + ":1:1: missing required key 'image' (repository:tag)");
  EXPECT_EQ(OnlyError("cluster: c1\nimage: meshdns\nmesh: mesh.yaml\n"),
            file + ":2:8: image: 'meshdns' is not repository:tag or repository@digest");
  EXPECT_EQ(OnlyError("cluster: c1\nimage: reg:5000/meshdns\nmesh: mesh.yaml\n"),
            file + ":2:8: image: 'reg:5000/meshdns' is not repository:tag or repository@digest");
  EXPECT_EQ(OnlyError(ok + "acl: {allow: [\"10.0.0.0/33\"]}\n"), file + ":4:15: acl.allow: bad prefix length in '10.0.0.0/33'");
  EXPECT_EQ(OnlyError(ok + "tolerations: [{operator: Exists, value: x}]\n"),
            file + ":4:15: a toleration with operator Exists has no value");
  EXPECT_EQ(OnlyError(ok + "resources: {limits: {memory: lots}}\n"),
            file + ":4:30: resources.limits.memory: 'lots' is not a quantity like 100m or 64Mi");
  EXPECT_EQ(OnlyError(ok + "lameduck: soon\n"), file + ":4:11: lameduck: 'soon' is not a duration like 500ms, 2s or 1m");
  EXPECT_EQ(OnlyError("cluster: c2\nimage: m:1\nmesh: mesh.yaml\n"),
            file + ":1:10: cluster: 'c2' but " + (dir_ / "mesh.yaml").string() + " is for 'c1'");
}

TEST_F(ManifestValuesTest, TheMeshFileIsCheckedAsMeshdnsCheckDoes) {
  Write("bad.yaml", "cluster: c1\nclusters: {c1: {resolvers: ['10.0.0.1']}}\nforward: {polcy: random}\n");
  ManifestValuesLoad r = Load("cluster: c1\nimage: m:1\nmesh: bad.yaml\n");
  ASSERT_FALSE(r.values);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(r.errors[0].ToString(), (dir_ / "bad.yaml").string() + ":3:11: unknown key 'polcy'"))
      << r.errors[0].ToString();
  EXPECT_EQ(r.errors[1].line, 3);

  const std::string missing = (dir_ / "missing.yaml").string();
  EXPECT_TRUE(absl::StrContains(OnlyError("cluster: c1\nimage: m:1\nmesh: missing.yaml\n"), "cannot read " + missing));
}

TEST_F(ManifestValuesTest, RefusesAMeshFileThePodCannotBeProbedOrScrapedOn) {
  Write("noprobe.yaml", "cluster: c1\nlisten: ['0.0.0.0:53']\nclusters: {c1: {resolvers: ['10.0.0.1']}}\n"
                        "ready: '0.0.0.0:8181'\n");
  EXPECT_TRUE(absl::StrContains(OnlyError("cluster: c1\nimage: m:1\nmesh: noprobe.yaml\n"),
                                "sets no 'health' address; the pod's liveness probe needs it"));
  Write("noscrape.yaml", "cluster: c1\nlisten: ['0.0.0.0:53']\nclusters: {c1: {resolvers: ['10.0.0.1']}}\n"
                         "health: '0.0.0.0:8080'\nready: '0.0.0.0:8181'\n");
  EXPECT_TRUE(absl::StrContains(
      OnlyError("cluster: c1\nimage: m:1\nmesh: noscrape.yaml\nmonitoring: {podMonitor: true}\n"),
      ":4:26: monitoring.podMonitor: "));
  Write("loopback.yaml", "cluster: c1\nlisten: ['127.0.0.1:53']\nclusters: {c1: {resolvers: ['10.0.0.1']}}\n"
                         "health: '0.0.0.0:8080'\nready: '0.0.0.0:8181'\n");
  EXPECT_TRUE(absl::StrContains(OnlyError("cluster: c1\nimage: m:1\nmesh: loopback.yaml\n"),
                                "listen is 127.0.0.1:53, which nothing outside the pod reaches"));
  Write("loopready.yaml", "cluster: c1\nlisten: ['0.0.0.0:53']\nclusters: {c1: {resolvers: ['10.0.0.1']}}\n"
                          "health: '0.0.0.0:8080'\nready: '127.0.0.1:8181'\n");
  EXPECT_TRUE(absl::StrContains(OnlyError("cluster: c1\nimage: m:1\nmesh: loopready.yaml\n"),
                                "ready is 127.0.0.1:8181, which nothing outside the pod reaches"))
      << "the kubelet probes the pod's own address";
}

}  // namespace
}  // namespace meshdns
