#include "dnscore/cname_target.h"

#include "dnscore/wire.h"

namespace meshdns {
namespace {

bool IsCname(const ldns_rr* rr) { return ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME; }

std::optional<DnsName> Target(const ldns_rr* rr) {
  DnsName name;
  if (!IsCname(rr) || !RdfToName(ldns_rr_rdf(rr, 0), name)) return std::nullopt;
  return name;
}

// The section's records, each as it stands in the parsed reply.
void Offer(const ldns_rr_list* list, std::vector<const ldns_rr*>& out) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) out.push_back(ldns_rr_list_rr(list, i));
}

}  // namespace

absl::StatusOr<CnameTargetRewrite> CnameTargetRewrite::Begin(std::span<const RewriteRule* const> rules,
                                                             std::span<const uint8_t> reply) {
  absl::StatusOr<PktPtr> pkt = ParseMessage(reply);
  if (!pkt.ok()) return pkt.status();
  CnameTargetRewrite r;
  r.rules_.assign(rules.begin(), rules.end());
  r.reply_ = *std::move(pkt);
  r.truncated_ = ldns_pkt_tc(r.reply_.get());
  const ldns_rr_list* answer = ldns_pkt_answer(r.reply_.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answer); ++i) {
    r.answer_records_.emplace_back(ldns_rr_clone(ldns_rr_list_rr(answer, i)));
    r.answer_.push_back(i);
  }
  std::vector<const ldns_rr*> authority, additional;
  Offer(ldns_pkt_authority(r.reply_.get()), authority);
  Offer(ldns_pkt_additional(r.reply_.get()), additional);
  for (const ldns_rr* rr : authority) r.offered_.push_back(Offered{.fixed = rr});
  for (size_t i = 0; i < r.answer_records_.size(); ++i) r.offered_.push_back(Offered{.slot = i});
  for (const ldns_rr* rr : additional) r.offered_.push_back(Offered{.fixed = rr});
  return r;
}

CnameTargetStep CnameTargetRewrite::Next() {
  from_.reset();
  for (; next_record_ < offered_.size(); ++next_record_, next_rule_ = 0) {
    const ldns_rr* rr = Record(offered_[next_record_]);
    if (!IsCname(rr)) continue;
    while (next_rule_ < rules_.size()) {
      const RewriteRule& rule = *rules_[rules_.size() - 1 - next_rule_++];
      // Read again for each rule: a lookup for an earlier rule may have
      // retargeted this very record.
      const std::optional<DnsName> target = Target(rr);
      if (!target) break;
      // Matched in lower case, as DNS names compare (CoreDNS compares the
      // target as the reply wrote it with its lower-cased FROM).
      const std::optional<std::string> to = RewriteText(rule, target->Lowered().ToText());
      if (!to) continue;
      absl::StatusOr<DnsName> name = DnsName::FromText(*to);
      // Not a domain name: CoreDNS's lookup of it fails and nothing changes.
      if (!name.ok()) continue;
      from_ = *target;
      to_ = *std::move(name);
      ++lookups_;
      return CnameTargetStep{.kind = CnameTargetStep::Kind::kLookup, .target = to_};
    }
  }
  return CnameTargetStep{};
}

void CnameTargetRewrite::Looked(std::span<const RrPtr> answer, bool truncated) {
  if (!from_) return;
  std::vector<size_t> now;
  for (const size_t slot : answer_) {
    ldns_rr* rr = answer_records_[slot].get();
    const std::optional<DnsName> target = Target(rr);
    if (!target) continue;
    now.push_back(slot);
    if (target->Equals(*from_)) {
      ldns_rdf_deep_free(ldns_rr_set_rdf(rr, NameToRdf(to_).release(), 0));
      break;
    }
  }
  for (const RrPtr& rr : answer) {
    answer_records_.emplace_back(ldns_rr_clone(rr.get()));
    now.push_back(answer_records_.size() - 1);
  }
  answer_ = std::move(now);
  truncated_ = truncated;
  from_.reset();
}

absl::Status CnameTargetRewrite::Looked(std::span<const uint8_t> reply) {
  absl::StatusOr<PktPtr> pkt = ParseMessage(reply);
  if (!pkt.ok()) return pkt.status();
  const ldns_rr_list* list = ldns_pkt_answer(pkt->get());
  std::vector<RrPtr> answer;
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) answer.emplace_back(ldns_rr_clone(ldns_rr_list_rr(list, i)));
  Looked(answer, ldns_pkt_tc(pkt->get()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> CnameTargetRewrite::Reply() const {
  PktPtr out(ldns_pkt_clone(reply_.get()));
  ldns_rr_list* answer = ldns_rr_list_new();
  for (const size_t slot : answer_) ldns_rr_list_push_rr(answer, ldns_rr_clone(answer_records_[slot].get()));
  ldns_rr_list_deep_free(ldns_pkt_answer(out.get()));
  ldns_pkt_set_answer(out.get(), answer);
  ldns_pkt_set_ancount(out.get(), static_cast<uint16_t>(answer_.size()));
  ldns_pkt_set_tc(out.get(), truncated_);
  return EncodeMessage(out.get());
}

}  // namespace meshdns
