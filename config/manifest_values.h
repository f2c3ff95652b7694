// The values file of `meshdns manifests`: what differs between one cluster's
// install and another's (image, service range, ACL, scheduling, monitoring),
// read and checked as a whole like the mesh file, every problem with its
// FILE:LINE:COL. The mesh file it names is loaded and checked here too, so
// the generator renders only what `meshdns check` accepts. Value types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace meshdns {

struct Toleration {
  std::string key, op = "Exists", value, effect;  // op: Exists | Equal
  std::optional<int64_t> seconds;                 // tolerationSeconds, NoExecute only
};

struct ManifestValues {
  std::string file;  // the values file, for messages
  std::string cluster;
  std::string ns = "meshdns";
  std::string image;  // repository:tag or repository@sha256:…
  std::string image_pull_policy = "IfNotPresent";
  std::vector<std::string> image_pull_secrets;

  std::string mesh_path;  // as resolved against the values file's folder
  std::string mesh_text;  // the ConfigMap's mesh.yaml: the file, with the values' acl if given
  Config mesh;            // mesh_text as meshdns loads it

  std::string cluster_ip;  // empty: the API server picks one
  uint16_t node_port = 30053;

  // Kubernetes quantities by resource name ("cpu" -> "100m").
  std::map<std::string, std::string> requests{{"cpu", "100m"}, {"memory", "64Mi"}};
  std::map<std::string, std::string> limits{{"memory", "256Mi"}};
  // DNS is what every other pod needs first, so meshdns is scheduled and kept
  // before them; NodeLocal DNSCache runs at the same class.
  std::string priority_class = "system-node-critical";
  // Every taint: a node without a meshdns pod drops the queries its
  // NodePort gets (externalTrafficPolicy: Local).
  std::vector<Toleration> tolerations{Toleration{}};
  std::map<std::string, std::string> node_selector{{"kubernetes.io/os", "linux"}};

  Millis lameduck = 5000;       // serve --lameduck: keep answering after SIGTERM
  Millis pre_stop_sleep = 2000;  // preStop: let endpoint removal spread first

  struct Monitoring {
    bool pod_monitor = false, rules = false, dashboard = false;
    std::map<std::string, std::string> labels;  // on the PodMonitor and PrometheusRule
  } monitoring;

  // Ports of the mesh file's listen, metrics, health and ready addresses.
  uint16_t DnsPort() const;
  std::optional<uint16_t> MetricsPort() const;
  uint16_t HealthPort() const;
  uint16_t ReadyPort() const;
  // preStop sleep + lameduck + one forward timeout for what is in flight,
  // plus kGraceMarginSeconds, rounded up to whole seconds.
  int64_t TerminationGracePeriodSeconds() const;
  static constexpr int64_t kGraceMarginSeconds = 2;  // process exit and the kubelet's own signalling
};

struct ManifestValuesLoad {
  std::optional<ManifestValues> values;
  std::vector<ConfigError> errors;  // the values file's, then the mesh file's
};

ManifestValuesLoad LoadManifestValuesFile(const std::string& path);
ManifestValuesLoad LoadManifestValuesText(absl::string_view yaml, const std::string& file_name);

}  // namespace meshdns
