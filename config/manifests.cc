// Builds the objects of `meshdns manifests` as YAML trees.
#include "config/manifests.h"

#include <optional>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "config/monitoring_bundle.h"
#include "config/yaml_emit.h"

namespace meshdns {
namespace {

constexpr char kName[] = "meshdns";
constexpr char kConfigMap[] = "meshdns-config";

YAML::Node Labels(const ManifestValues& v) {
  YAML::Node l;
  l["app.kubernetes.io/name"] = Str(kName);
  l["app.kubernetes.io/instance"] = Str(v.cluster);
  return l;
}

YAML::Node Selector() {
  YAML::Node s;
  s["app.kubernetes.io/name"] = Str(kName);
  return s;
}

YAML::Node StringMap(const std::map<std::string, std::string>& m) {
  YAML::Node n(YAML::NodeType::Map);
  for (const auto& [k, value] : m) n[k] = Str(value);
  return n;
}

YAML::Node Object(const ManifestValues& v, const char* api_version, const char* kind, const std::string& name,
                  bool namespaced = true) {
  YAML::Node o;
  o["apiVersion"] = Str(api_version);
  o["kind"] = Str(kind);
  o["metadata"]["name"] = Str(name);
  if (namespaced) o["metadata"]["namespace"] = Str(v.ns);
  o["metadata"]["labels"] = Labels(v);
  return o;
}

// "5s" for whole seconds, "1500ms" otherwise: both read back by ParseDuration.
std::string DurationFlag(Millis ms) { return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms"); }

// sleep(1) takes fractions.
std::string SleepSeconds(Millis ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000) : absl::StrCat(ms / 1000, ".", absl::Dec(ms % 1000, absl::kZeroPad3));
}

YAML::Node Port(const char* name, uint16_t port, const char* protocol) {
  YAML::Node p;
  p["name"] = Str(name);
  p["containerPort"] = port;
  p["protocol"] = Str(protocol);
  return p;
}

YAML::Node Probe(const char* path, uint16_t port, int period, int timeout, int failures) {
  YAML::Node p;
  p["httpGet"]["path"] = Str(path);
  p["httpGet"]["port"] = port;
  p["periodSeconds"] = period;
  p["timeoutSeconds"] = timeout;
  p["failureThreshold"] = failures;
  return p;
}

YAML::Node Container(const ManifestValues& v) {
  YAML::Node c;
  c["name"] = Str(kName);
  c["image"] = Str(v.image);
  c["imagePullPolicy"] = Str(v.image_pull_policy);
  c["args"].push_back(Str("serve"));
  c["args"].push_back(Str("--config"));
  c["args"].push_back(Str(absl::StrCat(kConfigMountPath, "/mesh.yaml")));
  c["args"].push_back(Str("--lameduck"));
  c["args"].push_back(Str(DurationFlag(v.lameduck)));
  YAML::Node env;
  env["name"] = Str("MESHDNS_CLUSTER");
  env["value"] = Str(v.cluster);
  c["env"].push_back(env);
  // One entry per port: health and ready may share one, and a port listed
  // twice is refused. The metrics port is named, for the PodMonitor.
  c["ports"].push_back(Port("dns-udp", v.DnsPort(), "UDP"));
  c["ports"].push_back(Port("dns-tcp", v.DnsPort(), "TCP"));
  std::vector<uint16_t> http;
  auto add = [&](const char* name, uint16_t port) {
    if (port == v.DnsPort() || absl::c_linear_search(http, port)) return;
    http.push_back(port);
    c["ports"].push_back(Port(name, port, "TCP"));
  };
  if (v.MetricsPort()) add("metrics", *v.MetricsPort());
  add("health", v.HealthPort());
  add("ready", v.ReadyPort());
  // Liveness gives a busy process time (5 x 10s); readiness reacts within
  // seconds, as it follows the local kube-dns.
  YAML::Node liveness = Probe("/health", v.HealthPort(), 10, 5, 5);
  liveness["initialDelaySeconds"] = 5;
  c["livenessProbe"] = liveness;
  c["readinessProbe"] = Probe("/ready", v.ReadyPort(), 5, 2, 3);
  // The endpoint controllers and kube-proxy need a moment to stop sending
  // traffic here; SIGTERM only comes after the hook, and lameduck covers the rest.
  YAML::Node sleep;
  sleep.push_back(Str("/bin/sleep"));
  sleep.push_back(Str(SleepSeconds(v.pre_stop_sleep)));
  c["lifecycle"]["preStop"]["exec"]["command"] = sleep;
  c["resources"]["requests"] = StringMap(v.requests);
  c["resources"]["limits"] = StringMap(v.limits);
  // No capability at all: meshdns listens on an unprivileged port in the pod.
  YAML::Node sc;
  sc["allowPrivilegeEscalation"] = false;
  sc["readOnlyRootFilesystem"] = true;
  sc["capabilities"]["drop"].push_back(Str("ALL"));
  c["securityContext"] = sc;
  YAML::Node mount;
  mount["name"] = Str("config");
  mount["mountPath"] = Str(kConfigMountPath);
  mount["readOnly"] = true;
  c["volumeMounts"].push_back(mount);
  return c;
}

YAML::Node DaemonSet(const ManifestValues& v) {
  YAML::Node ds = Object(v, "apps/v1", "DaemonSet", kName);
  ds["spec"]["selector"]["matchLabels"] = Selector();
  // A new pod starts next to the old one before it goes (the NodePort and
  // ClusterIP reach pods, not host ports, so both fit on a node): no node is
  // ever without meshdns during a rollout.
  ds["spec"]["updateStrategy"]["type"] = Str("RollingUpdate");
  ds["spec"]["updateStrategy"]["rollingUpdate"]["maxSurge"] = 1;
  ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 0;
  YAML::Node pod;
  pod["metadata"]["labels"] = Labels(v);
  YAML::Node spec;
  spec["serviceAccountName"] = Str(kName);
  spec["automountServiceAccountToken"] = false;
  spec["terminationGracePeriodSeconds"] = v.TerminationGracePeriodSeconds();
  if (!v.priority_class.empty()) spec["priorityClassName"] = Str(v.priority_class);
  if (!v.node_selector.empty()) spec["nodeSelector"] = StringMap(v.node_selector);
  spec["tolerations"] = YAML::Node(YAML::NodeType::Sequence);
  for (const Toleration& t : v.tolerations) {
    YAML::Node n;
    if (!t.key.empty()) n["key"] = Str(t.key);
    n["operator"] = Str(t.op);
    if (!t.value.empty()) n["value"] = Str(t.value);
    if (!t.effect.empty()) n["effect"] = Str(t.effect);
    if (t.seconds) n["tolerationSeconds"] = *t.seconds;
    spec["tolerations"].push_back(n);
  }
  for (const std::string& secret : v.image_pull_secrets) {
    YAML::Node s;
    s["name"] = Str(secret);
    spec["imagePullSecrets"].push_back(s);
  }
  spec["securityContext"]["runAsNonRoot"] = true;
  spec["securityContext"]["runAsUser"] = 65532;  // the image's user (deploy/Dockerfile)
  spec["securityContext"]["runAsGroup"] = 65532;
  spec["securityContext"]["seccompProfile"]["type"] = Str("RuntimeDefault");
  spec["containers"].push_back(Container(v));
  YAML::Node volume;
  volume["name"] = Str("config");
  volume["configMap"]["name"] = Str(kConfigMap);
  spec["volumes"].push_back(volume);
  pod["spec"] = spec;
  ds["spec"]["template"] = pod;
  return ds;
}

YAML::Node ServicePort(const char* name, int port, uint16_t target, const char* protocol, std::optional<uint16_t> node) {
  YAML::Node p;
  p["name"] = Str(name);
  p["port"] = port;
  p["targetPort"] = target;
  if (node) p["nodePort"] = *node;
  p["protocol"] = Str(protocol);
  return p;
}

// What the peers' meshdns list as this cluster's resolvers: <node IP>:nodePort.
// Local traffic policy: a node answers with its own meshdns pod only, and the
// client's address reaches meshdns unchanged for its ACL.
YAML::Node NodePortService(const ManifestValues& v) {
  YAML::Node s = Object(v, "v1", "Service", "meshdns-nodeport");
  s["spec"]["type"] = Str("NodePort");
  s["spec"]["externalTrafficPolicy"] = Str("Local");
  s["spec"]["selector"] = Selector();
  s["spec"]["ports"].push_back(ServicePort("dns-udp", 53, v.DnsPort(), "UDP", v.node_port));
  s["spec"]["ports"].push_back(ServicePort("dns-tcp", 53, v.DnsPort(), "TCP", v.node_port));
  return s;
}

// Where this cluster's CoreDNS forwards the mesh's names (`meshdns corefile --to`).
YAML::Node ClusterIpService(const ManifestValues& v) {
  YAML::Node s = Object(v, "v1", "Service", kName);
  s["spec"]["type"] = Str("ClusterIP");
  if (!v.cluster_ip.empty()) s["spec"]["clusterIP"] = Str(v.cluster_ip);
  s["spec"]["selector"] = Selector();
  s["spec"]["ports"].push_back(ServicePort("dns-udp", 53, v.DnsPort(), "UDP", std::nullopt));
  s["spec"]["ports"].push_back(ServicePort("dns-tcp", 53, v.DnsPort(), "TCP", std::nullopt));
  return s;
}

std::vector<YAML::Node> MonitoringObjects(const ManifestValues& v) {
  std::vector<YAML::Node> out;
  auto with_labels = [&](YAML::Node o) {
    for (const auto& [k, value] : v.monitoring.labels) o["metadata"]["labels"][k] = Str(value);
    return o;
  };
  if (v.monitoring.pod_monitor) {
    YAML::Node pm = with_labels(Object(v, "monitoring.coreos.com/v1", "PodMonitor", kName));
    pm["spec"]["selector"]["matchLabels"] = Selector();
    YAML::Node endpoint;
    endpoint["port"] = Str("metrics");
    endpoint["path"] = Str("/metrics");
    pm["spec"]["podMetricsEndpoints"].push_back(endpoint);
    out.push_back(pm);
  }
  if (v.monitoring.rules) {
    YAML::Node rule = with_labels(Object(v, "monitoring.coreos.com/v1", "PrometheusRule", kName));
    rule["spec"]["groups"] = YAML::Load(std::string(kAlertRules))["groups"];
    out.push_back(rule);
  }
  if (v.monitoring.dashboard) {
    // Grafana's dashboard sidecar (kube-prometheus-stack's default) loads
    // ConfigMaps with this label.
    YAML::Node cm = Object(v, "v1", "ConfigMap", "meshdns-dashboard");
    cm["metadata"]["labels"]["grafana_dashboard"] = Str("1");
    cm["data"]["meshdns.json"] = Str(kDashboardJson);
    out.push_back(cm);
  }
  return out;
}

}  // namespace

std::vector<YAML::Node> ManifestObjects(const ManifestValues& v) {
  std::vector<YAML::Node> out;
  YAML::Node ns = Object(v, "v1", "Namespace", v.ns, /*namespaced=*/false);
  ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = Str("restricted");
  out.push_back(ns);

  // meshdns never talks to the Kubernetes API.
  YAML::Node sa = Object(v, "v1", "ServiceAccount", kName);
  sa["automountServiceAccountToken"] = false;
  out.push_back(sa);

  // A fixed name, not a content hash: meshdns reloads the mounted file when
  // the kubelet swaps it, so a change of the mesh needs no pod restart.
  YAML::Node cm = Object(v, "v1", "ConfigMap", kConfigMap);
  cm["data"]["mesh.yaml"] = Str(v.mesh_text);
  out.push_back(cm);

  out.push_back(DaemonSet(v));
  out.push_back(NodePortService(v));
  out.push_back(ClusterIpService(v));

  // Evictions (node drains) take one node's meshdns at a time.
  YAML::Node pdb = Object(v, "policy/v1", "PodDisruptionBudget", kName);
  pdb["spec"]["maxUnavailable"] = 1;
  pdb["spec"]["selector"]["matchLabels"] = Selector();
  out.push_back(pdb);

  for (YAML::Node& o : MonitoringObjects(v)) out.push_back(o);
  return out;
}

std::string RenderManifests(const ManifestValues& v) { return EmitDocuments(ManifestObjects(v)); }

}  // namespace meshdns
