// acl [ZONES…] { allow|block|filter|drop [type QTYPE…] [net SOURCE…] }, read
// as CoreDNS's plugin/acl/setup.go reads it. Nothing in it is left out: an
// acl meshdns could not honour would open the server, so every problem is an
// error, with --ignore-unsupported too.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "config/plugins/registry.h"
#include "dnscore/message.h"

namespace meshdns {
namespace {

std::optional<AclAction> ActionOf(absl::string_view word) {
  const std::string w = absl::AsciiStrToLower(word);
  if (w == "allow") return AclAction::kAllow;
  if (w == "block") return AclAction::kBlock;
  if (w == "filter") return AclAction::kFilter;
  if (w == "drop") return AclAction::kDrop;
  return std::nullopt;
}

bool IsSection(absl::string_view word) {
  return absl::EqualsIgnoreCase(word, "type") || absl::EqualsIgnoreCase(word, "net");
}

// A type as Go's dns.StringToType spells it: the upper-case mnemonic, meta
// types (ANY, AXFR, IXFR) included, no TYPEnnn form.
std::optional<uint16_t> QType(const std::string& text) {
  const uint16_t t = static_cast<uint16_t>(ldns_get_rr_type_by_name(text.c_str()));
  if (t == 0 || absl::StartsWith(text, "TYPE") || text != absl::AsciiStrToUpper(text)) return std::nullopt;
  return t;
}

// CoreDNS's normalize: a bare address is its own /32 or /128.
std::string WithPrefix(const std::string& text) {
  if (text.find('/') != std::string::npos) return text;
  return text + (text.find(':') != std::string::npos ? "/128" : "/32");
}

// One ACTION line; false when it is refused.
bool ReadPolicy(const CorefileDirective& line, PlanContext& context, AclPolicy& policy) {
  const std::optional<AclAction> action = ActionOf(line.name.text);
  if (!action) {
    context.Error(line.name.pos, absl::StrCat("acl: unexpected token '", line.name.text,
                                              "'; expect 'allow', 'block', 'filter' or 'drop'"));
    return false;
  }
  policy.action = *action;
  bool all_types = true, all_nets = true;  // without a section: every type, every client
  bool any_type = false, any_net = false;  // `*` (or Go's "None" type) in a section
  const Tokens args(line.args);
  for (size_t i = 0; i < args.size();) {
    const CorefileToken& section = args[i];
    if (!IsSection(section.text)) {
      context.Error(section.pos, absl::StrCat("acl: unexpected token '", section.text, "'; expect 'type | net'"));
      return false;
    }
    size_t end = i + 1;
    while (end < args.size() && !IsSection(args[end].text)) ++end;
    const Tokens values = args.subspan(i + 1, end - i - 1);
    const bool is_type = absl::EqualsIgnoreCase(section.text, "type");
    if (values.empty()) {
      context.Error(section.pos, absl::StrCat("acl: no token specified in '", absl::AsciiStrToLower(section.text),
                                              "' section"));
      return false;
    }
    (is_type ? all_types : all_nets) = false;
    for (const CorefileToken& v : values) {
      // As setup.go: `*` takes every value, and what follows it on the section is not read.
      if (v.text == "*" || (is_type && v.text == "None")) {
        (is_type ? any_type : any_net) = true;
        break;
      }
      if (is_type) {
        const std::optional<uint16_t> t = QType(v.text);
        if (!t) {
          context.Error(v.pos, absl::StrCat("acl: unexpected token '", v.text, "'; expect legal QTYPE"));
          return false;
        }
        policy.qtypes.push_back(*t);
      } else {
        absl::StatusOr<Cidr> net = Cidr::Parse(WithPrefix(v.text));
        if (!net.ok()) {
          context.Error(v.pos, absl::StrCat("acl: illegal CIDR notation '", v.text, "'"));
          return false;
        }
        policy.nets.push_back(*net);
      }
    }
    i = end;
  }
  if (all_types || any_type) policy.qtypes.clear();
  if (all_nets || any_net) policy.nets.clear();
  return true;
}

}  // namespace

void PlanAcl(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  AclRule rule{.zones = d.args.empty() ? context.block_zones() : context.Zones(d.args)};
  for (const CorefileDirective& line : d.block) {
    AclPolicy policy;
    if (ReadPolicy(line, context, policy)) rule.policies.push_back(std::move(policy));
  }
  plan.acls.push_back(std::move(rule));
}

}  // namespace meshdns
