// The three kinds of server block a mesh Corefile has, each read from its
// plan: what maps to the meshdns YAML is taken, the rest is reported at
// the directive that wrote it.
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/import/importer.h"
#include "config/yaml_reader.h"

namespace meshdns {
namespace {

// `:9153`, `localhost:9153` or "" (the plugin's default port), as the address meshdns listens on.
std::string HttpAddress(const std::string& written, absl::string_view default_port) {
  std::string a = written.empty() ? absl::StrCat(":", default_port) : written;
  if (absl::StartsWith(a, ":")) a = absl::StrCat("0.0.0.0", a);
  if (absl::StartsWith(a, "localhost:")) a = absl::StrCat("127.0.0.1", a.substr(9));
  return a;
}

}  // namespace

// <cluster>.svc.<domain>: a peer's names, stripped of the cluster label and
// forwarded to its NodePort; or, with kubernetes, the own cluster's block.
void MeshImporter::ReadClusterBlock(size_t s, const std::string& cluster) {
  const ServerPlan& server = plan_.servers[s];
  if (!IsDnsLabel(cluster)) {
    return Error(server.pos, absl::StrCat("cluster name '", cluster, "' is not a DNS label"));
  }
  ImportedCluster peer{.name = cluster};
  bool strips = false;
  for (const DirectiveSite& site : server.sites) {
    const std::string& n = site.name.text;
    if (n == "forward") {
      if (!site.entry) continue;  // not planned: the plan says why
      if (!peer.origin) peer.origin = PlanForwardRef{s, *site.entry};
      ReadForward(server.forwards[*site.entry], site, peer);
    } else if (n == "rewrite") {
      strips = strips || (site.entry && StrippedCluster(server.rewrites[*site.entry]) == cluster);
    } else if (n == "cache") {
      ReadCache(server, site, CacheOf::kMesh);
    } else if (n == "kubernetes" && !site.planned) {
      local_block_ = cluster;  // served by this cluster's own kube-dns
    } else if (n != "errors") {
      Unmapped(site);
    }
  }
  block_forwards_.emplace_back(cluster, peer.origin);
  if (!strips) {
    Warn(server.pos, absl::StrCat("block ", cluster, ".svc.", domain_.ToText(),
                                  " has no rewrite that strips the cluster label; meshdns strips it anyway "
                                  "(contract rule 1)"));
  }
  if (peer.resolvers.empty()) {
    if (!local_block_) local_block_ = cluster;
    return;
  }
  peers_.push_back(std::move(peer));
}

// `.`: the upstream, the own cluster's resolvers and label, the side services.
void MeshImporter::ReadRootBlock(size_t s) {
  const ServerPlan& server = plan_.servers[s];
  for (const DirectiveSite& site : server.sites) {
    const std::string& n = site.name.text;
    if (n == "forward") {
      if (!site.entry) continue;
      const ForwardPlan& f = server.forwards[*site.entry];
      ImportedCluster to;
      ReadForward(f, site, to);
      if (f.from.Equals(domain_)) {
        // The cluster's own names sent to its kube-dns (where the kubernetes
        // plugin runs elsewhere): those are this cluster's resolvers.
        local_forward_ = to.resolvers;
        local_forward_origin_ = PlanForwardRef{s, *site.entry};
      } else if (f.from.IsRoot()) {
        upstream_ = to.resolvers;
        upstream_origin_ = PlanForwardRef{s, *site.entry};
      } else {
        Warn(site.name.pos, absl::StrCat("forward ", f.from.ToText(), ": only `forward .` (upstream) and `forward ",
                                         domain_.ToText(), "` (this cluster's resolvers) carry over"));
      }
    } else if (std::optional<std::string> own = n == "rewrite" && site.entry
                                                    ? StrippedCluster(server.rewrites[*site.entry])
                                                    : std::nullopt) {
      // The own cluster's label stripped before kubernetes sees the name:
      // meshdns does that for every cluster (contract rule 1), and it names the cluster.
      if (!local_block_) local_block_ = own;
    } else if (n == "kubernetes" && !site.planned) {
      Warn(site.name.pos, absl::StrCat("kubernetes ", domain_.ToText(), ": the cluster's own names stay with its "
                                       "kube-dns; meshdns forwards them to the local cluster's resolvers"));
    } else if (n == "prometheus" && server.prometheus) {
      metrics_ = HttpAddress(*server.prometheus, "9153");
    } else if (n == "health" && server.health) {
      health_ = HttpAddress(*server.health, "8080");
      if (server.lameduck > 0) lameduck_ = server.lameduck;  // its other options: the plan left them out
    } else if (n == "ready" && server.ready) {
      ready_ = HttpAddress(*server.ready, "8181");
    } else if (n == "cache") {
      ReadCache(server, site, CacheOf::kRoot);
    } else if (n != "errors" && (n != "rewrite" || site.entry)) {
      Unmapped(site);
    }
  }
}

// The clusterset zone: its template (contract rule 2) and cache.
void MeshImporter::ReadClustersetBlock(size_t s) {
  const ServerPlan& server = plan_.servers[s];
  clusterset_ = server.keys.front().zone;
  if (!IsHostName(*clusterset_)) {
    Error(server.pos, absl::StrCat("clusterset domain '", clusterset_->ToText(), "' is not a host name"));
  }
  for (const DirectiveSite& site : server.sites) {
    const std::string& n = site.name.text;
    if (n == "template") {
      if (site.entry) ReadTemplate(server.templates[*site.entry], site);
    } else if (n == "cache") {
      ReadCache(server, site, CacheOf::kMesh);
    } else if (n != "errors") {
      Unmapped(site);
    }
  }
}

void MeshImporter::Unmapped(const DirectiveSite& site) {
  static const auto* const kWhy = new std::map<std::string, std::string>{
      {"reload", "meshdns reloads on SIGHUP and whenever its file changes"},
      {"bufsize", "set limits.udp_reply_size in the meshdns YAML; 1232 without it"},
      {"loop", "meshdns never forwards a cluster's names to itself"},
      {"log", "query logging is not available in meshdns yet"},
      {"loadbalance", "meshdns keeps the resolvers' record order"},
      {"health", "set health: in the meshdns YAML"},
      {"ready", "set ready: in the meshdns YAML"},
      {"prometheus", "set metrics: in the meshdns YAML"},
      {"local", "meshdns forwards localhost and the loopback reverse zones like any other name"},
      {"any", "meshdns forwards ANY questions"},
      {"chaos", "meshdns forwards CH questions"},
      {"whoami", "the mesh YAML forwards every name its clusters do not hold"},
  };
  const std::string& n = site.name.text;
  auto it = kWhy->find(n);
  Warn(site.name.pos,
       absl::StrCat(n, ": not carried over", it == kWhy->end() ? "" : absl::StrCat(" (", it->second, ")")));
}

}  // namespace meshdns
