#include "dnscore/cluster_rewrite.h"

#include "dnscore/wire_rename.h"

namespace meshdns {

bool ClusterRewrite::Strip(const DnsName& qname, DnsName& out) const {
  if (!qname.IsSubdomainOf(cluster_zone_)) return false;
  return qname.ReplaceSuffix(qname.LabelCount() - cluster_zone_.LabelCount(), svc_zone_, out);
}

bool ClusterRewrite::Restore(const DnsName& name, DnsName& out) const {
  if (!name.IsSubdomainOf(svc_zone_)) return false;
  return name.ReplaceSuffix(name.LabelCount() - svc_zone_.LabelCount(), cluster_zone_, out);
}

absl::StatusOr<std::vector<uint8_t>> ClusterRewrite::RestoreReply(std::span<const uint8_t> reply,
                                                                  const DnsName& client_qname,
                                                                  RenameScratch& scratch) const {
  auto restore = [this](const DnsName& in, DnsName& out) { return Restore(in, out); };
  return RenameReply(reply, client_qname, restore, restore, std::nullopt, scratch);
}

}  // namespace meshdns
