#include "dnscore/cluster_rewrite.h"

#include "dnscore/message.h"

namespace meshdns {

bool ClusterRewrite::Strip(const DnsName& qname, DnsName& out) const {
  if (!qname.IsSubdomainOf(cluster_zone_)) return false;
  return qname.ReplaceSuffix(qname.LabelCount() - cluster_zone_.LabelCount(), svc_zone_, out);
}

bool ClusterRewrite::Restore(const DnsName& name, DnsName& out) const {
  if (!name.IsSubdomainOf(svc_zone_)) return false;
  return name.ReplaceSuffix(name.LabelCount() - svc_zone_.LabelCount(), cluster_zone_, out);
}

namespace {

// Replaces `*rdf` (a domain name) by its restored form when it has one.
void RenameRdf(const ClusterRewrite& rewrite, const ldns_rdf* rdf, auto&& replace) {
  DnsName name, renamed;
  if (RdfToName(rdf, name) && rewrite.Restore(name, renamed)) replace(NameToRdf(renamed).release());
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> ClusterRewrite::RestoreReply(std::span<const uint8_t> reply,
                                                                  const DnsName& client_qname) const {
  absl::StatusOr<PktPtr> pkt = ParseMessage(reply);
  if (!pkt.ok()) return pkt.status();
  ldns_rr_list* question = ldns_pkt_question(pkt->get());
  if (ldns_rr_list_rr_count(question) != 1) return absl::InvalidArgumentError("reply without exactly one question");
  ldns_rr* q = ldns_rr_list_rr(question, 0);
  ldns_rdf_deep_free(ldns_rr_owner(q));
  ldns_rr_set_owner(q, NameToRdf(client_qname).release());

  for (ldns_rr_list* list : {ldns_pkt_answer(pkt->get()), ldns_pkt_authority(pkt->get()), ldns_pkt_additional(pkt->get())}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      RenameRdf(*this, ldns_rr_owner(rr), [rr](ldns_rdf* renamed) {
        ldns_rdf_deep_free(ldns_rr_owner(rr));
        ldns_rr_set_owner(rr, renamed);
      });
      int field = RenamedRdataField(ldns_rr_get_type(rr));
      if (field < 0 || static_cast<size_t>(field) >= ldns_rr_rd_count(rr)) continue;
      RenameRdf(*this, ldns_rr_rdf(rr, field), [rr, field](ldns_rdf* renamed) {
        ldns_rdf_deep_free(ldns_rr_set_rdf(rr, renamed, field));
      });
    }
  }
  return EncodeMessage(pkt->get());
}

}  // namespace meshdns
