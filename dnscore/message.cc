#include "dnscore/message.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "dnscore/wire.h"

namespace meshdns {

absl::StatusOr<PktPtr> ParseMessage(std::span<const uint8_t> wire) {
  ldns_pkt* pkt = nullptr;
  ldns_status s = ldns_wire2pkt(&pkt, wire.data(), wire.size());
  if (s != LDNS_STATUS_OK) return absl::InvalidArgumentError(absl::StrCat("malformed message: ", ldns_get_errorstr_by_id(s)));
  return PktPtr(pkt);
}

absl::StatusOr<std::vector<uint8_t>> EncodeMessage(const ldns_pkt* pkt) {
  uint8_t* data = nullptr;
  size_t size = 0;
  ldns_status s = ldns_pkt2wire(&data, pkt, &size);
  if (s != LDNS_STATUS_OK) return absl::InternalError(absl::StrCat("cannot encode message: ", ldns_get_errorstr_by_id(s)));
  std::vector<uint8_t> out(data, data + size);
  std::free(data);
  if (out.size() > kMaxMessageSize) return absl::ResourceExhaustedError("message larger than 65535 bytes");
  return out;
}

absl::StatusOr<RrPtr> ParseRecord(absl::string_view text) {
  std::string line(text);
  ldns_rr* rr = nullptr;
  ldns_rdf* origin = ldns_dname_new_frm_str(".");
  uint32_t default_ttl = 3600;
  ldns_status s = ldns_rr_new_frm_str(&rr, line.c_str(), default_ttl, origin, nullptr);
  ldns_rdf_deep_free(origin);
  if (s != LDNS_STATUS_OK) {
    return absl::InvalidArgumentError(absl::StrCat("bad record '", text, "': ", ldns_get_errorstr_by_id(s)));
  }
  return RrPtr(rr);
}

RdfPtr NameToRdf(const DnsName& name) {
  auto wire = name.Wire();
  return RdfPtr(ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, wire.size(), wire.data()));
}

bool RdfToName(const ldns_rdf* rdf, DnsName& out) {
  if (rdf == nullptr || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) return false;
  WireReader r(std::span<const uint8_t>(ldns_rdf_data(rdf), ldns_rdf_size(rdf)));
  return r.UncompressedName(out);
}

PktPtr NewReply(const DnsName& qname, uint16_t qtype, uint16_t qclass, uint16_t flags, uint8_t rcode) {
  PktPtr pkt(ldns_pkt_new());
  ldns_pkt_set_flags(pkt.get(), 0);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_aa(pkt.get(), flags & kFlagAA);
  ldns_pkt_set_ra(pkt.get(), flags & kFlagRA);
  ldns_pkt_set_rd(pkt.get(), flags & kFlagRD);
  ldns_pkt_set_cd(pkt.get(), flags & kFlagCD);
  ldns_pkt_set_rcode(pkt.get(), rcode);
  ldns_rr* q = ldns_rr_new();
  ldns_rr_set_owner(q, NameToRdf(qname).release());
  ldns_rr_set_type(q, static_cast<ldns_rr_type>(qtype));
  ldns_rr_set_class(q, static_cast<ldns_rr_class>(qclass));
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_QUESTION, q);
  return pkt;
}

void AppendRecord(ldns_pkt* pkt, ldns_pkt_section section, const ldns_rr* rr) {
  ldns_pkt_push_rr(pkt, section, ldns_rr_clone(rr));
}

std::string TypeMnemonic(uint16_t type) {
  const ldns_rr_descriptor* d = ldns_rr_descript(type);
  return d && d->_name ? std::string(d->_name) : "TYPE" + std::to_string(type);
}

const char* TypeName(uint16_t type) {
  const ldns_rr_descriptor* d = ldns_rr_descript(type);
  return d != nullptr ? d->_name : nullptr;
}

std::string ClassMnemonic(uint16_t qclass) {
  char* text = ldns_rr_class2str(static_cast<ldns_rr_class>(qclass));
  std::string out = text != nullptr ? text : "CLASS" + std::to_string(qclass);
  std::free(text);
  return out;
}

const char* LdnsVersion() { return ldns_version(); }

}  // namespace meshdns
