#include "dnscore/service_merge.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

DnsName Concat(const DnsName& head, const DnsName& tail) {
  DnsName out;
  (void)head.ReplaceSuffix(head.LabelCount(), tail, out);
  return out;
}

// `<svc>.<ns>.svc.<clusterset>`: the service's name in the clusterset zone.
DnsName ServiceZone(const Mesh& mesh, const ServiceName& name) {
  return NameUnder({name.service, name.ns, "svc"}, mesh.clusterset());
}

// SRV targets point into the cluster that answered; a client must be able to
// follow them through meshdns, so they move into the clusterset zone.
void MoveTargetIntoClusterset(const Mesh& mesh, const ServiceName& name, size_t cluster, ldns_rr* srv) {
  if (ldns_rr_rd_count(srv) < 4) return;
  DnsName target;
  if (!RdfToName(ldns_rr_rdf(srv, 3), target)) return;
  const DnsName in_cluster = NameUnder({name.service, name.ns}, mesh.clusters()[cluster].rewrite.cluster_zone());
  if (!target.IsSubdomainOf(in_cluster)) return;
  DnsName moved;
  const size_t extra = target.LabelCount() - in_cluster.LabelCount();
  if (extra == 0) {
    moved = ServiceZone(mesh, name);
  } else if (extra == 1) {
    moved = NameUnder({target.Label(0), mesh.clusters()[cluster].name}, ServiceZone(mesh, name));
  } else {
    return;
  }
  ldns_rdf_deep_free(ldns_rr_set_rdf(srv, NameToRdf(moved).release(), 3));
}

}  // namespace

DnsName ServiceName::ClusterName(const Mesh& mesh, size_t cluster) const {
  const DnsName& zone = mesh.clusters()[cluster].rewrite.cluster_zone();
  if (IsNamespace()) return NameUnder({ns}, zone);
  return Concat(prefix, NameUnder({service, ns}, zone));
}

std::optional<ServiceName> ParseServiceName(const Mesh& mesh, const DnsName& qname) {
  if (!qname.IsSubdomainOf(mesh.clusterset())) return std::nullopt;
  const size_t k = qname.LabelCount() - mesh.clusterset().LabelCount();
  auto is_svc = [&](size_t i) { return absl::EqualsIgnoreCase(qname.Label(i), "svc"); };
  auto is_underscored = [&](size_t i) { return absl::StartsWith(qname.Label(i), "_"); };
  ServiceName out;
  if (k == 2 && is_svc(1)) {
    out.ns = std::string(qname.Label(0));
  } else if (k == 3 && is_svc(2)) {
    out.service = std::string(qname.Label(0));
    out.ns = std::string(qname.Label(1));
  } else if (k == 5 && is_svc(4) && is_underscored(0) && is_underscored(1)) {
    (void)out.prefix.AppendLabel(qname.Label(0));
    (void)out.prefix.AppendLabel(qname.Label(1));
    out.service = std::string(qname.Label(2));
    out.ns = std::string(qname.Label(3));
  } else {
    return std::nullopt;
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> MergeServiceAnswers(const Mesh& mesh, const ServiceName& name,
                                                        const DnsName& qname, uint16_t qtype,
                                                        std::span<const ClusterPart> parts,
                                                        const MergeOptions& options, const ldns_rr* soa) {
  struct Found {
    size_t cluster;
    std::vector<RrPtr> records;
  };
  std::vector<Found> found;
  bool answered = false, known = false;
  for (const ClusterPart& part : parts) {
    if (!part.reply) continue;
    absl::StatusOr<PktPtr> pkt = ParseMessage(*part.reply);
    if (!pkt.ok()) continue;
    const uint8_t rcode = ldns_pkt_get_rcode(pkt->get());
    if (rcode != kNoError && rcode != kNxDomain) continue;  // SERVFAIL/REFUSED: as if silent
    answered = true;
    if (rcode != kNoError) continue;
    known = true;
    Found f{part.cluster, {}};
    // A namespace has no records of its own in Kubernetes; what it may
    // answer is not a service's.
    if (name.IsNamespace()) continue;
    ldns_rr_list* list = ldns_pkt_answer(pkt->get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(rr) == qtype || (qtype == kTypeANY && ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME)) {
        f.records.emplace_back(ldns_rr_clone(rr));
      }
    }
    found.push_back(std::move(f));
  }
  if (!answered) return absl::UnavailableError("no cluster answered");

  auto has_records = [](const Found& f) { return !f.records.empty(); };
  auto local = std::find_if(found.begin(), found.end(), [&](const Found& f) { return f.cluster == options.local; });
  auto chosen = [&](const Found& f) {
    switch (options.affinity) {
      case Affinity::kAll: return true;
      case Affinity::kRemote: return f.cluster != options.local;
      case Affinity::kLocal:
        // This cluster's endpoints if it has any, else everyone else's.
        return local != found.end() && has_records(*local) ? f.cluster == options.local : f.cluster != options.local;
    }
    return true;
  };

  std::vector<RrPtr> answer;
  std::set<std::string> seen;
  uint32_t ttl = options.ttl_cap;
  for (Found& f : found) {
    if (!chosen(f)) continue;
    for (RrPtr& rr : f.records) {
      ttl = std::min(ttl, ldns_rr_ttl(rr.get()));
      ldns_rdf_deep_free(ldns_rr_owner(rr.get()));
      ldns_rr_set_owner(rr.get(), NameToRdf(qname).release());
      if (ldns_rr_get_type(rr.get()) == LDNS_RR_TYPE_SRV) MoveTargetIntoClusterset(mesh, name, f.cluster, rr.get());
      ldns_rr_set_ttl(rr.get(), 0);
      char* text = ldns_rr2str(rr.get());
      const bool fresh = seen.insert(text ? text : "").second;
      free(text);
      if (fresh) answer.push_back(std::move(rr));
    }
  }
  for (RrPtr& rr : answer) ldns_rr_set_ttl(rr.get(), ttl);

  std::vector<RrPtr> authority;
  uint8_t rcode = kNoError;
  if (answer.empty()) {
    rcode = known ? kNoError : kNxDomain;
    authority.emplace_back(ldns_rr_clone(soa));
  }
  return BuildAuthoritativeReply(qname, qtype, kClassIN, rcode, answer, authority);
}

}  // namespace meshdns
