#include "config/corefile_import.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace meshdns {
namespace {

// kube-dns's ClusterIP on kind and kubeadm clusters; the Corefile does not
// say it (CoreDNS *is* kube-dns), so the import says it guessed.
constexpr const char* kDefaultKubeDns = "10.96.0.10:53";

std::string Quote(absl::string_view s) { return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'"); }

std::string QuoteList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& i : items) quoted.push_back(Quote(i));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

// `:9153`, `localhost:9153` or nothing, as the address meshdns listens on.
std::string HttpAddress(const CorefileDirective& d, absl::string_view default_port) {
  std::string a = d.args.empty() ? absl::StrCat(":", default_port) : d.args[0].text;
  if (absl::StartsWith(a, ":")) a = absl::StrCat("0.0.0.0", a);
  if (absl::StartsWith(a, "localhost:")) a = absl::StrCat("127.0.0.1", a.substr(9));
  return a;
}

class Importer {
 public:
  Importer(const Corefile& corefile, const std::optional<std::string>& cluster)
      : corefile_(corefile), cluster_(cluster) {}

  ImportResult Run() {
    FindDomain();
    for (const CorefileServerBlock& block : corefile_.blocks) ReadBlock(block);
    ChooseLocalCluster();
    if (!result_.errors.empty()) return std::move(result_);
    std::string yaml = Yaml();
    LoadResult check = LoadConfigText(yaml, "<imported>");
    for (ConfigError& e : check.errors) {
      e.message = absl::StrCat("the imported configuration does not load: ", e.message);
      result_.errors.push_back(std::move(e));
    }
    if (result_.errors.empty()) result_.yaml = std::move(yaml);
    return std::move(result_);
  }

 private:
  struct Peer {
    std::string name;
    std::vector<std::string> resolvers;
    std::string policy;
    SourcePos pos;
  };

  void Warn(const SourcePos& pos, std::string message) {
    result_.warnings.push_back(ConfigError{pos.file, pos.line, pos.column, std::move(message)});
  }
  void Error(const SourcePos& pos, std::string message) {
    result_.errors.push_back(ConfigError{pos.file, pos.line, pos.column, std::move(message)});
  }

  // The cluster domain: the kubernetes plugin's zone, else cluster.local.
  void FindDomain() {
    domain_ = *DnsName::FromText("cluster.local");
    for (const CorefileServerBlock& block : corefile_.blocks) {
      for (const CorefileDirective& d : block.directives) {
        if (d.name.text != "kubernetes") continue;
        for (const CorefileToken& zone : d.args) {
          if (absl::EndsWith(absl::StripSuffix(zone.text, "."), ".arpa")) continue;
          if (absl::StatusOr<DnsName> n = DnsName::FromText(zone.text); n.ok()) {
            domain_ = n->Lowered();
            return;
          }
        }
      }
    }
  }

  // "<c>" when `zone` is <c>.svc.<domain>.
  std::optional<std::string> ClusterOfZone(const DnsName& zone) const {
    if (zone.LabelCount() != domain_.LabelCount() + 2 || !zone.IsSubdomainOf(domain_)) return std::nullopt;
    if (!absl::EqualsIgnoreCase(zone.Label(1), "svc")) return std::nullopt;
    return absl::AsciiStrToLower(zone.Label(0));
  }

  void ReadBlock(const CorefileServerBlock& block) {
    for (const CorefileKey& key : block.keys) {
      if (key.port != 53) {
        Warn(key.pos, absl::StrCat("port ", key.port, " of ", key.zone.ToText(),
                                   ": meshdns listens where `listen` says (default 0.0.0.0:53)"));
      }
    }
    const CorefileKey& key = block.keys.front();
    if (std::optional<std::string> cluster = ClusterOfZone(key.zone)) {
      ReadClusterBlock(block, *cluster);
    } else if (key.zone.IsRoot()) {
      ReadRootBlock(block);
    } else if (Find(block, "template") != nullptr) {
      ReadClustersetBlock(block);
    } else {
      Warn(block.pos, absl::StrCat("server block ", key.zone.ToText(),
                                   " is neither a cluster's zone, the root nor a template zone: not carried over"));
    }
  }

