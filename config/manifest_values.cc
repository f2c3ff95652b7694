// Reads the values file of `meshdns manifests` and the mesh file it names.
#include "config/manifest_values.h"

#include <arpa/inet.h>

#include <filesystem>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/yaml_reader.h"

namespace meshdns {
namespace {

// Kubernetes object names (RFC 1123 subdomains, lower case).
bool IsObjectName(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (!IsDnsLabel(label) || absl::AsciiStrToLower(label) != label) return false;
  }
  return true;
}

// A Kubernetes resource quantity as requests and limits are written in
// practice: a decimal number with an optional SI or binary suffix.
bool IsQuantity(absl::string_view s) {
  size_t i = 0;
  while (i < s.size() && (absl::ascii_isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0 || absl::StrContains(s.substr(0, i), "..") || s[0] == '.' || s[i - 1] == '.') return false;
  const absl::string_view suffix = s.substr(i);
  for (const char* ok : {"", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}) {
    if (suffix == ok) return true;
  }
  return false;
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsLoopback(const SocketAddress& a) {
  if (!a.v6) return a.ip.bytes[12] == 127;  // v4 sits in the last four bytes
  std::array<uint8_t, 16> one{};
  one[15] = 1;
  return a.ip.bytes == one;
}

uint16_t PortOf(const std::string& address) { return SocketAddress::Parse(address)->port; }

class ValuesReader : public YamlReader {
 public:
  explicit ValuesReader(std::string file) : YamlReader(std::move(file)) {}

  ManifestValuesLoad Load(absl::string_view text) {
    ManifestValuesLoad result;
    ManifestValues v;
    v.file = file_;
    ReadMapping(text, "the values", [&](const YAML::Node& root) {
      ReadTop(root, v);
      // The mesh file is read only once the values are sound: its path and
      // the ACL that replaces its own come from them.
      if (errors_.empty()) ReadMesh(root, v);
    });
    result.errors = TakeErrors();
    if (result.errors.empty()) result.values = std::move(v);
    return result;
  }

 private:
  std::string Name(const YAML::Node& n, absl::string_view what) {
    std::string s;
    if (Scalar(n, what, s) && !IsObjectName(s)) {
      Error(n, absl::StrCat(what, ": '", s, "' is not a Kubernetes name (lower-case letters, digits, '-', '.')"));
    }
    return s;
  }

  std::map<std::string, std::string> StringMap(const YAML::Node& n, absl::string_view what) {
    std::map<std::string, std::string> out;
    if (!n.IsMap()) {
      Error(n, absl::StrCat(what, " must be a mapping"));
      return out;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string key, value;
      if (Scalar(it->first, what, key) && Scalar(it->second, absl::StrCat(what, ".", key), value)) {
        if (!out.emplace(key, value).second) Error(it->first, absl::StrCat("duplicate key '", key, "' in ", what));
      }
    }
    return out;
  }

  std::vector<std::string> CidrList(const YAML::Node& n, absl::string_view what) {
    std::vector<std::string> out;
    if (!n.IsSequence()) {
      Error(n, absl::StrCat(what, " must be a list"));
      return out;
    }
    for (const auto& item : n) {
      std::string s;
      if (!Scalar(item, what, s)) continue;
      if (absl::StatusOr<Cidr> c = Cidr::Parse(s); !c.ok()) Error(item, absl::StrCat(what, ": ", c.status().message()));
      out.push_back(s);
    }
    return out;
  }

  void ReadTop(const YAML::Node& root, ManifestValues& v) {
    ForEachKey(root,
               {"cluster", "namespace", "image", "imagePullPolicy", "imagePullSecrets", "mesh", "service", "acl",
                "resources", "priorityClassName", "tolerations", "nodeSelector", "lameduck", "preStopSleep",
                "monitoring"},
               "the values", [&](const std::string& key, const YAML::Node& n) {
      if (key == "cluster") {
        cluster_node_ = n;
        if (Scalar(n, key, v.cluster) && !IsDnsLabel(v.cluster)) {
          Error(n, absl::StrCat("cluster: '", v.cluster, "' is not a DNS label"));
        }
      } else if (key == "namespace") {
        v.ns = Name(n, key);
        if (!v.ns.empty() && !IsDnsLabel(v.ns)) Error(n, "namespace: a namespace is one DNS label");
        // The install creates its namespace and enforces the restricted pod
        // security level on it: on a namespace shared with other workloads
        // (kube-system's kube-proxy and CNI are privileged) that would refuse theirs.
        if (v.ns == "default" || absl::StartsWith(v.ns, "kube-")) {
          Error(n, absl::StrCat("namespace: ", v.ns, " is shared; meshdns needs one of its own (it labels it "
                                "pod-security restricted)"));
        }
      } else if (key == "image") {
        image_node_ = n;
        if (Scalar(n, key, v.image)) CheckImage(n, v.image);
      } else if (key == "imagePullPolicy") {
        if (Scalar(n, key, v.image_pull_policy) && v.image_pull_policy != "Always" &&
            v.image_pull_policy != "IfNotPresent" && v.image_pull_policy != "Never") {
          Error(n, absl::StrCat("imagePullPolicy: '", v.image_pull_policy, "' is not Always, IfNotPresent or Never"));
        }
      } else if (key == "imagePullSecrets") {
        if (!n.IsSequence()) return Error(n, "imagePullSecrets must be a list of Secret names");
        for (const auto& item : n) v.image_pull_secrets.push_back(Name(item, "imagePullSecrets"));
      } else if (key == "mesh") {
        mesh_node_ = n;
        Scalar(n, key, v.mesh_path);
      } else if (key == "service") {
        ReadService(n, v);
      } else if (key == "acl") {
        ForEachKey(n, {"allow", "deny"}, "acl", [&](const std::string& k, const YAML::Node& list) {
          (k == "allow" ? acl_allow_ : acl_deny_) = CidrList(list, "acl." + k);
        });
      } else if (key == "resources") {
        ReadResources(n, v);
      } else if (key == "priorityClassName") {
        // Empty: no priority class (some clusters restrict system-node-critical to kube-system).
        if (Scalar(n, key, v.priority_class) && !v.priority_class.empty()) v.priority_class = Name(n, key);
      } else if (key == "tolerations") {
        ReadTolerations(n, v);
      } else if (key == "nodeSelector") {
        v.node_selector = StringMap(n, key);
      } else if (key == "lameduck") {
        Duration(n, key, v.lameduck);
      } else if (key == "preStopSleep") {
        Duration(n, key, v.pre_stop_sleep);
      } else if (key == "monitoring") {
        ReadMonitoring(n, v.monitoring);
      }
    });
    if (!cluster_node_) Error(root, "missing required key 'cluster' (the mesh file's cluster)");
    if (!image_node_) Error(root, "missing required key 'image' (repository:tag)");
    if (!mesh_node_) Error(root, "missing required key 'mesh' (the mesh file, relative to this file)");
  }

  void CheckImage(const YAML::Node& n, const std::string& image) {
    const bool blank = image.empty() || absl::c_any_of(image, [](char c) { return absl::ascii_isspace(c); });
    // The tag is after the last '/', so a registry's ":5000" is not taken for one.
    const absl::string_view last = absl::string_view(image).substr(image.rfind('/') + 1);
    if (blank || (!absl::StrContains(last, ':') && !absl::StrContains(image, '@'))) {
      Error(n, absl::StrCat("image: '", image, "' is not repository:tag or repository@digest"));
    }
  }

  void ReadService(const YAML::Node& n, ManifestValues& v) {
    ForEachKey(n, {"clusterIP", "nodePort"}, "service", [&](const std::string& k, const YAML::Node& x) {
      if (k == "clusterIP") {
        if (Scalar(x, "service.clusterIP", v.cluster_ip) && !v.cluster_ip.empty() && !IsIpAddress(v.cluster_ip)) {
          Error(x, absl::StrCat("service.clusterIP: '", v.cluster_ip,
                                "' is not an IPv4 or IPv6 address (leave it empty for the API server to pick one)"));
        }
        return;
      }
      const size_t before = ErrorCount();
      uint32_t port = 0;
      Unsigned(x, "service.nodePort", port);
      // Kubernetes' default --service-node-port-range.
      if (ErrorCount() == before && (port < 30000 || port > 32767)) {
        Error(x, absl::StrCat("service.nodePort: ", port, " is outside the NodePort range 30000-32767"));
      } else if (ErrorCount() == before) {
        v.node_port = static_cast<uint16_t>(port);
      }
    });
  }

  void ReadResources(const YAML::Node& n, ManifestValues& v) {
    ForEachKey(n, {"requests", "limits"}, "resources", [&](const std::string& k, const YAML::Node& x) {
      const std::string where = "resources." + k;
      std::map<std::string, std::string> amounts;
      ForEachKey(x, {"cpu", "memory", "ephemeral-storage"}, where, [&](const std::string& r, const YAML::Node& q) {
        std::string s;
        if (!Scalar(q, where + "." + r, s)) return;
        if (!IsQuantity(s)) return Error(q, absl::StrCat(where, ".", r, ": '", s, "' is not a quantity like 100m or 64Mi"));
        amounts[r] = s;
      });
      (k == "requests" ? v.requests : v.limits) = std::move(amounts);
    });
  }

  void ReadTolerations(const YAML::Node& n, ManifestValues& v) {
    v.tolerations.clear();
    if (!n.IsSequence()) return Error(n, "tolerations must be a list (an empty one tolerates no taint)");
    for (const auto& item : n) {
      Toleration t;
      ForEachKey(item, {"key", "operator", "value", "effect", "tolerationSeconds"}, "a toleration",
                 [&](const std::string& k, const YAML::Node& x) {
        if (k == "key") Scalar(x, "toleration key", t.key);
        else if (k == "value") Scalar(x, "toleration value", t.value);
        else if (k == "operator") {
          if (Scalar(x, "toleration operator", t.op) && t.op != "Exists" && t.op != "Equal") {
            Error(x, absl::StrCat("toleration operator: '", t.op, "' is not Exists or Equal"));
          }
        } else if (k == "effect") {
          if (Scalar(x, "toleration effect", t.effect) && t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" &&
              t.effect != "NoExecute") {
            Error(x, absl::StrCat("toleration effect: '", t.effect, "' is not NoSchedule, PreferNoSchedule or NoExecute"));
          }
        } else {
          uint32_t s = 0;
          const size_t before = ErrorCount();
          Unsigned(x, "tolerationSeconds", s);
          if (ErrorCount() == before) t.seconds = s;
        }
      });
      if (!item.IsMap()) continue;
      // The API server's own rules for a toleration.
      if (t.op == "Exists" && !t.value.empty()) Error(item, "a toleration with operator Exists has no value");
      if (t.op == "Equal" && t.key.empty()) Error(item, "a toleration with operator Equal needs a key");
      if (t.seconds && t.effect != "NoExecute") Error(item, "tolerationSeconds needs effect NoExecute");
      v.tolerations.push_back(std::move(t));
    }
  }

  void ReadMonitoring(const YAML::Node& n, ManifestValues::Monitoring& m) {
    ForEachKey(n, {"podMonitor", "rules", "dashboard", "labels"}, "monitoring",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "podMonitor") {
        pod_monitor_node_ = x;
        Bool(x, "monitoring.podMonitor", m.pod_monitor);
      } else if (k == "rules") {
        Bool(x, "monitoring.rules", m.rules);
      } else if (k == "dashboard") {
        Bool(x, "monitoring.dashboard", m.dashboard);
      } else {
        m.labels = StringMap(x, "monitoring.labels");
      }
    });
  }

  // Loads the mesh file as `meshdns check` would, then again with the values'
  // ACL in place, and checks what the objects take from it.
  void ReadMesh(const YAML::Node& root, ManifestValues& v) {
    std::filesystem::path path(v.mesh_path);
    if (path.is_relative()) path = std::filesystem::path(file_).parent_path() / path;
    v.mesh_path = path.lexically_normal().string();
    absl::StatusOr<std::string> text = ReadRegularFile(v.mesh_path);
    if (!text.ok()) return Error(*mesh_node_, absl::StrCat("mesh: ", text.status().message()));
    LoadResult mesh = LoadConfigText(*text, v.mesh_path);
    if (!mesh.config) {
      errors_.insert(errors_.end(), mesh.errors.begin(), mesh.errors.end());
      return Error(*mesh_node_, absl::StrCat("mesh: ", v.mesh_path, " does not pass meshdns check (above)"));
    }
    v.mesh_text = *text;
    if (v.mesh_text.empty() || v.mesh_text.back() != '\n') v.mesh_text += '\n';
    if (acl_allow_ || acl_deny_) {
      v.mesh_text = WithAcl(v.mesh_text);
      mesh = LoadConfigText(v.mesh_text, absl::StrCat(v.mesh_path, " with the values' acl"));
      for (const ConfigError& e : mesh.errors) Error(root["acl"], e.ToString());
      if (!mesh.config) return;
    }
    v.mesh = *std::move(mesh.config);
    const Config& c = v.mesh;
    if (!absl::EqualsIgnoreCase(c.cluster, v.cluster)) {
      Error(*cluster_node_, absl::StrCat("cluster: '", v.cluster, "' but ", v.mesh_path, " is for '", c.cluster, "'"));
    }
    for (const auto& [key, address] : {std::pair{"health", c.health}, std::pair{"ready", c.ready}}) {
      if (address.empty()) {
        Error(*mesh_node_, absl::StrCat("mesh: ", v.mesh_path, " sets no '", key, "' address; the pod's ",
                                        key == std::string("health") ? "liveness" : "readiness", " probe needs it"));
      }
    }
    if (v.monitoring.pod_monitor && c.metrics.empty()) {
      Error(*pod_monitor_node_, absl::StrCat("monitoring.podMonitor: ", v.mesh_path, " sets no 'metrics' address"));
    }
    // Probes, Services, peers and Prometheus reach the pod on its own address:
    // on loopback the probes would fail forever and the pod restart or never
    // turn ready.
    for (const auto& [key, address] : {std::pair{"listen", c.listen.front().ToString()}, std::pair{"health", c.health},
                                       std::pair{"ready", c.ready}, std::pair{"metrics", c.metrics}}) {
      absl::StatusOr<SocketAddress> a = SocketAddress::Parse(address);
      if (!address.empty() && a.ok() && IsLoopback(*a)) {
        Error(*mesh_node_, absl::StrCat("mesh: ", v.mesh_path, "'s ", key, " is ", address,
                                        ", which nothing outside the pod reaches (use 0.0.0.0)"));
      }
    }
  }

  // The mesh text with its top-level `acl` block (if any) replaced by one
  // holding the values' lists, and the mesh file's list for any the values
  // leave out. Text, not a re-emitted tree, so the file's comments survive.
  std::string WithAcl(const std::string& text) {
    const YAML::Node mesh = YAML::Load(text);
    std::optional<std::vector<std::string>> allow = acl_allow_, deny = acl_deny_;
    int begin = -1, end = -1;
    for (auto it = mesh.begin(); it != mesh.end(); ++it) {
      if (begin >= 0 && end < 0) end = it->first.Mark().line;
      if (it->first.Scalar() != "acl") continue;
      begin = it->first.Mark().line;
      for (const char* k : {"allow", "deny"}) {
        auto& out = std::string(k) == "allow" ? allow : deny;
        if (!out && it->second.IsMap() && it->second[k].IsSequence()) out = it->second[k].as<std::vector<std::string>>();
      }
    }
    std::string block = absl::StrCat("acl:  # from ", file_, "\n");
    auto list = [](const std::vector<std::string>& l) {
      return absl::StrCat("[", absl::StrJoin(l, ", ", [](std::string* o, const std::string& s) {
                            absl::StrAppend(o, "\"", s, "\"");
                          }), "]");
    };
    if (allow) absl::StrAppend(&block, "  allow: ", list(*allow), "\n");
    if (deny) absl::StrAppend(&block, "  deny: ", list(*deny), "\n");
    if (begin < 0) return text + block;
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    if (end < 0) end = static_cast<int>(lines.size()) - 1;  // the split leaves "" after the last '\n'
    std::string out;
    for (int i = 0; i < static_cast<int>(lines.size()) - 1; ++i) {
      if (i == begin) out += block;
      if (i >= begin && i < end) continue;
      absl::StrAppend(&out, lines[i], "\n");
    }
    return out;
  }

  std::optional<YAML::Node> cluster_node_, image_node_, mesh_node_, pod_monitor_node_;
  std::optional<std::vector<std::string>> acl_allow_, acl_deny_;
};

}  // namespace

uint16_t ManifestValues::DnsPort() const { return mesh.listen.front().port; }
std::optional<uint16_t> ManifestValues::MetricsPort() const {
  if (mesh.metrics.empty()) return std::nullopt;
  return PortOf(mesh.metrics);
}
uint16_t ManifestValues::HealthPort() const { return PortOf(mesh.health); }
uint16_t ManifestValues::ReadyPort() const { return PortOf(mesh.ready); }

int64_t ManifestValues::TerminationGracePeriodSeconds() const {
  const Millis total = pre_stop_sleep + lameduck + mesh.forward.timeout;
  return (total + 999) / 1000 + kGraceMarginSeconds;
}

ManifestValuesLoad LoadManifestValuesText(absl::string_view yaml, const std::string& file_name) {
  return ValuesReader(file_name).Load(yaml);
}

ManifestValuesLoad LoadManifestValuesFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadRegularFile(path);
  if (!text.ok()) {
    ManifestValuesLoad r;
    r.errors.push_back({path, 0, 0, std::string(text.status().message())});
    return r;
  }
  return LoadManifestValuesText(*text, path);
}

}  // namespace meshdns
