#include "dnscore/clusterset_zone.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dnscore/wire.h"

namespace meshdns {

DnsName NameUnder(std::initializer_list<absl::string_view> labels, const DnsName& zone) {
  DnsName head;
  for (absl::string_view l : labels) (void)head.AppendLabel(l);
  DnsName out;
  (void)head.ReplaceSuffix(head.LabelCount(), zone, out);
  return out;
}

ClustersetZone::ClustersetZone(const Mesh& mesh, std::vector<std::shared_ptr<const Template>> templates,
                               uint32_t negative_ttl)
    : mesh_(mesh), templates_(std::move(templates)), zone_text_(mesh.clusterset().ToText()),
      version_name_(NameUnder({"dns-version"}, mesh.clusterset())),
      empty_names_{NameUnder({"svc"}, mesh.clusterset()), NameUnder({"dns"}, mesh.clusterset()),
                   NameUnder({"ns", "dns"}, mesh.clusterset())},
      negative_ttl_(negative_ttl) {}

RrPtr ClustersetZone::Soa() const {
  // The shape CoreDNS's kubernetes plugin gives its zones; MINIMUM bounds
  // how long resolvers may cache our NXDOMAINs.
  std::string text = absl::StrCat(zone_text_, " ", negative_ttl_, " IN SOA ns.dns.", zone_text_, " hostmaster.",
                                   zone_text_, " 1 7200 1800 86400 ", negative_ttl_);
  return *ParseRecord(text);
}

RrPtr ClustersetZone::Ns() const {
  // Nothing delegates to this zone (CoreDNS forwards it to meshdns), and
  // meshdns cannot know the address clients reach it by (a NodePort, a
  // Service IP): ns.dns.S exists, without addresses.
  return *ParseRecord(absl::StrCat(zone_text_, " ", negative_ttl_, " IN NS ns.dns.", zone_text_));
}

bool ClustersetZone::IsEmptyName(const DnsName& qname) const {
  return std::any_of(empty_names_.begin(), empty_names_.end(), [&](const DnsName& n) { return qname.Equals(n); });
}

ClustersetOutcome ClustersetZone::Apex(uint16_t qtype) const {
  ClustersetOutcome out;
  out.matched = true;
  if (qtype == kTypeSOA || qtype == kTypeANY) out.answer.push_back(Soa());
  if (qtype == kTypeNS || qtype == kTypeANY) out.answer.push_back(Ns());
  if (out.answer.empty()) out.authority.push_back(Soa());  // NODATA
  return out;
}

absl::StatusOr<ClustersetOutcome> ClustersetZone::Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const {
  ClustersetOutcome out;
  const bool any_class = qclass == kClassANY;
  if (qclass == kClassIN || any_class) {
    if (qname.Equals(version_name_)) {
      out.matched = true;
      if (qtype == kTypeTXT || qtype == kTypeANY) {
        // KEP-1645 schema version record.
        out.answer.push_back(*ParseRecord(absl::StrCat(version_name_.ToText(), " 28800 IN TXT \"1.0.0\"")));
      } else {
        out.authority.push_back(Soa());
      }
      return out;
    }
    if (qname.Equals(mesh_.clusterset())) return Apex(qtype);
    if (IsEmptyName(qname)) {
      out.matched = true;
      out.authority.push_back(Soa());
      return out;
    }
    const std::string lower = qname.Lowered().ToText();
    const std::string type_name = TypeMnemonic(qtype);
    for (const auto& t : templates_) {
      TemplateMatch m;
      if (!t->Match(lower, m)) continue;
      // Rule 3: a host name naming a cluster outside the mesh cannot exist.
      if (std::optional<absl::string_view> cluster = t->Group(m, "cluster"); cluster && !mesh_.FindCluster(*cluster)) {
        continue;
      }
      absl::StatusOr<std::vector<RrPtr>> records =
          t->Render(m, TemplateData{lower, zone_text_, "IN", type_name});
      if (!records.ok()) return records.status();
      out.answer = *std::move(records);
      out.matched = true;
      if (!out.answer.empty() && qtype != kTypeCNAME && qtype != kTypeANY) {
        const ldns_rr* last = out.answer.back().get();
        DnsName target;
        if (ldns_rr_get_type(last) == LDNS_RR_TYPE_CNAME && RdfToName(ldns_rr_rdf(last, 0), target)) {
          out.chase = target;
        }
      }
      return out;
    }
  }
  out.rcode = kNxDomain;
  out.authority.push_back(Soa());
  return out;
}

absl::StatusOr<std::vector<uint8_t>> BuildAuthoritativeReply(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                                             uint8_t rcode, const std::vector<RrPtr>& answer,
                                                             const std::vector<RrPtr>& authority,
                                                             const std::vector<RrPtr>& additional) {
  PktPtr pkt = NewReply(qname, qtype, qclass, kFlagAA, rcode);
  for (const RrPtr& rr : answer) AppendRecord(pkt.get(), LDNS_SECTION_ANSWER, rr.get());
  for (const RrPtr& rr : authority) AppendRecord(pkt.get(), LDNS_SECTION_AUTHORITY, rr.get());
  for (const RrPtr& rr : additional) AppendRecord(pkt.get(), LDNS_SECTION_ADDITIONAL, rr.get());
  return EncodeMessage(pkt.get());
}

}  // namespace meshdns
