// `meshdns manifests`: the objects carry what the values and the mesh file say.
#include "config/manifests.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

constexpr char kMesh[] = R"(cluster: c1
listen: ["0.0.0.0:5353"]
clusters:
  c1: {resolvers: ["10.96.0.10:53"]}
forward: {timeout: 2s}
metrics: "0.0.0.0:9153"
health: "0.0.0.0:8080"
ready: "0.0.0.0:8080"
)";

class ManifestsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("manifests_test_", getpid());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "mesh.yaml") << kMesh;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The rendered stream, parsed back.
  std::vector<YAML::Node> Render(const std::string& extra) {
    ManifestValuesLoad r = LoadManifestValuesText("cluster: c1\nimage: meshdns:1.2.3\nmesh: mesh.yaml\n" + extra,
                                                  (dir_ / "values.yaml").string());
    EXPECT_TRUE(r.values) << (r.errors.empty() ? "" : r.errors[0].ToString());
    if (!r.values) return {};
    text_ = RenderManifests(*r.values);
    return YAML::LoadAll(text_);
  }

  static YAML::Node Find(const std::vector<YAML::Node>& objects, const std::string& kind, const std::string& name) {
    for (const YAML::Node& o : objects) {
      if (o["kind"].Scalar() == kind && o["metadata"]["name"].Scalar() == name) return o;
    }
    ADD_FAILURE() << "no " << kind << " " << name;
    return YAML::Node();
  }

  std::filesystem::path dir_;
  std::string text_;
};

TEST_F(ManifestsTest, ObjectsInApplyOrderInTheValuesNamespace) {
  std::vector<YAML::Node> objects = Render("namespace: dns\n");
  std::vector<std::string> kinds;
  for (const YAML::Node& o : objects) {
    kinds.push_back(o["kind"].Scalar());
    if (kinds.back() != "Namespace") EXPECT_EQ(o["metadata"]["namespace"].Scalar(), "dns");
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service",
                                             "Service", "PodDisruptionBudget"}));
  EXPECT_EQ(objects[0]["metadata"]["name"].Scalar(), "dns");
  EXPECT_EQ(objects[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"].Scalar(), "restricted");
  EXPECT_FALSE(objects[1]["automountServiceAccountToken"].as<bool>());
}

TEST_F(ManifestsTest, TheDaemonSetRunsWhatTheValuesSay) {
  std::vector<YAML::Node> objects = Render("lameduck: 7s\npreStopSleep: 1500ms\n"
                                           "tolerations: [{key: dedicated, operator: Equal, value: dns}]\n"
                                           "resources: {limits: {memory: 128Mi}}\n");
  const YAML::Node ds = Find(objects, "DaemonSet", "meshdns");
  const YAML::Node pod = ds["spec"]["template"]["spec"];
  const YAML::Node c = pod["containers"][0];
  EXPECT_EQ(c["image"].Scalar(), "meshdns:1.2.3");
  EXPECT_EQ(c["args"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"serve", "--config", "/etc/meshdns/mesh.yaml", "--lameduck", "7s"}));
  EXPECT_EQ(c["env"][0]["name"].Scalar(), "MESHDNS_CLUSTER");
  EXPECT_EQ(c["env"][0]["value"].Scalar(), "c1");
  EXPECT_EQ(c["lifecycle"]["preStop"]["exec"]["command"].as<std::vector<std::string>>(),
            (std::vector<std::string>{"/bin/sleep", "1.500"}));
  // 1.5s + 7s + 2s rounds up to 11s, plus the margin.
  EXPECT_EQ(pod["terminationGracePeriodSeconds"].as<int>(), 11 + ManifestValues::kGraceMarginSeconds);
  EXPECT_EQ(pod["priorityClassName"].Scalar(), "system-node-critical");
  EXPECT_EQ(pod["tolerations"].size(), 1u);
  EXPECT_EQ(pod["tolerations"][0]["key"].Scalar(), "dedicated");
  EXPECT_EQ(pod["tolerations"][0]["operator"].Scalar(), "Equal");
  EXPECT_EQ(ds["spec"]["updateStrategy"]["rollingUpdate"]["maxSurge"].as<int>(), 1);
  EXPECT_EQ(ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"].as<int>(), 0);
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].Scalar(), "/health");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"].as<int>(), 8080);
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].Scalar(), "/ready");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<int>(), 8080);
  // health and ready share 8080: one port entry for it.
  std::vector<std::string> ports;
  for (const YAML::Node& p : c["ports"]) ports.push_back(absl::StrCat(p["name"].Scalar(), "/", p["containerPort"].Scalar()));
  EXPECT_EQ(ports, (std::vector<std::string>{"dns-udp/5353", "dns-tcp/5353", "metrics/9153", "health/8080"}));
  EXPECT_EQ(c["resources"]["limits"]["memory"].Scalar(), "128Mi");
  EXPECT_EQ(c["resources"]["requests"]["cpu"].Scalar(), "100m") << "requests keep their default";
  EXPECT_EQ(pod["volumes"][0]["configMap"]["name"].Scalar(), Find(objects, "ConfigMap", "meshdns-config")["metadata"]["name"].Scalar());
}

