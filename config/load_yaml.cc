// The read stage: YAML into Config, each value checked on its own, every
// problem collected with its position instead of stopping at the first.
#include <set>

#include <yaml-cpp/yaml.h>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "config/config_source.h"
#include "config/yaml_reader.h"

namespace meshdns {
namespace {

// Whether an address list may name resolv.conf files ('/…') to take nameservers from.
enum class ResolvConfFiles { kRefused, kAllowed };

YamlPos At(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return YamlPos{m.line + 1, m.column + 1};
}

class Reader : public YamlReader {
 public:
  explicit Reader(std::string file) : YamlReader(std::move(file)) {}

  std::optional<ConfigSource> Read(absl::string_view text, ConfigProblems& problems) {
    std::optional<ConfigSource> source;
    ReadMapping(text, "the configuration", [&](const YAML::Node& root) {
      source.emplace();
      source->config.file = file_;
      source->root = At(root);
      ReadTop(root, *source);
    });
    problems.SetRead(TakeErrors());
    return source;
  }

 private:
  void Ttl(const YAML::Node& n, absl::string_view what, uint32_t& out) {
    Millis d = 0;
    size_t before = errors_.size();
    Duration(n, what, d);
    if (errors_.size() == before) out = static_cast<uint32_t>(d / 1000);
  }

  // Addresses, or paths of resolv.conf files (starting with '/') to take nameservers from.
  std::vector<SocketAddress> Addresses(const YAML::Node& n, absl::string_view what, ResolvConfFiles files) {
    std::vector<SocketAddress> out;
    if (!n.IsSequence() && !n.IsScalar()) {
      Error(n, absl::StrCat(what, " must be a list of addresses"));
      return out;
    }
    auto one = [&](const YAML::Node& item) {
      if (!item.IsScalar()) return Error(item, absl::StrCat(what, " entries must be addresses"));
      const std::string& s = item.Scalar();
      if (files == ResolvConfFiles::kAllowed && !s.empty() && s.front() == '/') {
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

  void ReadTop(const YAML::Node& root, ConfigSource& source) {
    Config& c = source.config;
    c.domain = *DnsName::FromText("cluster.local");
    c.clusterset_domain = *DnsName::FromText("clusterset.local");
    c.listen = {*SocketAddress::Parse("0.0.0.0:53")};
    for (const char* cidr : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"}) {
      c.acl_allow.push_back(*Cidr::Parse(cidr));
    }
    std::optional<YAML::Node> templates_node;
    ForEachKey(root,
               {"cluster", "domain", "clusterset_domain", "listen", "clusters", "upstream", "forward", "cache",
                "templates", "clusterset", "acl", "limits", "metrics", "health", "ready", "lameduck", "log"},
               "the configuration", [&](const std::string& key, const YAML::Node& v) {
      if (key == "cluster") {
        source.cluster = At(v);
        if (Scalar(v, "cluster", c.cluster) && !IsDnsLabel(c.cluster)) {
          Error(v, absl::StrCat("cluster: '", c.cluster, "' is not a DNS label"));
        }
      } else if (key == "domain") {
        Name(v, "domain", c.domain);
      } else if (key == "clusterset_domain") {
        Name(v, "clusterset_domain", c.clusterset_domain);
      } else if (key == "listen") {
        const size_t before = errors_.size();
        c.listen = Addresses(v, "listen", ResolvConfFiles::kRefused);
        if (c.listen.empty() && errors_.size() == before) Error(v, "listen: at least one address is needed");
      } else if (key == "clusters") {
        source.clusters = At(v);
        ReadClusters(v, c);
      } else if (key == "upstream") {
        c.upstream = Addresses(v, "upstream", ResolvConfFiles::kAllowed);
      } else if (key == "forward") {
        ReadForward(v, c.forward);
        source.forward = At(v);
        source.forward_end = errors_.size();
      } else if (key == "cache") {
        ReadCache(v, c.cache);
        if (v.IsMap()) source.cache = At(v);
        source.cache_end = errors_.size();
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
    source.keys_end = errors_.size();
    // Read last, as their problems are reported after the other keys' cross-checks.
    if (templates_node) source.templates = ReadTemplates(*templates_node);
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
        cl.resolvers = Addresses(x, where + ".resolvers", ResolvConfFiles::kAllowed);
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
    ForEachKey(v, {"tcp_connections", "tcp_connections_per_client", "tcp_idle", "inflight", "udp_reply_size"}, "limits",
               [&](const std::string& k, const YAML::Node& x) {
      if (k == "tcp_connections") Unsigned(x, "limits.tcp_connections", l.tcp_connections, 1);
      else if (k == "tcp_connections_per_client") Unsigned(x, "limits.tcp_connections_per_client", l.tcp_connections_per_client, 1);
      else if (k == "tcp_idle") Duration(x, "limits.tcp_idle", l.tcp_idle);
      else if (k == "inflight") Unsigned(x, "limits.inflight", l.inflight, 1);
      else if (k == "udp_reply_size") UdpReplySize(x, l.udp_reply_size);
    });
  }

  // CoreDNS's bufsize range: 512 is every client's minimum (RFC 1035), and no
  // listener buffer holds more than 4096.
  void UdpReplySize(const YAML::Node& x, uint16_t& out) {
    Unsigned(x, "limits.udp_reply_size", out, 512);
    if (out > kMaxUdpReplySize) Error(x, absl::StrCat("limits.udp_reply_size is more than ", kMaxUdpReplySize));
  }

  std::vector<TemplateSource> ReadTemplates(const YAML::Node& v) {
    std::vector<TemplateSource> out;
    if (!v.IsSequence()) {
      Error(v, "templates must be a list");
      return out;
    }
    for (const auto& item : v) {
      TemplateSource t;
      ForEachKey(item, {"match", "answer"}, "a template", [&](const std::string& k, const YAML::Node& x) {
        if (k == "match") {
          t.match = At(x);
          (void)Scalar(x, "template match", t.config.match);
        } else {
          t.answer = At(x);
          t.config.answer = StringList(x, "template answer");
        }
      });
      if (!item.IsMap()) continue;
      if (!t.match) Error(item, "a template needs 'match'");
      if (!t.answer) Error(item, "a template needs 'answer'");
      t.read_end = errors_.size();
      out.push_back(std::move(t));
    }
    return out;
  }
};

}  // namespace

std::optional<ConfigSource> ReadConfigYaml(absl::string_view text, const std::string& file, ConfigProblems& problems) {
  return Reader(file).Read(text, problems);
}

}  // namespace meshdns