  static const CorefileDirective* Find(const CorefileServerBlock& block, absl::string_view name) {
    for (const CorefileDirective& d : block.directives) {
      if (d.name.text == name) return &d;
    }
    return nullptr;
  }

  void ReadClusterBlock(const CorefileServerBlock& block, const std::string& cluster) {
    Peer peer{cluster, {}, "", block.pos};
    bool strips = false;
    for (const CorefileDirective& d : block.directives) {
      const std::string& n = d.name.text;
      if (n == "forward") {
        ReadForward(d, peer);
      } else if (n == "rewrite") {
        strips = strips || RewriteStrippedCluster(d) == cluster;
      } else if (n == "cache") {
        ReadCache(d, /*mesh=*/true);
      } else if (n == "kubernetes") {
        local_block_ = cluster;  // served by this cluster's own kube-dns
      } else if (n != "errors") {
        Unmapped(d);
      }
    }
    if (!strips) {
      Warn(block.pos, absl::StrCat("block ", cluster, ".svc.", domain_.ToText(),
                                   " has no rewrite that strips the cluster label; meshdns strips it anyway "
                                   "(contract rule 1)"));
    }
    if (peer.resolvers.empty()) {
      if (!local_block_) local_block_ = cluster;
      return;
    }
    peers_.push_back(std::move(peer));
  }

  // The cluster whose label `rewrite [stop|continue] name substring|suffix
  // <c>.svc.D svc.D [answer auto]` strips (in one line or in a block), if it is such a rule.
  std::optional<std::string> RewriteStrippedCluster(const CorefileDirective& d) const {
    const std::string to = absl::StrCat("svc.", absl::StripSuffix(domain_.ToText(), "."));
    auto stripped = [&](const std::vector<CorefileToken>& args) -> std::optional<std::string> {
      std::vector<std::string> a;
      for (const CorefileToken& t : args) a.push_back(absl::AsciiStrToLower(absl::StripSuffix(t.text, ".")));
      for (size_t i = 0; i + 3 < a.size(); ++i) {
        if (a[i] != "name" || (a[i + 1] != "substring" && a[i + 1] != "suffix") || a[i + 3] != to) continue;
        absl::StatusOr<DnsName> from = DnsName::FromText(a[i + 2]);
        if (from.ok()) return ClusterOfZone(*from);
      }
      return std::nullopt;
    };
    if (std::optional<std::string> c = stripped(d.args)) return c;
    for (const CorefileDirective& line : d.block) {
      std::vector<CorefileToken> all{line.name};
      all.insert(all.end(), line.args.begin(), line.args.end());
      if (std::optional<std::string> c = stripped(all)) return c;
    }
    return std::nullopt;
  }

  void ReadForward(const CorefileDirective& d, Peer& into) {
    if (d.args.size() < 2) {
      Error(d.name.pos, "forward needs a zone and at least one address");
      return;
    }
    for (size_t i = 1; i < d.args.size(); ++i) {
      std::string to = d.args[i].text;
      if (absl::StartsWith(to, "tls://")) {
        Warn(d.args[i].pos, absl::StrCat("forward to ", to, ": DNS over TLS is not supported; left out"));
        continue;
      }
      into.resolvers.push_back(std::string(absl::StripPrefix(to, "dns://")));
    }
    for (const CorefileDirective& o : d.block) {
      const std::string& n = o.name.text;
      const std::string v = o.args.empty() ? "" : o.args[0].text;
      if (n == "policy") {
        into.policy = v;
      } else if (n == "max_concurrent") {
        max_concurrent_ = v;  // CoreDNS answers REFUSED beyond it, as meshdns does beyond limits.inflight
      } else if (n == "expire" || n == "health_check" || n == "max_fails") {
        auto [it, fresh] = forward_.emplace(n, v);
        if (!fresh && it->second != v) {
          Warn(o.name.pos, absl::StrCat("forward ", n, " ", v, " differs from ", it->second,
                                        " elsewhere; meshdns has one value for all clusters: ", it->second, " kept"));
        }
      } else {
        Warn(o.name.pos, absl::StrCat("forward option ", n, " has no meshdns equivalent; left out"));
      }
    }
  }

