// template CLASS TYPE [ZONE…] { match … answer … additional … authority …
// rcode … ederror … fallthrough … upstream }, checked to render with meshdns's engine.
#include "config/plugins/registry.h"
// ldns after the C++ headers: its common.h may define `bool`.
#include <ldns/ldns.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "dnscore/template.h"

namespace meshdns {
namespace {

std::optional<uint16_t> Class(absl::string_view text) {
  const std::string cls = absl::AsciiStrToUpper(text);
  if (cls == "ANY") return 255;
  if (cls == "IN") return 1;
  if (cls == "CH" || cls == "CHAOS") return 3;
  if (cls == "HS") return 4;
  return std::nullopt;
}

void Rcode(const CorefileDirective& line, PlanContext& context, TemplateRule& t) {
  if (line.args.size() != 1) return context.Error(line.name.pos, "rcode needs one code");
  static const std::pair<const char*, uint8_t> kCodes[] = {{"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2},
                                                           {"NXDOMAIN", 3}, {"NOTIMP", 4}, {"REFUSED", 5}};
  bool known = false;
  for (const auto& [name, code] : kCodes) {
    if (absl::EqualsIgnoreCase(line.args[0].text, name)) {
      t.rcode = code;
      known = true;
    }
  }
  if (!known) context.Error(line.args[0].pos, absl::StrCat("rcode: '", line.args[0].text, "' is not a response code"));
}

// ederror CODE [REASON]: any 16-bit INFO-CODE, as CoreDNS takes it (RFC 8914
// defines 0-24 but leaves the rest to IANA).
void Ederror(const CorefileDirective& line, PlanContext& context, TemplateRule& t) {
  if (line.args.empty() || line.args.size() > 2) return context.Error(line.name.pos, "ederror needs CODE [REASON]");
  uint32_t code = 0;
  const std::string& text = line.args[0].text;
  if (text.find_first_not_of("0123456789") != std::string::npos || !absl::SimpleAtoi(text, &code) || code > 0xffff) {
    return context.Error(line.args[0].pos,
                         absl::StrCat("ederror: '", line.args[0].text, "' is not an extended error code (0-65535)"));
  }
  ExtendedError e{static_cast<uint16_t>(code), line.args.size() == 2 ? line.args[1].text : ""};
  if (e.reason.size() > kMaxExtendedErrorText) {
    return context.Error(line.args[1].pos, absl::StrCat("ederror: the reason is longer than ", kMaxExtendedErrorText,
                                                        " bytes, more than meshdns keeps room for"));
  }
  t.ederror = std::move(e);
}

void Option(const CorefileDirective& line, PlanContext& context, TemplateRule& t) {
  const std::string& o = line.name.text;
  if (o == "match") {
    if (line.args.empty()) context.Error(line.name.pos, "match needs at least one regex");
    for (const CorefileToken& re : line.args) {
      if (context.Regex(re)) t.match.push_back(re.text);
    }
  } else if (o == "answer" || o == "additional" || o == "authority") {
    if (line.args.empty()) context.Error(line.name.pos, absl::StrCat(o, " needs at least one record template"));
    std::vector<std::string>& into = o == "answer" ? t.answer : o == "additional" ? t.additional : t.authority;
    for (const CorefileToken& rr : line.args) into.push_back(rr.text);
  } else if (o == "rcode") {
    Rcode(line, context, t);
  } else if (o == "ederror") {
    Ederror(line, context, t);
  } else if (o == "fallthrough") {
    t.fallthrough = context.Zones(line.args);
  } else if (o == "upstream") {
    // Accepted and ignored by CoreDNS since 1.6; meshdns always chases CNAME targets itself.
  } else {
    context.Unsupported(line.name.pos, absl::StrCat("template: option ", o, " is not supported"));
  }
}

// Every answer must be renderable by meshdns's template engine for every
// regex it may follow: actions it does not know, or groups a regex lacks,
// are errors now rather than broken answers later.
void CheckRendering(const CorefileDirective& d, PlanContext& context, const TemplateRule& t) {
  std::vector<std::string> records = t.answer;
  records.insert(records.end(), t.additional.begin(), t.additional.end());
  records.insert(records.end(), t.authority.begin(), t.authority.end());
  if (records.empty()) return;
  const std::vector<std::string> regexes = t.match.empty() ? std::vector<std::string>{".*"} : t.match;
  for (const std::string& re : regexes) {
    absl::StatusOr<std::shared_ptr<const Template>> compiled = Template::Compile(re, records);
    if (!compiled.ok()) return context.Error(d.name.pos, absl::StrCat("template: ", compiled.status().message()));
  }
}

}  // namespace

void PlanTemplate(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  TemplateRule t;
  if (d.args.size() < 2) return context.Error(d.name.pos, "template needs CLASS and TYPE");
  std::optional<uint16_t> cls = Class(d.args[0].text);
  if (!cls) {
    return context.Error(d.args[0].pos,
                         absl::StrCat("template: '", d.args[0].text, "' is not a class (IN, CH, HS, ANY)"));
  }
  t.qclass = *cls;
  const std::string type = absl::AsciiStrToUpper(d.args[1].text);
  if (type == "ANY") {
    t.qtype = 255;
  } else {
    t.qtype = ldns_get_rr_type_by_name(type.c_str());
    if (t.qtype == 0) return context.Error(d.args[1].pos, absl::StrCat("template: '", d.args[1].text, "' is not a type"));
  }
  t.zones = d.args.size() > 2 ? context.Zones(Tokens(d.args).subspan(2)) : context.block_zones();
  for (const CorefileDirective& line : d.block) Option(line, context, t);
  CheckRendering(d, context, t);
  plan.templates.push_back(std::move(t));
}

}  // namespace meshdns