TEST_F(ManifestsTest, ServicesAndTheEmbeddedMeshFile) {
  std::vector<YAML::Node> objects = Render("service: {clusterIP: 10.233.0.53, nodePort: 30100}\n");
  const YAML::Node node_port = Find(objects, "Service", "meshdns-nodeport")["spec"];
  EXPECT_EQ(node_port["type"].Scalar(), "NodePort");
  EXPECT_EQ(node_port["externalTrafficPolicy"].Scalar(), "Local");
  for (const YAML::Node& p : node_port["ports"]) {
    EXPECT_EQ(p["nodePort"].as<int>(), 30100);
    EXPECT_EQ(p["targetPort"].as<int>(), 5353);
  }
  const YAML::Node cluster_ip = Find(objects, "Service", "meshdns")["spec"];
  EXPECT_EQ(cluster_ip["clusterIP"].Scalar(), "10.233.0.53");
  EXPECT_EQ(cluster_ip["clusterIP"].Tag(), "!") << "quoted: a string, whatever a YAML parser makes of it";
  EXPECT_EQ(Find(objects, "ConfigMap", "meshdns-config")["data"]["mesh.yaml"].Scalar(), kMesh);
  // Without a pinned address the API server picks one.
  objects = Render("");
  EXPECT_FALSE(Find(objects, "Service", "meshdns")["spec"]["clusterIP"]);
}

TEST_F(ManifestsTest, MonitoringObjectsOnlyWhenAskedFor) {
  EXPECT_EQ(Render("").size(), 7u);
  std::vector<YAML::Node> objects =
      Render("monitoring: {podMonitor: true, rules: true, dashboard: true, labels: {release: prom}}\n");
  ASSERT_EQ(objects.size(), 10u);
  const YAML::Node pm = Find(objects, "PodMonitor", "meshdns");
  EXPECT_EQ(pm["apiVersion"].Scalar(), "monitoring.coreos.com/v1");
  EXPECT_EQ(pm["metadata"]["labels"]["release"].Scalar(), "prom");
  EXPECT_EQ(pm["spec"]["podMetricsEndpoints"][0]["port"].Scalar(), "metrics");
  const YAML::Node rule = Find(objects, "PrometheusRule", "meshdns");
  EXPECT_EQ(rule["metadata"]["labels"]["release"].Scalar(), "prom");

  std::ifstream rules_file(MESHDNS_MONITORING_DIR "/meshdns-rules.yaml");
  EXPECT_EQ(YAML::Dump(rule["spec"]["groups"]), YAML::Dump(YAML::Load(rules_file)["groups"]))
      << "the rule file as built in";
  const YAML::Node dashboard = Find(objects, "ConfigMap", "meshdns-dashboard");
  EXPECT_TRUE(absl::StrContains(text_, "grafana_dashboard: \"1\"")) << "a label value is a string";
  std::stringstream json;
  json << std::ifstream(MESHDNS_MONITORING_DIR "/meshdns-dashboard.json").rdbuf();
  EXPECT_EQ(dashboard["data"]["meshdns.json"].Scalar(), json.str());
}

}  // namespace
}  // namespace meshdns
