// Reads the YAML configuration into Config, collecting every problem with its
// position instead of stopping at the first.
#include <fnmatch.h>

#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "re2/re2.h"

namespace meshdns {
namespace {

constexpr absl::string_view kEmbeddedDefault = R"(# meshdns embedded default: one cluster on a laptop
cluster: local
listen: ["127.0.0.1:5353"]
clusters:
  local:
    resolvers: ["/etc/resolv.conf"]
upstream: ["/etc/resolv.conf"]
)";

class Loader : public YamlReader {
 public:
  explicit Loader(std::string file) : YamlReader(std::move(file)) {}

  LoadResult Load(absl::string_view text) {
    LoadResult result;
    Config c;
    c.file = file_;
    ReadMapping(text, "the configuration", [&](const YAML::Node& root) { ReadTop(root, c); });
    result.errors = TakeErrors();
    if (result.errors.empty()) result.config = std::move(c);
    return result;
  }

 private:
  void Ttl(const YAML::Node& n, absl::string_view what, uint32_t& out) {
    Millis d = 0;
    size_t before = errors_.size();
    Duration(n, what, d);
    if (errors_.size() == before) out = static_cast<uint32_t>(d / 1000);
  }

  // Addresses, or paths of resolv.conf files (starting with '/') to take nameservers from.
  std::vector<SocketAddress> Addresses(const YAML::Node& n, absl::string_view what, bool files_allowed) {
    std::vector<SocketAddress> out;
    if (!n.IsSequence() && !n.IsScalar()) {
      Error(n, absl::StrCat(what, " must be a list of addresses"));
      return out;
    }
    auto one = [&](const YAML::Node& item) {
      if (!item.IsScalar()) return Error(item, absl::StrCat(what, " entries must be addresses"));
      const std::string& s = item.Scalar();
      if (files_allowed && !s.empty() && s.front() == '/') {
        absl::StatusOr<std::vector<SocketAddress>> servers = ReadResolvConf(s);
        if (!servers.ok()) return Error(item, absl::StrCat(what, ": ", servers.status().message()));
        out.insert(out.end(), servers->begin(), servers->end());
        return;
      }
      absl::StatusOr<SocketAddress> a = SocketAddress::Parse(s);
      if (!a.ok()) return Error(item, absl::StrCat(what, ": ", a.status().message()));
      out.push_back(*a);
    };
    if (n.IsScalar()) {
      one(n);
    } else {
      for (const auto& item : n) one(item);
    }
    return out;
  }

  void PolicyValue(const YAML::Node& n, absl::string_view what, Policy& out) {
    std::string s;
    if (!Scalar(n, what, s)) return;
    if (s == "round_robin") out = Policy::kRoundRobin;
    else if (s == "random") out = Policy::kRandom;
    else if (s == "sequential") out = Policy::kSequential;
    else Error(n, absl::StrCat(what, ": '", s, "' is not round_robin, random or sequential"));
  }

  void Name(const YAML::Node& n, absl::string_view what, DnsName& out) {
    std::string s;
    if (!Scalar(n, what, s)) return;
    absl::StatusOr<DnsName> name = DnsName::FromText(s);
    // Host-name labels only: these domains are written into the default
    // template's answer text and must read back as the same name.
    const bool hostname =
        absl::c_all_of(absl::StrSplit(absl::StripSuffix(s, "."), '.'), [](absl::string_view l) { return IsDnsLabel(l); });
    if (!name.ok() || name->IsRoot() || !hostname) {
      return Error(n, absl::StrCat(what, ": '", s, "' is not a domain name"));
    }
    out = name->Lowered();
  }