  void ReadCache(const CorefileDirective& d, bool mesh) {
    if (!d.args.empty()) {
      int seconds = 0;
      if (!absl::SimpleAtoi(d.args[0].text, &seconds) || seconds <= 0) {
        Warn(d.args[0].pos, absl::StrCat("cache ", d.args[0].text, ": not a number of seconds; left out"));
      } else if (mesh) {
        if (mesh_cache_ && *mesh_cache_ != seconds) {
          Warn(d.name.pos, absl::StrCat("cache ", seconds, " differs from cache ", *mesh_cache_,
                                        " in another block; meshdns has one cache: ", *mesh_cache_, " kept"));
        } else {
          mesh_cache_ = seconds;
        }
      } else {
        root_cache_ = seconds;
      }
    }
    if (d.args.size() > 1 || d.has_block) {
      Warn(d.name.pos, "cache zones and options are not carried over (see cache: in the meshdns YAML)");
    }
  }

  void ReadRootBlock(const CorefileServerBlock& block) {
    for (const CorefileDirective& d : block.directives) {
      const std::string& n = d.name.text;
      if (n == "forward") {
        Peer to;
        ReadForward(d, to);
        absl::StatusOr<DnsName> from = DnsName::FromText(d.args.empty() ? "." : d.args[0].text);
        if (from.ok() && from->Equals(domain_)) {
          // The cluster's own names sent to its kube-dns (where the kubernetes
          // plugin runs elsewhere): those are this cluster's resolvers.
          local_forward_ = to.resolvers;
        } else if (from.ok() && from->IsRoot()) {
          upstream_ = to.resolvers;
        } else {
          Warn(d.name.pos, absl::StrCat("forward ", d.args.empty() ? "" : d.args[0].text,
                                        ": only `forward .` (upstream) and `forward ", domain_.ToText(),
                                        "` (this cluster's resolvers) carry over"));
        }
      } else if (std::optional<std::string> own = n == "rewrite" ? RewriteStrippedCluster(d) : std::nullopt) {
        // The own cluster's label stripped before kubernetes sees the name:
        // meshdns does that for every cluster (contract rule 1), and it names the cluster.
        if (!local_block_) local_block_ = *own;
      } else if (n == "kubernetes") {
        Warn(d.name.pos, absl::StrCat("kubernetes ", domain_.ToText(), ": the cluster's own names stay with its "
                                      "kube-dns; meshdns forwards them to the local cluster's resolvers"));
      } else if (n == "prometheus") {
        metrics_ = HttpAddress(d, "9153");
      } else if (n == "health") {
        health_ = HttpAddress(d, "8080");
        for (const CorefileDirective& option : d.block) {
          if (option.name.text == "lameduck" && option.args.size() == 1 && ParseDuration(option.args[0].text).ok()) {
            lameduck_ = option.args[0].text;
          } else {
            Warn(option.name.pos, absl::StrCat("health option ", option.name.text, " is not carried over"));
          }
        }
      } else if (n == "ready") {
        ready_ = HttpAddress(d, "8181");
      } else if (n == "cache") {
        ReadCache(d, /*mesh=*/false);
      } else if (n != "errors") {
        Unmapped(d);
      }
    }
  }

