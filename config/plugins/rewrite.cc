// rewrite [stop|continue] name|ttl [MATCH] FROM TO [answer …],
// type|class FROM TO, rcode [MATCH] NAME FROM TO, edns0 …, cname [MATCH] FROM
// TO: the rule on its line, or with fewer than two arguments there, in its block.
#include <algorithm>
#include <optional>
#include <vector>

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

// Go's strconv.ParseUint(text, 0, 64) within `max`: decimal, 0x hex, 0o or a
// leading 0 octal, 0b binary; underscores only after a base prefix.
std::optional<uint64_t> ParseGoUint(absl::string_view text, uint64_t max) {
  int base = 10;
  bool prefixed = false;
  if (text.size() > 1 && text[0] == '0') {
    const char p = absl::ascii_tolower(text[1]);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      text.remove_prefix(2);
      prefixed = true;
    } else {
      base = 8;
      text.remove_prefix(1);
      prefixed = true;
    }
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  bool digit_seen = false;
  char last = 0;
  for (const char c : text) {
    if (c == '_') {
      if (!prefixed || last == '_') return std::nullopt;
      last = c;
      continue;
    }
    int d = -1;
    if (absl::ascii_isdigit(c)) d = c - '0';
    if (absl::ascii_isalpha(c)) d = absl::ascii_tolower(c) - 'a' + 10;
    if (d < 0 || d >= base) return std::nullopt;
    value = value * base + d;
    if (value > max) return std::nullopt;
    digit_seen = true;
    last = c;
  }
  if (!digit_seen || last == '_') return std::nullopt;
  return value;
}

// Go's hex.DecodeString.
std::optional<std::vector<uint8_t>> HexBytes(absl::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = absl::ascii_tolower(hex[i + k]);
      if (!absl::ascii_isxdigit(c)) return std::nullopt;
      v = v * 16 + (absl::ascii_isdigit(c) ? c - '0' : c - 'a' + 10);
    }
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

// A rule's MATCH word: exact, prefix, suffix, substring or regex.
std::optional<RewriteRule::Match> MatchType(std::string_view word) {
  static constexpr std::pair<std::string_view, RewriteRule::Match> kTypes[] = {
      {"exact", RewriteRule::Match::kExact},         {"prefix", RewriteRule::Match::kPrefix},
      {"suffix", RewriteRule::Match::kSuffix},       {"substring", RewriteRule::Match::kSubstring},
      {"regex", RewriteRule::Match::kRegex}};
  for (const auto& [name, match] : kTypes) {
    if (word == name) return match;
  }
  return std::nullopt;
}

class RuleReader {
 public:
  RuleReader(const CorefileDirective& d, PlanContext& context) : d_(d), context_(context) {}

