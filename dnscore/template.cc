#include "dnscore/template.h"

#include <re2/re2.h>

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace meshdns {

Template::~Template() = default;

namespace {

// One word of a Go template action: a field (.Group.b), a function name, a
// number, a string constant (quotes removed) or a parenthesis.
struct Token {
  enum Kind { kWord, kString, kOpen, kClose } kind;
  std::string text;
};

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view a) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < a.size()) {
    const char c = a[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '(' || c == ')') {
      out.push_back(Token{c == '(' ? Token::kOpen : Token::kClose, std::string(1, c)});
      ++i;
    } else if (c == '`') {  // raw string
      const size_t close = a.find('`', i + 1);
      if (close == absl::string_view::npos) return absl::InvalidArgumentError("unterminated raw string");
      out.push_back(Token{Token::kString, std::string(a.substr(i + 1, close - i - 1))});
      i = close + 1;
    } else if (c == '"') {
      std::string text;
      for (++i;; ++i) {
        if (i >= a.size()) return absl::InvalidArgumentError("unterminated string");
        if (a[i] == '"') break;
        if (a[i] != '\\') {
          text += a[i];
          continue;
        }
        if (++i >= a.size()) return absl::InvalidArgumentError("unterminated string");
        switch (a[i]) {
          case '"': case '\\': text += a[i]; break;
          case 'n': text += '\n'; break;
          case 't': text += '\t'; break;
          default: return absl::InvalidArgumentError(absl::StrCat("unsupported escape \\", a.substr(i, 1), " in a string"));
        }
      }
      out.push_back(Token{Token::kString, std::move(text)});
      ++i;
    } else {
      size_t end = i;
      while (end < a.size() && !absl::ascii_isspace(static_cast<unsigned char>(a[end])) && a[end] != '(' &&
             a[end] != ')' && a[end] != '"' && a[end] != '`') {
        ++end;
      }
      out.push_back(Token{Token::kWord, std::string(a.substr(i, end - i))});
      i = end;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Template::Piece> Template::ParseAction(absl::string_view action, const Template& t) {
  absl::string_view a = absl::StripAsciiWhitespace(action);
  // {{- x -}} trims surrounding space in Go; the answer is one line, so treat it as {{ x }}.
  if (absl::ConsumePrefix(&a, "-")) a = absl::StripLeadingAsciiWhitespace(a);
  if (absl::ConsumeSuffix(&a, "-")) a = absl::StripTrailingAsciiWhitespace(a);
  auto unsupported = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported template action {{", action, "}}", why.empty() ? "" : ": ", why,
                     " (supported: .Name .Zone .Class .Type .Regex .Group.NAME index .Match N, index .Group \"NAME\", "
                     ".Meta \"NAME\", \"text\", parseInt VALUE BASE BITS)"));
  };
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(a);
  if (!tokens.ok()) return unsupported(tokens.status().message());
  const std::vector<Token>& tk = *tokens;

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
  auto word = [&](size_t i, absl::string_view w) { return i < tk.size() && tk[i].kind == Token::kWord && tk[i].text == w; };

  // One value starting at token `i`; `i` moves past it.
  std::function<absl::StatusOr<Piece>(size_t&)> value = [&](size_t& i) -> absl::StatusOr<Piece> {
    if (i >= tk.size()) return unsupported("a value is missing");
    const Token& first = tk[i];
    if (first.kind == Token::kString) {
      ++i;
      return Piece{Piece::kLiteral, first.text, 0};
    }
    if (first.kind == Token::kOpen) {
      ++i;
      absl::StatusOr<Piece> inner = value(i);
      if (!inner.ok()) return inner;
      if (i >= tk.size() || tk[i].kind != Token::kClose) return unsupported("a ( is not closed");
      ++i;
      return inner;
    }
    if (first.kind != Token::kWord) return unsupported("");
    const std::string& w = first.text;
    ++i;
    if (w == ".Name") return Piece{Piece::kName, {}, 0};
    if (w == ".Zone") return Piece{Piece::kZone, {}, 0};
    if (w == ".Class") return Piece{Piece::kClass, {}, 0};
    if (w == ".Type") return Piece{Piece::kType, {}, 0};
    if (w == ".Regex") return Piece{Piece::kLiteral, t.regex_text_, 0};
    if (absl::StartsWith(w, ".Group.")) return group_by_name(absl::string_view(w).substr(7));
    if (w == ".Meta") {
      if (i >= tk.size() || tk[i].kind != Token::kString) return unsupported(".Meta takes a quoted metadata name");
      ++i;
      return Piece{Piece::kEmpty, {}, 0};
    }
    if (w == "index") {
      if (word(i, ".Match") && i + 1 < tk.size() && tk[i + 1].kind == Token::kWord) {
        int index = 0;
        if (!absl::SimpleAtoi(tk[i + 1].text, &index)) {
          return absl::InvalidArgumentError(absl::StrCat("bad index in {{", action, "}}"));
        }
        i += 2;
        return group_by_name(tk[i - 1].text);
      }
      if (word(i, ".Group") && i + 1 < tk.size() && tk[i + 1].kind == Token::kString) {
        i += 2;
        return group_by_name(tk[i - 1].text);
      }
      return unsupported("index takes .Match N or .Group \"NAME\"");
    }
    if (w == ".Remote") return unsupported(".Remote (the client's address) does not reach meshdns's templates");
    return unsupported("");
  };

  size_t i = 0;
  Piece piece;
  if (word(0, "parseInt")) {
    // Go checks a function's argument count when it runs, not when it parses.
    size_t args = 0, depth = 0;
    for (size_t k = 1; k < tk.size(); ++k) {
      if (depth == 0) ++args;
      if (tk[k].kind == Token::kOpen) ++depth;
      if (tk[k].kind == Token::kClose && depth > 0) --depth;
    }
    if (args != 3 && depth == 0) {
      return Piece{Piece::kFail, absl::StrCat("wrong number of args for parseInt: want 3 got ", args), 0};
    }
    i = 1;
    absl::StatusOr<Piece> arg = value(i);
    if (!arg.ok()) return arg.status();
    if (arg->parse_int) return unsupported("parseInt of parseInt");
    piece = *std::move(arg);
    piece.parse_int = true;
    for (int* number : {&piece.base, &piece.bits}) {
      if (i >= tk.size() || tk[i].kind != Token::kWord || !absl::SimpleAtoi(tk[i].text, number)) {
        return unsupported("parseInt takes a value, a base and a bit size");
      }
      ++i;
    }
  } else {
    absl::StatusOr<Piece> v = value(i);
    if (!v.ok()) return v.status();
    piece = *std::move(v);
  }
  if (i != tk.size()) return unsupported("");
  return piece;
}