  void ReadTop(const YAML::Node& root, Config& c) {
    c.domain = *DnsName::FromText("cluster.local");
    c.clusterset_domain = *DnsName::FromText("clusterset.local");
    c.listen = {*SocketAddress::Parse("0.0.0.0:53")};
    for (const char* cidr : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"}) {
      c.acl_allow.push_back(*Cidr::Parse(cidr));
    }
    std::optional<YAML::Node> templates_node, cluster_node, clusters_node;
    ForEachKey(root,
               {"cluster", "domain", "clusterset_domain", "listen", "clusters", "upstream", "forward", "cache",
                "templates", "clusterset", "acl", "limits", "metrics", "health", "ready", "lameduck", "log"},
               "the configuration", [&](const std::string& key, const YAML::Node& v) {
      if (key == "cluster") {
        cluster_node = v;
        if (Scalar(v, "cluster", c.cluster) && !IsDnsLabel(c.cluster)) {
          Error(v, absl::StrCat("cluster: '", c.cluster, "' is not a DNS label"));
        }
      } else if (key == "domain") {
        Name(v, "domain", c.domain);
      } else if (key == "clusterset_domain") {
        Name(v, "clusterset_domain", c.clusterset_domain);
      } else if (key == "listen") {
        const size_t before = errors_.size();
        c.listen = Addresses(v, "listen", false);
        if (c.listen.empty() && errors_.size() == before) Error(v, "listen: at least one address is needed");
      } else if (key == "clusters") {
        clusters_node = v;
        ReadClusters(v, c);
      } else if (key == "upstream") {
        c.upstream = Addresses(v, "upstream", true);
      } else if (key == "forward") {
        ReadForward(v, c.forward);
      } else if (key == "cache") {
        ReadCache(v, c.cache);
      } else if (key == "templates") {
        templates_node = v;
      } else if (key == "clusterset") {
        ReadClusterset(v, c.clusterset);
      } else if (key == "acl") {
        ForEachKey(v, {"allow", "deny"}, "acl", [&](const std::string& k, const YAML::Node& list) {
          std::vector<Cidr>& out = k == "allow" ? c.acl_allow : c.acl_deny;
          out.clear();
          if (!list.IsSequence()) return Error(list, absl::StrCat("acl.", k, " must be a list"));
          for (const auto& item : list) {
            absl::StatusOr<Cidr> cidr = Cidr::Parse(item.IsScalar() ? item.Scalar() : "");
            if (!cidr.ok()) Error(item, absl::StrCat("acl.", k, ": ", cidr.status().message()));
            else out.push_back(*cidr);
          }
        });
      } else if (key == "limits") {
        ReadLimits(v, c.limits);
      } else if (key == "metrics" || key == "health" || key == "ready") {
        std::string& out = key == "metrics" ? c.metrics : key == "health" ? c.health : c.ready;
        if (Scalar(v, key, out)) {
          if (absl::StatusOr<SocketAddress> a = SocketAddress::Parse(out); !a.ok()) {
            Error(v, absl::StrCat(key, ": ", a.status().message()));
          }
        }
      } else if (key == "lameduck") {
        Duration(v, "lameduck", c.lameduck);
      } else if (key == "log") {
        ForEachKey(v, {"level", "queries"}, "log", [&](const std::string& k, const YAML::Node& x) {
          if (k == "queries") return Bool(x, "log.queries", c.log_queries);
          if (Scalar(x, "log.level", c.log_level) && c.log_level != "debug" && c.log_level != "info" &&
              c.log_level != "warn" && c.log_level != "error") {
            Error(x, absl::StrCat("log.level: '", c.log_level, "' is not debug, info, warn or error"));
          }
        });
      }
    });
    if (!cluster_node) Error(root, "missing required key 'cluster'");
    if (!clusters_node) Error(root, "missing required key 'clusters'");
    if (cluster_node && clusters_node && !c.cluster.empty() && IsDnsLabel(c.cluster)) {
      bool found = false;
      for (const auto& cl : c.clusters) found = found || absl::EqualsIgnoreCase(cl.name, c.cluster);
      if (!found) Error(*cluster_node, absl::StrCat("cluster '", c.cluster, "' is not listed under clusters"));
    }
    ReadTemplates(templates_node, c, root);
  }

  void ReadClusters(const YAML::Node& v, Config& c) {
    if (!v.IsMap()) return Error(v, "clusters must be a mapping of cluster names");
    if (v.size() == 0) return Error(v, "clusters: at least one cluster is needed");
    for (auto it = v.begin(); it != v.end(); ++it) {
      ClusterConfig cl;
      cl.name = absl::AsciiStrToLower(it->first.Scalar());
      if (!IsDnsLabel(cl.name)) {
        Error(it->first, absl::StrCat("cluster name '", it->first.Scalar(), "' is not a DNS label"));
      }
      const std::string where = absl::StrCat("clusters.", cl.name);
      bool has_resolvers = false;
      ForEachKey(it->second, {"resolvers", "policy"}, where, [&](const std::string& k, const YAML::Node& x) {
        if (k == "policy") {
          Policy p;
          size_t before = errors_.size();
          PolicyValue(x, where + ".policy", p);
          if (errors_.size() == before) cl.policy = p;
          return;
        }
        has_resolvers = true;
        size_t before = errors_.size();
        cl.resolvers = Addresses(x, where + ".resolvers", true);
        if (cl.resolvers.empty() && errors_.size() == before) Error(x, where + ".resolvers: the list is empty");
      });
      if (it->second.IsMap() && !has_resolvers) Error(it->first, absl::StrCat(where, ": missing 'resolvers'"));
      c.clusters.push_back(std::move(cl));
    }
  }

