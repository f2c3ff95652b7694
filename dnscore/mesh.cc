#include "dnscore/mesh.h"

#include "absl/strings/match.h"

namespace meshdns {
namespace {

DnsName Prepend(absl::string_view label, const DnsName& zone) {
  DnsName out;
  (void)out.AppendLabel(label);
  DnsName joined;
  (void)out.ReplaceSuffix(1, zone, joined);
  return joined;
}

}  // namespace

Mesh::Mesh(const DnsName& domain, const DnsName& clusterset, const std::vector<std::string>& clusters, size_t local)
    : domain_(domain.Lowered()), svc_zone_(Prepend("svc", domain_)), clusterset_(clusterset.Lowered()), local_(local) {
  for (const std::string& name : clusters) {
    clusters_.push_back(MeshCluster{name, ClusterRewrite(svc_zone_, Prepend(name, svc_zone_))});
  }
}

std::optional<size_t> Mesh::FindCluster(absl::string_view label) const {
  for (size_t i = 0; i < clusters_.size(); ++i) {
    if (absl::EqualsIgnoreCase(clusters_[i].name, label)) return i;
  }
  return std::nullopt;
}

Route Mesh::RouteName(const DnsName& qname) const {
  if (qname.IsSubdomainOf(clusterset_)) return Route{Route::Kind::kClusterset, 0};
  const size_t labels = qname.LabelCount(), svc_labels = svc_zone_.LabelCount();
  if (labels > svc_labels && qname.IsSubdomainOf(svc_zone_)) {
    // X.C.svc.D: the label right above svc.D names the cluster (rule 1);
    // a label that names no cluster leaves the name to upstream (rule 3).
    if (std::optional<size_t> c = FindCluster(qname.Label(labels - svc_labels - 1))) {
      return Route{Route::Kind::kCluster, *c};
    }
  }
  return Route{Route::Kind::kUpstream, 0};
}

}  // namespace meshdns