namespace {

bool HexLetter(char c) { return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Go's underscoreOK: with base 0, '_' may only stand between digits, or
// between a base prefix and a digit.
bool UnderscoresOk(absl::string_view s) {
  char saw = '^';
  size_t i = 0;
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = absl::ascii_tolower(static_cast<unsigned char>(s[1]));
    if (p == 'b' || p == 'o' || p == 'x') {
      i = 2;
      saw = '0';
      hex = p == 'x';
    }
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || (hex && HexLetter(c))) {
      saw = '0';
    } else if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
    } else {
      if (saw == '_') return false;
      saw = '!';
    }
  }
  return saw != '_';
}

// strconv.ParseUint(s, base, bits), with Go's error words.
absl::StatusOr<uint64_t> ParseUint(absl::string_view s, int base, int bits) {
  const std::string quoted = absl::StrCat("strconv.ParseUint: parsing \"", s, "\": ");
  if (s.empty()) return absl::InvalidArgumentError(quoted + "invalid syntax");
  const absl::string_view whole = s;
  const bool base0 = base == 0;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      const char p = s.size() >= 3 ? absl::ascii_tolower(static_cast<unsigned char>(s[1])) : '\0';
      if (p == 'b' || p == 'o' || p == 'x') {
        base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  } else if (base < 2 || base > 36) {
    return absl::InvalidArgumentError(absl::StrCat(quoted, "invalid base ", base));
  }
  if (bits == 0) bits = 64;
  if (bits < 0 || bits > 64) return absl::InvalidArgumentError(absl::StrCat(quoted, "invalid bit size ", bits));
  const uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const uint64_t cutoff = UINT64_MAX / base + 1;
  uint64_t n = 0;
  bool underscores = false;
  for (const char c : s) {
    int digit;
    const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (lower >= 'a' && lower <= 'z') {
      digit = lower - 'a' + 10;
    } else {
      return absl::InvalidArgumentError(quoted + "invalid syntax");
    }
    if (digit >= base) return absl::InvalidArgumentError(quoted + "invalid syntax");
    if (n >= cutoff) return absl::OutOfRangeError(quoted + "value out of range");
    n *= base;
    const uint64_t next = n + static_cast<uint64_t>(digit);
    if (next < n || next > max) return absl::OutOfRangeError(quoted + "value out of range");
    n = next;
  }
  if (underscores && !UnderscoresOk(whole)) return absl::InvalidArgumentError(quoted + "invalid syntax");
  return n;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Template>> Template::Compile(absl::string_view regex,
                                                                  const std::vector<std::string>& answers) {
  std::shared_ptr<Template> t(new Template());
  RE2::Options options;
  options.set_log_errors(false);
  t->regex_ = std::make_unique<RE2>(re2::StringPiece(regex.data(), regex.size()), options);
  if (!t->regex_->ok()) return absl::InvalidArgumentError(absl::StrCat("bad regex: ", t->regex_->error()));
  t->regex_text_ = std::string(regex);
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

absl::Status Template::Append(const Piece& p, const TemplateMatch& m, const TemplateData& data,
                              std::string& out) const {
  absl::string_view v;
  switch (p.kind) {
    case Piece::kLiteral: v = p.literal; break;
    case Piece::kName: v = data.name; break;
    case Piece::kZone: v = data.zone; break;
    case Piece::kClass: v = data.qclass; break;
    case Piece::kType: v = data.qtype; break;
    case Piece::kGroup:
      if (static_cast<size_t>(p.group) < m.groups.size()) v = m.groups[p.group];
      break;
    case Piece::kEmpty: break;
    case Piece::kFail: return absl::InvalidArgumentError(p.literal);
  }
  if (!p.parse_int) {
    absl::StrAppend(&out, v);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> n = ParseUint(v, p.base, p.bits);
  if (!n.ok()) return absl::Status(n.status().code(), absl::StrCat("error calling parseInt: ", n.status().message()));
  absl::StrAppend(&out, *n);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Template::RenderText(const TemplateMatch& m, const TemplateData& data) const {
  std::vector<std::string> out;
  for (const auto& pieces : answers_) {
    std::string text;
    for (const Piece& p : pieces) {
      if (absl::Status s = Append(p, m, data, text); !s.ok()) return s;
    }
    out.push_back(std::move(text));
  }
  return out;
}

absl::StatusOr<std::vector<RrPtr>> Template::Render(const TemplateMatch& m, const TemplateData& data) const {
  std::vector<RrPtr> records;
  absl::StatusOr<std::vector<std::string>> texts = RenderText(m, data);
  if (!texts.ok()) return texts.status();
  for (const std::string& text : *texts) {
    absl::StatusOr<RrPtr> rr = ParseRecord(text);
    if (!rr.ok()) return rr.status();
    records.push_back(*std::move(rr));
  }
  return records;
}

}  // namespace meshdns
