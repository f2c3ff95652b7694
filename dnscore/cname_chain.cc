#include "dnscore/cname_chain.h"

#include "dnscore/wire.h"

namespace meshdns {
namespace {

// Appends every record of `from` to `section` of `to`, with `ttl` if set.
void AppendAll(ldns_pkt* to, ldns_pkt_section section, ldns_rr_list* from, std::optional<uint32_t> ttl) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(from); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(from, i);
    if (ttl) ldns_rr_set_ttl(rr, *ttl);
    AppendRecord(to, section, rr);
  }
}

void AppendAll(ldns_pkt* to, ldns_pkt_section section, const std::vector<RrPtr>& records) {
  for (const RrPtr& rr : records) AppendRecord(to, section, rr.get());
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> CompleteChain(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                                   const ChainStart& start, const StoredReply& target,
                                                   uint32_t target_ttl) {
  absl::StatusOr<PktPtr> end = ParseMessage(target.wire);
  if (!end.ok()) return end.status();
  const std::optional<uint32_t> ttl = target.cacheable ? std::optional<uint32_t>(target_ttl) : std::nullopt;
  PktPtr merged = NewReply(qname, qtype, qclass, kFlagAA | (target.flags() & kFlagRA), target.rcode());
  AppendAll(merged.get(), LDNS_SECTION_ANSWER, start.answer);
  ldns_rr_list* answers = ldns_pkt_answer(end->get());
  AppendAll(merged.get(), LDNS_SECTION_ANSWER, answers, ttl);
  AppendAll(merged.get(), LDNS_SECTION_AUTHORITY, start.authority);
  if (ldns_rr_list_rr_count(answers) == 0) {
    AppendAll(merged.get(), LDNS_SECTION_AUTHORITY, ldns_pkt_authority(end->get()), ttl);
  }
  AppendAll(merged.get(), LDNS_SECTION_ADDITIONAL, start.additional);
  return EncodeMessage(merged.get());
}

}  // namespace meshdns