  void ReadForward(const YAML::Node& v, ForwardConfig& f) {
    ForEachKey(v, {"policy", "timeout", "health_check", "max_fails", "expire"}, "forward",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "policy") PolicyValue(x, "forward.policy", f.policy);
      else if (k == "timeout") Duration(x, "forward.timeout", f.timeout);
      else if (k == "health_check") Duration(x, "forward.health_check", f.health_check);
      else if (k == "max_fails") Unsigned(x, "forward.max_fails", f.max_fails, 1);
      else if (k == "expire") Duration(x, "forward.expire", f.expire);
    });
    if (f.timeout <= 0) Error(v, "forward.timeout must be positive");
  }

  void ReadCache(const YAML::Node& v, CacheConfig& cache) {
    ForEachKey(v, {"max_ttl", "min_ttl", "denial_ttl", "capacity", "max_entry_size", "serve_stale", "prefetch"}, "cache",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "prefetch") {
        PrefetchPolicy p;
        ForEachKey(x, {"amount", "duration", "percentage"}, "cache.prefetch",
                   [&](const std::string& pk, const YAML::Node& y) {
          if (pk == "amount") Unsigned(y, "cache.prefetch.amount", p.amount, 1);
          else if (pk == "duration") Duration(y, "cache.prefetch.duration", p.duration);
          else {
            Unsigned(y, "cache.prefetch.percentage", p.percentage);
            if (p.percentage > 100) Error(y, "cache.prefetch.percentage must be between 0 and 100");
          }
        });
        cache.prefetch = p;
      } else if (k == "max_ttl") Ttl(x, "cache.max_ttl", cache.ttl.max_ttl);
      else if (k == "min_ttl") Ttl(x, "cache.min_ttl", cache.ttl.min_ttl);
      else if (k == "denial_ttl") Ttl(x, "cache.denial_ttl", cache.ttl.denial_ttl);
      else if (k == "capacity") Unsigned(x, "cache.capacity", cache.capacity);
      else if (k == "max_entry_size") {
        Unsigned(x, "cache.max_entry_size", cache.max_entry_size, 512);
        if (cache.max_entry_size > kMaxMessageSize) Error(x, "cache.max_entry_size is more than 65535");
      }
      else if (k == "serve_stale") Duration(x, "cache.serve_stale", cache.serve_stale);
    });
    if (v.IsMap() && cache.ttl.min_ttl > cache.ttl.max_ttl) Error(v, "cache.min_ttl is larger than cache.max_ttl");
  }

  void AffinityValue(const YAML::Node& n, absl::string_view what, Affinity& out) {
    std::string s;
    if (!Scalar(n, what, s)) return;
    if (s == "all") out = Affinity::kAll;
    else if (s == "local") out = Affinity::kLocal;
    else if (s == "remote") out = Affinity::kRemote;
    else Error(n, absl::StrCat(what, ": '", s, "' is not all, local or remote"));
  }

  void ReadClusterset(const YAML::Node& v, ClustersetConfig& cs) {
    ForEachKey(v, {"services", "affinity", "affinity_overrides", "fanout_timeout", "ttl"}, "clusterset",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "services") Bool(x, "clusterset.services", cs.services);
      else if (k == "fanout_timeout") Duration(x, "clusterset.fanout_timeout", cs.fanout_timeout);
      else if (k == "ttl") Ttl(x, "clusterset.ttl", cs.ttl);
      else if (k == "affinity") AffinityValue(x, "clusterset.affinity", cs.affinity);
      else if (!x.IsSequence()) Error(x, "clusterset.affinity_overrides must be a list");
      else {
        for (const auto& item : x) {
          AffinityOverride o;
          bool has_service = false, has_affinity = false;
          ForEachKey(item, {"service", "affinity"}, "an affinity override", [&](const std::string& ok,
                                                                               const YAML::Node& y) {
            if (ok == "service") {
              has_service = Scalar(y, "affinity override service", o.service);
            } else {
              has_affinity = true;
              AffinityValue(y, "affinity override affinity", o.affinity);
            }
          });
          if (item.IsMap() && (!has_service || !has_affinity)) {
            Error(item, "an affinity override needs 'service' (<svc>.<ns>) and 'affinity'");
          }
          cs.affinity_overrides.push_back(std::move(o));
        }
      }
    });
  }

  void ReadLimits(const YAML::Node& v, LimitsConfig& l) {
    ForEachKey(v, {"tcp_connections", "tcp_connections_per_client", "tcp_idle", "inflight"}, "limits",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "tcp_connections") Unsigned(x, "limits.tcp_connections", l.tcp_connections, 1);
      else if (k == "tcp_connections_per_client") Unsigned(x, "limits.tcp_connections_per_client", l.tcp_connections_per_client, 1);
      else if (k == "tcp_idle") Duration(x, "limits.tcp_idle", l.tcp_idle);
      else if (k == "inflight") Unsigned(x, "limits.inflight", l.inflight, 1);
    });
  }

  void CompileTemplate(TemplateConfig& t, const YAML::Node& match_node, const YAML::Node& answer_node) {
    absl::StatusOr<std::shared_ptr<const Template>> compiled = Template::Compile(t.match, t.answer);
    if (compiled.ok()) {
      t.compiled = *compiled;
      return;
    }
    const bool regex_problem = absl::StartsWith(compiled.status().message(), "bad regex");
    Error(regex_problem ? match_node : answer_node, std::string(compiled.status().message()));
  }

  void ReadTemplates(const std::optional<YAML::Node>& node, Config& c, const YAML::Node& root) {
    if (!node) {
      TemplateConfig t = DefaultTemplate(c);
      absl::StatusOr<std::shared_ptr<const Template>> compiled = Template::Compile(t.match, t.answer);
      if (!compiled.ok()) return Error(root, absl::StrCat("the default template: ", compiled.status().message()));
      t.compiled = *std::move(compiled);
      c.templates.push_back(std::move(t));
      return;
    }
    const YAML::Node& v = *node;
    if (!v.IsSequence()) return Error(v, "templates must be a list");
    for (const auto& item : v) {
      TemplateConfig t;
      std::optional<YAML::Node> match_node, answer_node;
      ForEachKey(item, {"match", "answer"}, "a template", [&](const std::string& k, const YAML::Node& x) {
        if (k == "match") {
          match_node = x;
          (void)Scalar(x, "template match", t.match);
        } else {
          answer_node = x;
          t.answer = StringList(x, "template answer");
        }
      });
      if (!item.IsMap()) continue;
      if (!match_node) Error(item, "a template needs 'match'");
      if (!answer_node) Error(item, "a template needs 'answer'");
      if (match_node && answer_node) CompileTemplate(t, *match_node, *answer_node);
      c.templates.push_back(std::move(t));
    }
  }

  // Contract rule 2's default: H.C.SVC.NS.svc.S -> CNAME H.SVC.NS.C.svc.D.
  static TemplateConfig DefaultTemplate(const Config& c) {
    TemplateConfig t;
    const std::string label = "[a-zA-Z0-9-]+";
    t.match = absl::StrCat("^(?P<host>", label, ")\\.(?P<cluster>", label, ")\\.(?P<service>", label, ")\\.(?P<ns>",
                           label, ")\\.svc\\.", RE2::QuoteMeta(c.clusterset_domain.ToText()), "$");
    t.answer = {absl::StrCat("{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}."
                             "{{ .Group.cluster }}.svc.",
                             c.domain.ToText())};
    return t;
  }

};

}  // namespace

Affinity ClustersetConfig::AffinityFor(absl::string_view service, absl::string_view ns) const {
  const std::string name = absl::AsciiStrToLower(absl::StrCat(service, ".", ns));
  for (const AffinityOverride& o : affinity_overrides) {
    if (fnmatch(absl::AsciiStrToLower(o.service).c_str(), name.c_str(), 0) == 0) return o.affinity;
  }
  return affinity;
}

std::string ConfigError::ToString() const { return absl::StrCat(file, ":", line, ":", column, ": ", message); }

size_t Config::LocalCluster() const {
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (absl::EqualsIgnoreCase(clusters[i].name, cluster)) return i;
  }
  return 0;
}

LoadResult LoadConfigText(absl::string_view yaml, const std::string& file_name) { return Loader(file_name).Load(yaml); }

LoadResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, 0, "cannot read the file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadConfigText(ss.str(), path);
}

LoadResult EmbeddedDefaultConfig() { return LoadConfigText(kEmbeddedDefault, "<embedded default>"); }

}  // namespace meshdns