  void ReadClustersetBlock(const CorefileServerBlock& block) {
    clusterset_ = block.keys.front().zone;
    for (const CorefileDirective& d : block.directives) {
      const std::string& n = d.name.text;
      if (n == "template") {
        ReadTemplate(d);
      } else if (n == "cache") {
        ReadCache(d, /*mesh=*/true);
      } else if (n != "errors") {
        Unmapped(d);
      }
    }
  }

  void ReadTemplate(const CorefileDirective& d) {
    if (d.args.size() >= 2 && (!absl::EqualsIgnoreCase(d.args[1].text, "ANY") ||
                               !(absl::EqualsIgnoreCase(d.args[0].text, "IN") ||
                                 absl::EqualsIgnoreCase(d.args[0].text, "ANY")))) {
      Warn(d.name.pos, absl::StrCat("template ", d.args[0].text, " ", d.args[1].text,
                                    ": meshdns templates answer every type of class IN"));
    }
    std::vector<std::string> matches, answers;
    for (const CorefileDirective& o : d.block) {
      const std::string& n = o.name.text;
      if (n == "match") {
        for (const CorefileToken& t : o.args) matches.push_back(t.text);
      } else if (n == "answer") {
        for (const CorefileToken& t : o.args) answers.push_back(t.text);
      } else if (n != "fallthrough") {
        Warn(o.name.pos, absl::StrCat("template option ", n, " has no meshdns equivalent; left out"));
      }
    }
    if (matches.empty() || answers.empty()) {
      Warn(d.name.pos, "template without match and answer; left out");
      return;
    }
    for (const std::string& m : matches) templates_.push_back({m, answers});
  }

  void Unmapped(const CorefileDirective& d) {
    static const auto* const kWhy = new std::map<std::string, std::string>{
        {"reload", "meshdns reloads on SIGHUP and whenever its file changes"},
        {"loop", "meshdns never forwards a cluster's names to itself"},
        {"log", "query logging is not available in meshdns yet"},
        {"loadbalance", "meshdns keeps the resolvers' record order"},
        {"health", "set health: in the meshdns YAML"},
        {"ready", "set ready: in the meshdns YAML"},
        {"prometheus", "set metrics: in the meshdns YAML"},
    };
    auto it = kWhy->find(d.name.text);
    Warn(d.name.pos, absl::StrCat(d.name.text, ": not carried over",
                                  it == kWhy->end() ? "" : absl::StrCat(" (", it->second, ")")));
  }

  void ChooseLocalCluster() {
    if (cluster_) {
      local_ = absl::AsciiStrToLower(*cluster_);
    } else if (local_block_) {
      local_ = *local_block_;
    } else {
      // Peers named <prefix><n>: this Corefile's cluster is the one number missing.
      std::string prefix;
      std::vector<int> numbers;
      for (const Peer& p : peers_) {
        const size_t digits = p.name.find_last_not_of("0123456789") + 1;
        int n = 0;
        if (digits == p.name.size() || !absl::SimpleAtoi(p.name.substr(digits), &n)) return NoLocal();
        if (!prefix.empty() && prefix != p.name.substr(0, digits)) return NoLocal();
        prefix = p.name.substr(0, digits);
        numbers.push_back(n);
      }
      std::optional<int> missing;
      for (int n = 1; n <= static_cast<int>(numbers.size()) + 1; ++n) {
        if (std::find(numbers.begin(), numbers.end(), n) == numbers.end()) {
          if (missing) return NoLocal();
          missing = n;
        }
      }
      if (!missing || prefix.empty()) return NoLocal();
      local_ = absl::StrCat(prefix, *missing);
    }
    for (const Peer& p : peers_) {
      if (p.name == local_) local_resolvers_ = p.resolvers;
    }
    if (local_resolvers_.empty()) local_resolvers_ = local_forward_;
    if (local_resolvers_.empty()) {
      local_resolvers_ = {kDefaultKubeDns};
      Warn(SourcePos{corefile_.blocks.empty() ? "" : corefile_.blocks.front().pos.file, 1, 1},
           absl::StrCat("cluster ", local_, "'s resolvers are its kube-dns, which the Corefile does not name: ",
                        kDefaultKubeDns, " assumed; check `kubectl -n kube-system get svc kube-dns`"));
    }
  }