  bool Match(Tokens rest, RewriteRule& rule) {
    const std::optional<RewriteRule::Match> match = rest.empty() ? std::nullopt : MatchType(rest[0].text);
    const bool explicit_type = match.has_value();
    if (explicit_type) {
      rule.match = *match;
      rest = rest.subspan(1);
    }
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
      const std::optional<RewriteRule::Match> match = MatchType(absl::AsciiStrToLower(rest[0].text));
      if (!match) {
        return Fail(rest[0].pos, "rewrite rcode: the match type is one of exact, prefix, suffix, substring, regex");
      }
      rule.match = *match;
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

  // cname [MATCH] FROM TO, read as CoreDNS's newCNAMERule: an exact rule's
  // names normalized, the others' lower-cased and kept as written (a regex
  // compiled lower-cased, as CoreDNS compiles it); without MATCH, exact.
  bool Cname(Tokens rest, RewriteRule& rule) {
    if (rest.size() != 2 && rest.size() != 3) {
      return Fail(rest.size() > 3 ? rest[3].pos : rest.empty() ? d_.name.pos : rest[0].pos,
                  absl::StrCat("rewrite cname: expected [MATCH] FROM TO, got ", rest.size(), " arguments"));
    }
    if (rest.size() == 3) {
      const std::optional<RewriteRule::Match> match = MatchType(absl::AsciiStrToLower(rest[0].text));
      if (!match) {
        return Fail(rest[0].pos, absl::StrCat("rewrite cname: unknown match type '", rest[0].text,
                                              "' (exact, prefix, suffix, substring or regex)"));
      }
      rule.match = *match;
      rest = rest.subspan(1);
    }
    if (rule.match == RewriteRule::Match::kExact) {
      rule.from = Normalize(rest[0].text);
      rule.to = Normalize(rest[1].text);
      return true;
    }
    rule.from = absl::AsciiStrToLower(rest[0].text);
    rule.to = absl::AsciiStrToLower(rest[1].text);
    if (rule.match == RewriteRule::Match::kRegex) {
      CorefileToken pattern = rest[0];
      pattern.text = rule.from;
      rule.regex = context_.Regex(pattern);
      if (!rule.regex) return false;
    }
    return true;
  }

  // edns0 local|nsid|subnet ACTION … [revert], checked as CoreDNS's newEdns0Rule does.
  bool Edns0(Tokens rest, RewriteRule& rule) {
    const SourcePos& at = rest.empty() ? d_.name.pos : rest[0].pos;
    if (rest.size() < 2) return Fail(at, "rewrite edns0: too few arguments (local, nsid or subnet, then an action)");
    Edns0Rule& e = rule.edns0;
    const std::string type = absl::AsciiStrToLower(rest[0].text);
    const std::string action = absl::AsciiStrToLower(rest[1].text);
    static const std::pair<const char*, Edns0Rule::Action> kActions[] = {{"set", Edns0Rule::Action::kSet},
                                                                        {"append", Edns0Rule::Action::kAppend},
                                                                        {"replace", Edns0Rule::Action::kReplace},
                                                                        {"unset", Edns0Rule::Action::kUnset}};
    bool known = false;
    for (const auto& [word, a] : kActions) {
      if (action == word) {
        e.action = a;
        known = true;
      }
    }
    if (!known) {
      return Fail(rest[1].pos, absl::StrCat("rewrite edns0: invalid action '", rest[1].text,
                                            "' (set, append, replace or unset)"));
    }
    if (type == "local") {
      e.kind = Edns0Rule::Kind::kLocal;
    } else if (type == "nsid") {
      e.kind = Edns0Rule::Kind::kNsid;
    } else if (type == "subnet") {
      e.kind = Edns0Rule::Kind::kSubnet;
    } else {
      return Fail(rest[0].pos, absl::StrCat("rewrite edns0: invalid rule type '", rest[0].text,
                                            "' (local, nsid or subnet)"));
    }
    // unset takes no data and no revert.
    if (e.action == Edns0Rule::Action::kUnset) {
      const size_t want = e.kind == Edns0Rule::Kind::kLocal ? 3 : 2;
      if (rest.size() != want) {
        return Fail(rest.size() > want ? rest[want].pos : at,
                    absl::StrCat("rewrite edns0: ", type, " unset takes ",
                                 e.kind == Edns0Rule::Kind::kLocal ? "exactly a CODE" : "no argument"));
      }
      return e.kind != Edns0Rule::Kind::kLocal || Code(rest[2], e);
    }
    if (rest.back().text == "revert") {  // CoreDNS compares it as written
      e.revert = true;
      rest = rest.first(rest.size() - 1);
    }
    switch (e.kind) {
      case Edns0Rule::Kind::kNsid:
        if (rest.size() != 2) return Fail(rest[2].pos, "rewrite edns0: nsid rules take no argument but revert");
        return true;
      case Edns0Rule::Kind::kLocal: {
        if (rest.size() != 4) {
          return Fail(rest.size() > 4 ? rest[4].pos : at, "rewrite edns0: local rules need CODE and DATA");
        }
        if (!Code(rest[2], e)) return false;
        const std::string& data = rest[3].text;
        if (absl::StartsWith(data, "{") && absl::EndsWith(data, "}")) {
          if (!ParseEdns0Variable(data, e.variable)) {
            return Fail(rest[3].pos, absl::StrCat("rewrite edns0: unsupported variable name '", data,
                                                  "' ({qname}, {qtype}, {client_ip}, {client_port}, {protocol}, "
                                                  "{server_ip}, {server_port} or {plugin/label})"));
          }
          return true;
        }
        if (absl::StartsWith(data, "0x")) {
          std::optional<std::vector<uint8_t>> bytes = HexBytes(absl::string_view(data).substr(2));
          if (!bytes) return Fail(rest[3].pos, absl::StrCat("rewrite edns0: '", data, "' is not valid hex data"));
          e.data = *std::move(bytes);
        } else {
          e.data.assign(data.begin(), data.end());
        }
        return true;
      }
      case Edns0Rule::Kind::kSubnet: {
        if (rest.size() != 4) {
          return Fail(rest.size() > 4 ? rest[4].pos : at, "rewrite edns0: subnet rules need IPV4BITS and IPV6BITS");
        }
        const std::optional<uint64_t> v4 = ParseGoUint(rest[2].text, UINT16_MAX);
        if (!v4 || *v4 > 32) {
          return Fail(rest[2].pos, absl::StrCat("rewrite edns0: invalid IPv4 bit mask length '", rest[2].text, "'"));
        }
        const std::optional<uint64_t> v6 = ParseGoUint(rest[3].text, UINT16_MAX);
        if (!v6 || *v6 > 128) {
          return Fail(rest[3].pos, absl::StrCat("rewrite edns0: invalid IPv6 bit mask length '", rest[3].text, "'"));
        }
        e.v4_bits = static_cast<uint8_t>(*v4);
        e.v6_bits = static_cast<uint8_t>(*v6);
        return true;
      }
    }
    return false;
  }

 private:
  bool Code(const CorefileToken& t, Edns0Rule& e) {
    const std::optional<uint64_t> code = ParseGoUint(t.text, UINT16_MAX);
    if (!code) return Fail(t.pos, absl::StrCat("rewrite edns0: invalid option code '", t.text, "' (0-65535)"));
    e.code = static_cast<uint16_t>(*code);
    return true;
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
  } else if (kind == "edns0") {
    rule.field = RewriteRule::Field::kEdns0;
    ok = reader.Edns0(rest, rule);
  } else if (kind == "cname") {
    rule.field = RewriteRule::Field::kCname;
    ok = reader.Cname(rest, rule);
  } else {
    return context.Error(field.pos, absl::StrCat("rewrite: invalid rule type '", field.text, "'"));
  }
  if (!ok) return;
  plan.rewrites.push_back(std::move(rule));
}

}  // namespace meshdns
