// rewrite [stop|continue] name|ttl [MATCH] FROM TO [answer …]: the rule on
// its line, or with fewer than two arguments there, in its block.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// CoreDNS's plugin.Name(x).Normalize(): lower case, fully qualified.
std::string Normalize(absl::string_view name) {
  std::string s = absl::AsciiStrToLower(name);
  if (s.empty() || s.back() != '.') s.push_back('.');
  return s;
}

// The highest {n} a rewrite target refers to, or -1.
int HighestGroupReference(absl::string_view to) {
  int highest = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] != '{') continue;
    const size_t close = to.find('}', i);
    if (close == absl::string_view::npos) break;
    int n = 0;
    if (absl::SimpleAtoi(to.substr(i + 1, close - i - 1), &n)) highest = std::max(highest, n);
    i = close;
  }
  return highest;
}

class RuleReader {
 public:
  RuleReader(const CorefileDirective& d, PlanContext& context) : d_(d), context_(context) {}

  bool Match(Tokens rest, RewriteRule& rule) {
    static const std::pair<const char*, RewriteRule::Match> kTypes[] = {
        {"exact", RewriteRule::Match::kExact},         {"prefix", RewriteRule::Match::kPrefix},
        {"suffix", RewriteRule::Match::kSuffix},       {"substring", RewriteRule::Match::kSubstring},
        {"regex", RewriteRule::Match::kRegex}};
    bool explicit_type = false;
    if (!rest.empty()) {
      for (const auto& [word, match] : kTypes) {
        if (rest[0].text == word) {
          rule.match = match;
          explicit_type = true;
        }
      }
    }
    if (explicit_type) rest = rest.subspan(1);
    if (rest.size() < 2) return Fail(d_.name.pos, "rewrite: expected FROM and TO");
    const CorefileToken& from = rest[0];
    const CorefileToken& to = rest[1];
    rest = rest.subspan(2);
    if (rule.match == RewriteRule::Match::kRegex) {
      rule.regex = context_.Regex(from);
      if (!rule.regex) return false;
      rule.from = from.text;
      if (rule.field == RewriteRule::Field::kName &&
          HighestGroupReference(to.text) > rule.regex->NumberOfCapturingGroups()) {
        return Fail(to.pos, absl::StrCat("rewrite: '", to.text, "' refers to a group the regex does not have"));
      }
    } else {
      rule.from = Normalize(from.text);
    }
    if (rule.field == RewriteRule::Field::kTtl) {
      if (!rest.empty() && !explicit_type) return Fail(rest[0].pos, "rewrite ttl: options need an explicit match type");
      return TtlRange(to, rule) && NoMore(rest);
    }
    rule.to = Normalize(to.text);
    if (rule.match == RewriteRule::Match::kExact) rule.answer_auto = true;  // implicit in CoreDNS
    if (!rest.empty() && !explicit_type) {
      return Fail(rest[0].pos,
                  "rewrite: answer options need an explicit match type (exact, prefix, suffix, substring, regex)");
    }
    return AnswerRules(rest, rule);
  }

 private:
  bool Fail(const SourcePos& pos, std::string message) {
    context_.Error(pos, std::move(message));
    return false;
  }

  bool TtlRange(const CorefileToken& t, RewriteRule& rule) {
    // 30 (30-30), -30 (0-30), 30- (30 up), 10-30.
    const size_t dash = t.text.find('-');
    absl::string_view low = t.text, high = t.text;
    if (dash != std::string::npos) {
      low = absl::string_view(t.text).substr(0, dash);
      high = absl::string_view(t.text).substr(dash + 1);
    }
    uint32_t lo = 0, hi = UINT32_MAX;
    if ((!low.empty() && !absl::SimpleAtoi(low, &lo)) || (!high.empty() && !absl::SimpleAtoi(high, &hi)) ||
        (low.empty() && high.empty()) || lo > hi) {
      return Fail(t.pos, absl::StrCat("rewrite ttl: '", t.text, "' is not SECONDS or MIN-MAX"));
    }
    rule.ttl_min = lo;
    rule.ttl_max = hi;
    return true;
  }

  bool AnswerRules(Tokens rest, RewriteRule& rule) {
    bool named = false;
    for (size_t i = 0; i < rest.size();) {
      if (rest[i].text == "answer") ++i;  // the word may be left out after the first rule
      if (i >= rest.size()) return Fail(rest[i - 1].pos, "rewrite: answer needs auto, name FROM TO or value FROM TO");
      const CorefileToken& kind = rest[i];
      if (kind.text == "auto") {
        rule.answer_auto = true;
        ++i;
        continue;
      }
      if (kind.text != "name" && kind.text != "value") {
        return Fail(kind.pos,
                    absl::StrCat("rewrite: unexpected '", kind.text, "' (answer auto, answer name or answer value)"));
      }
      if (i + 2 >= rest.size()) return Fail(kind.pos, absl::StrCat("rewrite: answer ", kind.text, " needs FROM and TO"));
      RewriteRule::AnswerRule a;
      a.value = kind.text == "value";
      a.from = context_.Regex(rest[i + 1]);
      if (!a.from) return false;
      if (HighestGroupReference(rest[i + 2].text) > a.from->NumberOfCapturingGroups()) {
        return Fail(rest[i + 2].pos,
                    absl::StrCat("rewrite: '", rest[i + 2].text, "' refers to a group the answer regex does not have"));
      }
      a.to = Normalize(rest[i + 2].text);
      named = named || !a.value;
      rule.answers.push_back(std::move(a));
      i += 3;
    }
    if (named && rule.answer_auto && rule.match != RewriteRule::Match::kExact) {
      return Fail(d_.name.pos, "rewrite: answer auto and answer name cannot be combined");
    }
    return true;
  }

  bool NoMore(Tokens rest) {
    if (rest.empty()) return true;
    return Fail(rest[0].pos, absl::StrCat("unexpected argument ", rest[0].text));
  }

  const CorefileDirective& d_;
  PlanContext& context_;
};

}  // namespace

void PlanRewrite(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  // CoreDNS: with fewer than two arguments on the line, the block's tokens
  // are read as the rest of ONE rule.
  std::vector<CorefileToken> tokens(d.args.begin(), d.args.end());
  if (d.args.size() < 2 && d.has_block) {
    for (const CorefileDirective& line : d.block) {
      tokens.push_back(line.name);
      tokens.insert(tokens.end(), line.args.begin(), line.args.end());
    }
  } else if (d.has_block) {
    return context.Error(d.name.pos, "rewrite: a rule is given either on its line or in its block, not both");
  }
  RewriteRule rule;
  size_t i = 0;
  if (i < tokens.size() && (tokens[i].text == "stop" || tokens[i].text == "continue")) {
    rule.stop = tokens[i++].text == "stop";
  }
  if (i >= tokens.size()) return context.Error(d.name.pos, "rewrite needs a field (name or ttl) and its arguments");
  const CorefileToken& field = tokens[i++];
  if (field.text == "name") {
    rule.field = RewriteRule::Field::kName;
  } else if (field.text == "ttl") {
    rule.field = RewriteRule::Field::kTtl;
  } else {
    return context.Unsupported(field.pos, absl::StrCat("rewrite ", field.text,
                                                       " is not supported: meshdns runs rewrite name and rewrite ttl"));
  }
  if (!RuleReader(d, context).Match(Tokens(tokens).subspan(i), rule)) return;
  plan.rewrites.push_back(std::move(rule));
}

}  // namespace meshdns
