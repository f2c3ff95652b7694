// rewrite [stop|continue] name|ttl [MATCH] FROM TO [answer …],
// type|class FROM TO, rcode [MATCH] NAME FROM TO: the rule on its line, or
// with fewer than two arguments there, in its block.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "config/plugins/registry.h"
#include "dnscore/wire.h"

// After the C++ headers: ldns defines bool and false for C.
#include <ldns/ldns.h>

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

// miekg/dns's StringToType: mnemonics only (no TYPEnnn), ANY included.
std::optional<uint16_t> TypeCode(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  if (absl::StartsWith(upper, "TYPE") && upper.size() > 4 && absl::ascii_isdigit(upper[4])) return std::nullopt;
  const ldns_rr_type t = ldns_get_rr_type_by_name(upper.c_str());
  if (t == 0) return std::nullopt;
  return static_cast<uint16_t>(t);
}

// miekg/dns's StringToClass.
std::optional<uint16_t> ClassCode(absl::string_view text) {
  static const std::pair<const char*, uint16_t> kClasses[] = {{"IN", 1},     {"CS", 2},   {"CH", 3},
                                                             {"HS", 4},     {"NONE", 254}, {"ANY", 255}};
  const std::string upper = absl::AsciiStrToUpper(text);
  for (const auto& [name, code] : kClasses) {
    if (upper == name) return code;
  }
  return std::nullopt;
}

// CoreDNS's isValidRCode: 0-23, or miekg/dns's StringToRcode (NOTIMPL too).
std::optional<uint16_t> RcodeCode(absl::string_view text) {
  uint32_t n = 0;
  if (absl::SimpleAtoi(text, &n) && !absl::StartsWith(text, "+") && !absl::StartsWith(text, "-")) {
    if (n <= 23) return static_cast<uint16_t>(n);
    return std::nullopt;
  }
  static const std::pair<const char*, uint16_t> kRcodes[] = {
      {"NOERROR", 0},   {"FORMERR", 1},  {"SERVFAIL", 2},  {"NXDOMAIN", 3},  {"NOTIMP", 4},   {"NOTIMPL", 4},
      {"REFUSED", 5},   {"YXDOMAIN", 6}, {"YXRRSET", 7},   {"NXRRSET", 8},   {"NOTAUTH", 9},  {"NOTZONE", 10},
      {"DSOTYPENI", 11}, {"BADSIG", 16}, {"BADVERS", 16},  {"BADKEY", 17},   {"BADTIME", 18}, {"BADMODE", 19},
      {"BADNAME", 20},  {"BADALG", 21},  {"BADTRUNC", 22}, {"BADCOOKIE", 23}};
  const std::string upper = absl::AsciiStrToUpper(text);
  for (const auto& [name, code] : kRcodes) {
    if (upper == name) return code;
  }
  return std::nullopt;
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

 public:
  // type|class FROM TO.
  bool Codes(Tokens rest, RewriteRule& rule) {
    const bool type = rule.field == RewriteRule::Field::kType;
    const char* what = type ? "type" : "class";
    if (rest.size() != 2) {
      return Fail(rest.empty() ? d_.name.pos : rest[0].pos,
                  absl::StrCat("rewrite ", what, ": expected exactly FROM and TO"));
    }
    for (int i = 0; i < 2; ++i) {
      std::optional<uint16_t> code = type ? TypeCode(rest[i].text) : ClassCode(rest[i].text);
      if (!code) return Fail(rest[i].pos, absl::StrCat("rewrite ", what, ": invalid ", what, " '", rest[i].text, "'"));
      (i == 0 ? rule.code_from : rule.code_to) = *code;
    }
    return true;
  }

  // rcode [MATCH] NAME FROM TO.
  bool Rcode(Tokens rest, RewriteRule& rule) {
    if (rest.size() < 3 || rest.size() > 4) {
      return Fail(rest.empty() ? d_.name.pos : rest[0].pos, "rewrite rcode: expected [MATCH] NAME FROM TO");
    }
    if (rest.size() == 4) {
      static const std::pair<const char*, RewriteRule::Match> kTypes[] = {
          {"exact", RewriteRule::Match::kExact},         {"prefix", RewriteRule::Match::kPrefix},
          {"suffix", RewriteRule::Match::kSuffix},       {"substring", RewriteRule::Match::kSubstring},
          {"regex", RewriteRule::Match::kRegex}};
      bool known = false;
      for (const auto& [word, match] : kTypes) {
        if (absl::AsciiStrToLower(rest[0].text) == word) {
          rule.match = match;
          known = true;
        }
      }
      if (!known) {
        return Fail(rest[0].pos, "rewrite rcode: the match type is one of exact, prefix, suffix, substring, regex");
      }
      rest = rest.subspan(1);
    }
    if (rule.match == RewriteRule::Match::kRegex) {
      rule.regex = context_.Regex(rest[0]);
      if (!rule.regex) return false;
      rule.from = rest[0].text;
    } else {
      rule.from = Normalize(rest[0].text);
    }
    for (int i = 1; i < 3; ++i) {
      std::optional<uint16_t> code = RcodeCode(rest[i].text);
      if (!code) return Fail(rest[i].pos, absl::StrCat("rewrite rcode: invalid RCODE '", rest[i].text, "'"));
      if (*code > 15) {
        // An extended RCODE lives partly in the OPT record, which meshdns
        // writes itself; rather refused than applied to half the code.
        return Fail(rest[i].pos, absl::StrCat("rewrite rcode: extended RCODE '", rest[i].text,
                                              "' (above 15) is not supported by meshdns"));
      }
      (i == 1 ? rule.code_from : rule.code_to) = *code;
    }
    return true;
  }

 private:
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
  if (i < tokens.size()) {
    // CoreDNS lower-cases the mode word, as it does the rule type.
    const std::string mode = absl::AsciiStrToLower(tokens[i].text);
    if (mode == "stop" || mode == "continue") {
      rule.stop = mode == "stop";
      ++i;
    }
  }
  if (i >= tokens.size()) return context.Error(d.name.pos, "rewrite needs a field (name or ttl) and its arguments");
  const CorefileToken& field = tokens[i++];
  const std::string kind = absl::AsciiStrToLower(field.text);
  RuleReader reader(d, context);
  const Tokens rest = Tokens(tokens).subspan(i);
  bool ok = false;
  if (kind == "name" || kind == "ttl") {
    rule.field = kind == "name" ? RewriteRule::Field::kName : RewriteRule::Field::kTtl;
    ok = reader.Match(rest, rule);
  } else if (kind == "type" || kind == "class") {
    rule.field = kind == "type" ? RewriteRule::Field::kType : RewriteRule::Field::kClass;
    ok = reader.Codes(rest, rule);
  } else if (kind == "rcode") {
    rule.field = RewriteRule::Field::kRcode;
    ok = reader.Rcode(rest, rule);
  } else if (kind == "edns0" || kind == "cname") {
    return context.Unsupported(field.pos, absl::StrCat("rewrite ", field.text,
                                                       " is not supported: meshdns runs rewrite name, ttl, type, "
                                                       "class and rcode"));
  } else {
    return context.Error(field.pos, absl::StrCat("rewrite: invalid rule type '", field.text, "'"));
  }
  if (!ok) return;
  plan.rewrites.push_back(std::move(rule));
}

}  // namespace meshdns
