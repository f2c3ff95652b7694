#include "dnscore/template_handler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

// The longest of `zones` that holds `name`, or null.
const DnsName* LongestZone(const std::vector<DnsName>& zones, const DnsName& name) {
  const DnsName* best = nullptr;
  for (const DnsName& z : zones) {
    if (name.IsSubdomainOf(z) && (!best || z.LabelCount() > best->LabelCount())) best = &z;
  }
  return best;
}

}  // namespace

std::vector<uint8_t> EncodeExtendedError(const ExtendedError& e) {
  std::vector<uint8_t> out(6 + e.reason.size());
  WriteU16(&out[0], kOptionEde);
  WriteU16(&out[2], static_cast<uint16_t>(2 + e.reason.size()));
  WriteU16(&out[4], e.code);
  std::copy(e.reason.begin(), e.reason.end(), out.begin() + 6);
  return out;
}

absl::StatusOr<TemplateHandler> TemplateHandler::Compile(std::vector<TemplateRule> rules) {
  TemplateHandler out;
  for (TemplateRule& rule : rules) {
    Compiled c;
    std::vector<std::string> lines = rule.answer;
    lines.insert(lines.end(), rule.additional.begin(), rule.additional.end());
    lines.insert(lines.end(), rule.authority.begin(), rule.authority.end());
    const std::vector<std::string> regexes = rule.match.empty() ? std::vector<std::string>{".*"} : rule.match;
    for (const std::string& re : regexes) {
      absl::StatusOr<std::shared_ptr<const Template>> t = Template::Compile(re, lines);
      if (!t.ok()) return t.status();
      c.regexes.push_back(*std::move(t));
    }
    if (rule.ederror) {
      if (rule.ederror->reason.size() > kMaxExtendedErrorText) {
        return absl::InvalidArgumentError(absl::StrCat("ederror: the reason is longer than ", kMaxExtendedErrorText,
                                                       " bytes"));
      }
      c.ede = std::make_shared<const std::vector<uint8_t>>(EncodeExtendedError(*rule.ederror));
    }
    c.rule = std::move(rule);
    out.templates_.push_back(std::move(c));
  }
  return out;
}

TemplateOutcome TemplateHandler::Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const {
  TemplateOutcome out;
  if (templates_.empty()) return out;  // most blocks: nothing to render, nothing to allocate
  const std::string lower = qname.Lowered().ToText();
  for (const Compiled& c : templates_) {
    const TemplateRule& rule = c.rule;
    const DnsName* zone = LongestZone(rule.zones, qname);
    // Zone, class and type mismatches always pass on, whatever `fallthrough` says.
    if (!zone) continue;
    if (rule.qclass != kClassANY && qclass != kClassANY && rule.qclass != qclass) continue;
    if (rule.qtype != kTypeANY && qtype != kTypeANY && rule.qtype != qtype) continue;
    const Template* matched = nullptr;
    TemplateMatch m;
    for (const auto& t : c.regexes) {
      if (t->Match(lower, m)) {
        matched = t.get();
        break;
      }
    }
    if (!matched) {
      const bool falls = rule.fallthrough &&
                         (rule.fallthrough->empty() || LongestZone(*rule.fallthrough, qname) != nullptr);
      if (falls) continue;
      out.kind = TemplateOutcome::Kind::kServFail;
      return out;
    }
    if (rule.rcode == kServFail) {
      out.kind = TemplateOutcome::Kind::kServFail;
      return out;
    }
    const std::string zone_text = zone->Lowered().ToText();
    // A question of class or type ANY shows the template's own in .Class and .Type.
    const std::string class_text = ClassMnemonic(qclass == kClassANY ? rule.qclass : qclass);
    const std::string type_text = TypeMnemonic(qtype == kTypeANY ? rule.qtype : qtype);
    absl::StatusOr<std::vector<RrPtr>> records = matched->Render(m, TemplateData{lower, zone_text, class_text, type_text});
    if (!records.ok()) {
      out.kind = TemplateOutcome::Kind::kServFail;  // as CoreDNS does when a rendered record does not parse
      return out;
    }
    const size_t answers = rule.answer.size(), additional = rule.additional.size();
    for (size_t i = 0; i < records->size(); ++i) {
      std::vector<RrPtr>& into = i < answers ? out.answer : i < answers + additional ? out.additional : out.authority;
      into.push_back(std::move((*records)[i]));
    }
    out.kind = TemplateOutcome::Kind::kAnswer;
    out.rcode = rule.rcode;
    out.ede = c.ede;
    if (std::optional<absl::string_view> cluster = matched->Group(m, "cluster")) out.cluster = std::string(*cluster);
    if (!out.answer.empty() && qtype != kTypeCNAME && qtype != kTypeANY) {
      const ldns_rr* last = out.answer.back().get();
      DnsName target;
      if (ldns_rr_get_type(last) == LDNS_RR_TYPE_CNAME && RdfToName(ldns_rr_rdf(last, 0), target)) out.chase = target;
    }
    return out;
  }
  return out;
}

}  // namespace meshdns
