// Mesh: which part of the name space a question belongs to (contract section
// 4): one cluster's zone (rule 1), the clusterset zone (rules 2-4), or the
// rest (rule 5). Built once per configuration; immutable and thread-safe.
#pragma once

#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "dnscore/cluster_rewrite.h"
#include "dnscore/dns_name.h"

namespace meshdns {

struct MeshCluster {
  std::string name;     // a DNS label, lower case
  ClusterRewrite rewrite;
};

struct Route {
  enum class Kind { kCluster, kClusterset, kUpstream };
  Kind kind = Kind::kUpstream;
  size_t cluster = 0;  // with kCluster
};

class Mesh {
 public:
  Mesh(const DnsName& domain, const DnsName& clusterset, const std::vector<std::string>& clusters, size_t local);

  Route RouteName(const DnsName& qname) const;
  std::optional<size_t> FindCluster(absl::string_view label) const;  // case-insensitive

  const DnsName& domain() const { return domain_; }
  const DnsName& svc_zone() const { return svc_zone_; }
  const DnsName& clusterset() const { return clusterset_; }
  const std::vector<MeshCluster>& clusters() const { return clusters_; }
  size_t local() const { return local_; }

 private:
  DnsName domain_, svc_zone_, clusterset_;
  std::vector<MeshCluster> clusters_;
  size_t local_;
};

}  // namespace meshdns
