#include "config/plugins/plan_context.h"

namespace meshdns {
namespace {

// CoreDNS refuses longer patterns (template and rewrite alike).
constexpr size_t kMaxRegexSize = 10000;

}  // namespace

void PlanContext::Error(const SourcePos& pos, std::string message) {
  errors_.push_back(pos.Error(std::move(message)));
}

void PlanContext::Unsupported(const SourcePos& pos, std::string message) {
  if (unsupported_ == nullptr) return Error(pos, std::move(message));
  unsupported_->push_back(pos.Error(absl::StrCat(message, "; left out")));
}

void PlanContext::NoBlock(const CorefileDirective& d) {
  if (d.has_block) Error(d.name.pos, absl::StrCat(d.name.text, " takes no { } block"));
}

void PlanContext::MaxArgs(const CorefileDirective& d, size_t n) {
  if (d.args.size() > n) Error(d.args[n].pos, absl::StrCat(d.name.text, ": unexpected argument ", d.args[n].text));
}

std::optional<DnsName> PlanContext::Zone(const CorefileToken& t) {
  absl::StatusOr<DnsName> name = DnsName::FromText(t.text);
  if (!name.ok()) {
    Error(t.pos, absl::StrCat("'", t.text, "' is not a domain name"));
    return std::nullopt;
  }
  return name->Lowered();
}

std::vector<DnsName> PlanContext::Zones(Tokens tokens) {
  std::vector<DnsName> out;
  for (const CorefileToken& t : tokens) {
    if (std::optional<DnsName> z = Zone(t)) out.push_back(*z);
  }
  return out;
}

bool PlanContext::Duration(const CorefileToken& t, absl::string_view what, Millis& out) {
  absl::StatusOr<Millis> d = ParseDuration(t.text);
  if (!d.ok()) {
    Error(t.pos, absl::StrCat(what, ": '", t.text, "' is not a duration (like 500ms, 10s, 1m)"));
    return false;
  }
  out = *d;
  return true;
}

std::shared_ptr<const re2::RE2> PlanContext::Regex(const CorefileToken& t) {
  if (t.text.size() > kMaxRegexSize) {
    Error(t.pos, absl::StrCat("regex longer than ", kMaxRegexSize, " characters"));
    return nullptr;
  }
  auto re = std::make_shared<const re2::RE2>(t.text, re2::RE2::Quiet);
  if (!re->ok()) {
    Error(t.pos, absl::StrCat("bad regex '", t.text, "': ", re->error()));
    return nullptr;
  }
  return re;
}

}  // namespace meshdns
