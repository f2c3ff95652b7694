// Contract rule 1, both directions: a name X.<cluster>.svc.<domain> is asked
// of the cluster's resolvers as X.svc.<domain>, and in their reply every owner
// and RDATA name under svc.<domain> gets the cluster label back (CoreDNS's
// `rewrite name suffix … answer auto`, extended to SRV/MX/NS/PTR/NAPTR/SOA targets).
// The reply is rewritten on the wire (every miss to a cluster pays for it):
// names are read through their compression pointers, renamed, and written
// compressed again; RDATA without names is copied as it is.
// Pure functions over one cluster's zones; stateless and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/wire_rename.h"

namespace meshdns {

class ClusterRewrite {
 public:
  // svc_zone: svc.<domain>; cluster_zone: <cluster>.svc.<domain>.
  ClusterRewrite(DnsName svc_zone, DnsName cluster_zone)
      : svc_zone_(std::move(svc_zone)), cluster_zone_(std::move(cluster_zone)) {}

  // The name the cluster's resolvers are asked for, or false if `qname` is
  // not under the cluster's zone.
  [[nodiscard]] bool Strip(const DnsName& qname, DnsName& out) const;
  // `name` moved from svc.<domain> to <cluster>.svc.<domain>; false if it is
  // not under svc.<domain> or would grow too long.
  [[nodiscard]] bool Restore(const DnsName& name, DnsName& out) const;
  // The cluster's reply, renamed back, with the client's question in it.
  absl::StatusOr<std::vector<uint8_t>> RestoreReply(std::span<const uint8_t> reply, const DnsName& client_qname,
                                                    RenameScratch& scratch) const;

  const DnsName& cluster_zone() const { return cluster_zone_; }

 private:
  DnsName svc_zone_;
  DnsName cluster_zone_;
};

}  // namespace meshdns