  void NoLocal() {
    Error(SourcePos{corefile_.blocks.empty() ? "" : corefile_.blocks.front().pos.file, 1, 1},
          "cannot tell which cluster this Corefile belongs to: pass --cluster NAME");
  }

  std::string Yaml() const {
    std::string y = "# Imported from a Corefile by `meshdns import`.\n";
    absl::StrAppend(&y, "cluster: ", Quote(local_), "\n");
    absl::StrAppend(&y, "domain: ", Quote(absl::StripSuffix(domain_.ToText(), ".")), "\n");
    if (clusterset_) {
      absl::StrAppend(&y, "clusterset_domain: ", Quote(absl::StripSuffix(clusterset_->ToText(), ".")), "\n");
    }
    absl::StrAppend(&y, "clusters:\n  ", local_, ":\n    resolvers: ", QuoteList(local_resolvers_), "\n");
    for (const Peer& p : peers_) {
      if (p.name == local_) continue;
      absl::StrAppend(&y, "  ", p.name, ":\n    resolvers: ", QuoteList(p.resolvers), "\n");
      if (!p.policy.empty()) absl::StrAppend(&y, "    policy: ", p.policy, "\n");
    }
    if (!upstream_.empty()) absl::StrAppend(&y, "upstream: ", QuoteList(upstream_), "\n");
    if (!forward_.empty()) {
      absl::StrAppend(&y, "forward:\n");
      for (const auto& [k, v] : forward_) absl::StrAppend(&y, "  ", k, ": ", Quote(v), "\n");
    }
    const std::optional<int> cache = mesh_cache_ ? mesh_cache_ : root_cache_;
    if (cache) absl::StrAppend(&y, "cache:\n  max_ttl: ", *cache, "s\n");
    if (!templates_.empty()) {
      absl::StrAppend(&y, "templates:\n");
      for (const auto& [match, answers] : templates_) {
        absl::StrAppend(&y, "  - match: ", Quote(match), "\n    answer: ");
        if (answers.size() == 1) {
          absl::StrAppend(&y, Quote(answers[0]), "\n");
        } else {
          absl::StrAppend(&y, QuoteList(answers), "\n");
        }
      }
    }
    if (!max_concurrent_.empty()) absl::StrAppend(&y, "limits:\n  inflight: ", max_concurrent_, "\n");
    if (!metrics_.empty()) absl::StrAppend(&y, "metrics: ", Quote(metrics_), "\n");
    if (!health_.empty()) absl::StrAppend(&y, "health: ", Quote(health_), "\n");
    if (!ready_.empty()) absl::StrAppend(&y, "ready: ", Quote(ready_), "\n");
    if (!lameduck_.empty()) absl::StrAppend(&y, "lameduck: ", lameduck_, "\n");
    return y;
  }

  const Corefile& corefile_;
  const std::optional<std::string>& cluster_;
  ImportResult result_;
  DnsName domain_;
  std::optional<DnsName> clusterset_;
  std::vector<Peer> peers_;
  std::optional<std::string> local_block_;
  std::string local_;
  std::vector<std::string> local_resolvers_, local_forward_, upstream_;
  std::map<std::string, std::string> forward_;
  std::optional<int> mesh_cache_, root_cache_;
  std::vector<std::pair<std::string, std::vector<std::string>>> templates_;
  std::string metrics_, health_, ready_, lameduck_, max_concurrent_;
};

}  // namespace

ImportResult ImportCorefile(const Corefile& corefile, const std::optional<std::string>& cluster) {
  return Importer(corefile, cluster).Run();
}

}  // namespace meshdns
