#include "config/import/importer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "config/yaml_reader.h"

namespace meshdns {
namespace {

// kube-dns's ClusterIP on kind and kubeadm clusters; the Corefile does not
// say it (CoreDNS *is* kube-dns), so the import says it guessed.
constexpr const char* kDefaultKubeDns = "10.96.0.10:53";

}  // namespace

// A domain the YAML's reader takes: host-name labels only, as the default
// template writes it into answer text that must read back as the same name.
bool IsHostName(const DnsName& name) {
  for (size_t i = 0; i < name.LabelCount(); ++i) {
    if (!IsDnsLabel(name.Label(i))) return false;
  }
  return !name.IsRoot();
}

MeshImport MeshImporter::Run() {
  FindDomain();
  for (size_t s = 0; s < plan_.servers.size(); ++s) ReadServer(s);
  ChooseLocalCluster();
  if (result_.errors.empty()) result_.mesh = Mesh();
  return std::move(result_);
}

void MeshImporter::Warn(const SourcePos& pos, std::string message) {
  result_.warnings.push_back(pos.Error(std::move(message)));
}

void MeshImporter::Error(const SourcePos& pos, std::string message) {
  result_.errors.push_back(pos.Error(std::move(message)));
}

// What is said of the file as a whole is said at its start.
SourcePos MeshImporter::FileStart() const {
  return SourcePos{plan_.servers.empty() ? "" : plan_.servers.front().pos.file, 1, 1};
}

// The cluster domain: the kubernetes plugin's zone, else cluster.local.
// meshdns does not run kubernetes, so no parser read its zones: they are
// the one thing the import takes from a directive as written.
void MeshImporter::FindDomain() {
  domain_ = *DnsName::FromText("cluster.local");
  for (const ServerPlan& server : plan_.servers) {
    for (const DirectiveSite& site : server.sites) {
      if (site.planned || site.name.text != "kubernetes") continue;
      for (const CorefileToken& zone : site.args) {
        if (absl::EndsWith(absl::StripSuffix(zone.text, "."), ".arpa")) continue;
        if (absl::StatusOr<DnsName> n = DnsName::FromText(zone.text); n.ok()) {
          domain_ = n->Lowered();
          if (!IsHostName(domain_)) Error(zone.pos, absl::StrCat("cluster domain '", zone.text, "' is not a host name"));
          return;
        }
      }
    }
  }
}

// "<c>" when `zone` is <c>.svc.<domain>.
std::optional<std::string> MeshImporter::ClusterOfZone(const DnsName& zone) const {
  if (zone.LabelCount() != domain_.LabelCount() + 2 || !zone.IsSubdomainOf(domain_)) return std::nullopt;
  if (!absl::EqualsIgnoreCase(zone.Label(1), "svc")) return std::nullopt;
  return absl::AsciiStrToLower(zone.Label(0));
}

// The cluster whose label `rewrite name substring|suffix <c>.svc.D svc.D`
// strips, if the rule is one of those.
std::optional<std::string> MeshImporter::StrippedCluster(const RewriteRule& rule) const {
  if (rule.field != RewriteRule::Field::kName) return std::nullopt;
  if (rule.match != RewriteRule::Match::kSubstring && rule.match != RewriteRule::Match::kSuffix) return std::nullopt;
  absl::StatusOr<DnsName> from = DnsName::FromText(rule.from);
  absl::StatusOr<DnsName> to = DnsName::FromText(rule.to);
  if (!from.ok() || !to.ok() || to->LabelCount() != domain_.LabelCount() + 1 || !to->IsSubdomainOf(domain_) ||
      !absl::EqualsIgnoreCase(to->Label(0), "svc")) {
    return std::nullopt;
  }
  return ClusterOfZone(*from);
}

void MeshImporter::ReadServer(size_t s) {
  const ServerPlan& server = plan_.servers[s];
  for (const CorefileKey& key : server.keys) {
    if (key.port != 53) {
      Warn(key.pos, absl::StrCat("port ", key.port, " of ", key.zone.ToText(),
                                 ": meshdns listens where `listen` says (default 0.0.0.0:53)"));
    }
  }
  for (const DirectiveSite& site : server.sites) {
    if (site.name.text == "bind") {
      Warn(site.name.pos, "bind: a mesh YAML has no server blocks to bind; meshdns listens where `listen` says");
    }
  }
  if (server.keys.empty()) return;
  const DnsName& zone = server.keys.front().zone;
  const bool has_template = std::any_of(server.sites.begin(), server.sites.end(),
                                        [](const DirectiveSite& site) { return site.name.text == "template"; });
  if (std::optional<std::string> cluster = ClusterOfZone(zone)) {
    ReadClusterBlock(s, *cluster);
  } else if (zone.IsRoot()) {
    ReadRootBlock(s);
  } else if (has_template) {
    ReadClustersetBlock(s);
  } else {
    Warn(server.pos, absl::StrCat("server block ", zone.ToText(),
                                  " is neither a cluster's zone, the root nor a template zone: not carried over"));
  }
}

void MeshImporter::ChooseLocalCluster() {
  if (options_.cluster) {
    local_ = absl::AsciiStrToLower(*options_.cluster);
    if (!IsDnsLabel(local_)) return Error(FileStart(), absl::StrCat("cluster '", local_, "' is not a DNS label"));
  } else if (local_block_) {
    local_ = *local_block_;
  } else {
    // Peers named <prefix><n>: this Corefile's cluster is the one number missing.
    std::string prefix;
    std::vector<int> numbers;
    for (const ImportedCluster& p : peers_) {
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
  local_origin_ = LocalOrigin();
  for (const ImportedCluster& p : peers_) {
    if (p.name == local_) local_resolvers_ = p.resolvers;
  }
  if (local_resolvers_.empty()) local_resolvers_ = local_forward_;
  if (local_resolvers_.empty()) {
    local_resolvers_ = {ForwardTo{.addresses = {*SocketAddress::Parse(kDefaultKubeDns)}}};
    Warn(FileStart(), absl::StrCat("cluster ", local_, "'s resolvers are its kube-dns, which the Corefile does not name: ",
                                   kDefaultKubeDns, " assumed; check `kubectl -n kube-system get svc kube-dns`"));
  }
}

// Where the own cluster's names go when meshdns serves this Corefile: its
// own block's forward; else the block whose zone is the longest to hold
// them: the root's `forward <domain>` or (meshdns does not run kubernetes)
// its `forward .`, or another block's first forward that takes them.
std::optional<PlanForwardRef> MeshImporter::LocalOrigin() const {
  for (const auto& [cluster, origin] : block_forwards_) {
    if (cluster == local_) return origin;
  }
  absl::StatusOr<DnsName> names = DnsName::FromText(absl::StrCat(local_, ".svc.", domain_.ToText()));
  if (!names.ok()) return std::nullopt;
  std::optional<size_t> best;
  size_t best_labels = 0;
  for (size_t s = 0; s < plan_.servers.size(); ++s) {
    for (const CorefileKey& key : plan_.servers[s].keys) {
      if (names->IsSubdomainOf(key.zone) && (!best || key.zone.LabelCount() > best_labels)) {
        best = s;
        best_labels = key.zone.LabelCount();
      }
    }
  }
  if (!best) return std::nullopt;
  if (best_labels == 0) return local_forward_origin_ ? local_forward_origin_ : upstream_origin_;
  const std::vector<ForwardPlan>& forwards = plan_.servers[*best].forwards;
  for (size_t f = 0; f < forwards.size(); ++f) {
    if (names->IsSubdomainOf(forwards[f].from)) return PlanForwardRef{*best, f};
  }
  return std::nullopt;
}

void MeshImporter::NoLocal() { Error(FileStart(), "cannot tell which cluster this Corefile belongs to: pass --cluster NAME"); }

ImportedMesh MeshImporter::Mesh() const {
  ImportedMesh m;
  m.cluster = local_;
  m.domain = domain_;
  m.clusterset_domain = clusterset_;
  m.clusters.push_back(ImportedCluster{.name = local_, .resolvers = local_resolvers_, .origin = local_origin_});
  for (const ImportedCluster& p : peers_) {
    if (p.name != local_) m.clusters.push_back(p);
  }
  m.upstream = upstream_;
  m.expire = expire_;
  m.health_check = health_check_;
  m.max_fails = max_fails_;
  // The mesh blocks' cache is the one meshdns keeps; the root's only without them.
  m.cache_max_ttl = mesh_cache_ ? mesh_cache_ : root_cache_;
  m.templates = templates_;
  m.inflight = inflight_;
  m.metrics = metrics_;
  m.health = health_;
  m.ready = ready_;
  m.lameduck = lameduck_;
  return m;
}

MeshImport ImportMesh(const CorefilePlan& plan, const ImportOptions& options) {
  return MeshImporter(plan, options).Run();
}

}  // namespace meshdns
