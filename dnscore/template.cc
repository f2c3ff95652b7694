#include "dnscore/template.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace meshdns {

Template::~Template() = default;

absl::StatusOr<Template::Piece> Template::ParseAction(absl::string_view action, const Template& t) {
  absl::string_view a = absl::StripAsciiWhitespace(action);
  // {{- x -}} trims surrounding space in Go; the answer is one line, so treat it as {{ x }}.
  if (absl::ConsumePrefix(&a, "-")) a = absl::StripLeadingAsciiWhitespace(a);
  if (absl::ConsumeSuffix(&a, "-")) a = absl::StripTrailingAsciiWhitespace(a);
  if (a == ".Name") return Piece{Piece::kName, {}, 0};
  if (a == ".Zone") return Piece{Piece::kZone, {}, 0};
  if (a == ".Class") return Piece{Piece::kClass, {}, 0};
  if (a == ".Type") return Piece{Piece::kType, {}, 0};
  const auto& named = t.regex_->NamedCapturingGroups();
  auto group_by_name = [&](absl::string_view name) -> absl::StatusOr<Piece> {
    int index = 0;
    if (absl::SimpleAtoi(name, &index)) {
      if (index < 0 || index > t.regex_->NumberOfCapturingGroups()) {
        return absl::InvalidArgumentError(absl::StrCat("template names group ", name, " but the regex has ",
                                                       t.regex_->NumberOfCapturingGroups(), " groups"));
      }
      return Piece{Piece::kGroup, {}, index};
    }
    auto it = named.find(std::string(name));
    if (it == named.end()) {
      return absl::InvalidArgumentError(absl::StrCat("template names group '", name, "' that the regex does not define"));
    }
    return Piece{Piece::kGroup, {}, it->second};
  };
  absl::string_view rest = a;
  if (absl::ConsumePrefix(&rest, ".Group.")) return group_by_name(rest);
  if (absl::ConsumePrefix(&rest, "index ")) {
    rest = absl::StripLeadingAsciiWhitespace(rest);
    absl::string_view key;
    if (absl::ConsumePrefix(&rest, ".Match")) {
      key = absl::StripAsciiWhitespace(rest);
      int index = 0;
      if (!absl::SimpleAtoi(key, &index)) return absl::InvalidArgumentError(absl::StrCat("bad index in {{", action, "}}"));
      return group_by_name(key);
    }
    if (absl::ConsumePrefix(&rest, ".Group")) {
      key = absl::StripAsciiWhitespace(rest);
      if (key.size() >= 2 && key.front() == '"' && key.back() == '"') return group_by_name(key.substr(1, key.size() - 2));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported template action {{", action,
                                                 "}} (supported: .Name .Zone .Class .Type .Group.NAME index .Match N)"));
}

absl::StatusOr<std::shared_ptr<const Template>> Template::Compile(absl::string_view regex,
                                                                  const std::vector<std::string>& answers) {
  std::shared_ptr<Template> t(new Template());
  RE2::Options options;
  options.set_log_errors(false);
  t->regex_ = std::make_unique<RE2>(re2::StringPiece(regex.data(), regex.size()), options);
  if (!t->regex_->ok()) return absl::InvalidArgumentError(absl::StrCat("bad regex: ", t->regex_->error()));
  for (const std::string& answer : answers) {
    std::vector<Piece> pieces;
    absl::string_view rest = answer;
    while (!rest.empty()) {
      size_t open = rest.find("{{");
      if (open != 0) {
        pieces.push_back(Piece{Piece::kLiteral, std::string(rest.substr(0, open)), 0});
        if (open == absl::string_view::npos) break;
        rest.remove_prefix(open);
      }
      size_t close = rest.find("}}");
      if (close == absl::string_view::npos) return absl::InvalidArgumentError(absl::StrCat("unclosed {{ in '", answer, "'"));
      absl::StatusOr<Piece> piece = ParseAction(rest.substr(2, close - 2), *t);
      if (!piece.ok()) return piece.status();
      pieces.push_back(*std::move(piece));
      rest.remove_prefix(close + 2);
    }
    t->answers_.push_back(std::move(pieces));
  }
  return std::shared_ptr<const Template>(std::move(t));
}

bool Template::Match(absl::string_view lower_fqdn, TemplateMatch& out) const {
  const int n = regex_->NumberOfCapturingGroups() + 1;
  absl::InlinedVector<re2::StringPiece, 8> groups(n);
  if (!regex_->Match(re2::StringPiece(lower_fqdn.data(), lower_fqdn.size()), 0, lower_fqdn.size(), RE2::UNANCHORED,
                     groups.data(), n)) {
    return false;
  }
  out.groups.clear();
  for (const auto& g : groups) out.groups.push_back(absl::string_view(g.data() ? g.data() : "", g.size()));
  return true;
}

std::optional<absl::string_view> Template::Group(const TemplateMatch& m, absl::string_view name) const {
  const auto& named = regex_->NamedCapturingGroups();
  auto it = named.find(std::string(name));
  if (it == named.end() || static_cast<size_t>(it->second) >= m.groups.size()) return std::nullopt;
  return m.groups[it->second];
}

std::vector<std::string> Template::RenderText(const TemplateMatch& m, const TemplateData& data) const {
  std::vector<std::string> out;
  for (const auto& pieces : answers_) {
    std::string text;
    for (const Piece& p : pieces) {
      switch (p.kind) {
        case Piece::kLiteral: text += p.literal; break;
        case Piece::kName: absl::StrAppend(&text, data.name); break;
        case Piece::kZone: absl::StrAppend(&text, data.zone); break;
        case Piece::kClass: absl::StrAppend(&text, data.qclass); break;
        case Piece::kType: absl::StrAppend(&text, data.qtype); break;
        case Piece::kGroup:
          if (static_cast<size_t>(p.group) < m.groups.size()) absl::StrAppend(&text, m.groups[p.group]);
          break;
      }
    }
    out.push_back(std::move(text));
  }
  return out;
}

absl::StatusOr<std::vector<RrPtr>> Template::Render(const TemplateMatch& m, const TemplateData& data) const {
  std::vector<RrPtr> records;
  for (const std::string& text : RenderText(m, data)) {
    absl::StatusOr<RrPtr> rr = ParseRecord(text);
    if (!rr.ok()) return rr.status();
    records.push_back(*std::move(rr));
  }
  return records;
}

}  // namespace meshdns
