#include "config/corefile.h"

#include <glob.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meshdns {
namespace {

// Imports nest at most this deep; deeper is taken to be a cycle.
constexpr int kMaxImportDepth = 10;

struct Token {
  std::string text;
  SourcePos pos;
  bool quoted = false;
  bool line_start = false;  // first token on its line: a directive's name
};

std::optional<std::string> ReadWholeFile(const CorefileReadOptions& options, const std::string& path) {
  if (options.read_file) return options.read_file(path);
  absl::StatusOr<std::string> text = ReadRegularFile(path);
  if (!text.ok()) return std::nullopt;
  return *std::move(text);
}

ConfigError ErrorAt(const SourcePos& pos, std::string message) {
  return ConfigError{pos.file, pos.line, pos.column, std::move(message)};
}

// Caddy v1's lexer: words split by white space, "quotes" (\" inside) may
// hold anything, an unquoted # runs to the end of the line.
std::vector<Token> Lex(absl::string_view text, const std::string& file, std::vector<ConfigError>& errors) {
  std::vector<Token> tokens;
  int line = 1, column = 1;
  int last_line = 0;  // the line of the last token emitted
  size_t i = 0;
  auto advance = [&](char c) {
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      advance(c);
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') advance(text[i++]);
      continue;
    }
    Token t;
    t.pos = SourcePos{file, line, column};
    t.line_start = line != last_line;
    if (c == '"') {
      t.quoted = true;
      advance(text[i++]);
      bool closed = false;
      while (i < text.size()) {
        const char q = text[i];
        if (q == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          t.text.push_back(text[i + 1]);
          advance(q);
          advance(text[i + 1]);
          i += 2;
          continue;
        }
        advance(q);
        ++i;
        if (q == '"') {
          closed = true;
          break;
        }
        t.text.push_back(q);
      }
      if (!closed) {
        errors.push_back(ErrorAt(t.pos, "unterminated quoted string"));
        return tokens;
      }
    } else {
      while (i < text.size()) {
        const char w = text[i];
        if (w == ' ' || w == '\t' || w == '\n' || w == '\r' || w == '\f' || w == '\v' || w == '#') break;
        t.text.push_back(w);
        advance(w);
        ++i;
      }
    }
    last_line = t.pos.line;
    tokens.push_back(std::move(t));
  }
  return tokens;
}

class Reader {
 public:
  Reader(const CorefileReadOptions& options, std::vector<ConfigError>& errors) : options_(options), errors_(errors) {}

  // Tokens of a file with its imports expanded and env substituted; snippet
  // definitions are collected and left out.
  std::vector<Token> Expand(absl::string_view text, const std::string& file, int depth) {
    std::vector<Token> in = Lex(text, file, errors_);
    for (Token& t : in) SubstituteEnv(t);
    std::vector<Token> out;
    for (size_t i = 0; i < in.size(); ++i) {
      // A snippet: `(name) {` at the start of a line, up to its matching `}`.
      if (in[i].line_start && !in[i].quoted && in[i].text.size() > 2 && in[i].text.front() == '(' &&
          in[i].text.back() == ')' && i + 1 < in.size() && in[i + 1].text == "{" && !in[i + 1].quoted) {
        const std::string name = in[i].text.substr(1, in[i].text.size() - 2);
        size_t end = MatchingBrace(in, i + 1);
        if (end == in.size()) {
          errors_.push_back(ErrorAt(in[i].pos, absl::StrCat("snippet (", name, ") has no closing }")));
          return out;
        }
        if (snippets_.contains(name)) {
          errors_.push_back(ErrorAt(in[i].pos, absl::StrCat("snippet (", name, ") is defined twice")));
        }
        snippets_[name] = std::vector<Token>(in.begin() + i + 2, in.begin() + end);
        i = end;
        continue;
      }
      if (in[i].line_start && !in[i].quoted && in[i].text == "import") {
        const Token& at = in[i];
        if (i + 1 >= in.size() || in[i + 1].line_start) {
          errors_.push_back(ErrorAt(at.pos, "import needs a snippet name or a file pattern"));
          continue;
        }
        const Token& what = in[++i];
        if (i + 1 < in.size() && !in[i + 1].line_start) {
          errors_.push_back(ErrorAt(in[i + 1].pos, "import takes one argument"));
          while (i + 1 < in.size() && !in[i + 1].line_start) ++i;
        }
        Import(at, what, file, depth, out);
        continue;
      }
      out.push_back(in[i]);
    }
    return out;
  }


 private:
  static size_t MatchingBrace(const std::vector<Token>& tokens, size_t open) {
    int depth = 0;
    for (size_t j = open; j < tokens.size(); ++j) {
      if (tokens[j].quoted) continue;
      if (tokens[j].text == "{") ++depth;
      if (tokens[j].text == "}" && --depth == 0) return j;
    }
    return tokens.size();
  }

  void SubstituteEnv(Token& t) {
    std::string out;
    absl::string_view s = t.text;
    while (true) {
      const size_t open = s.find("{$");
      if (open == absl::string_view::npos) break;
      const size_t close = s.find('}', open);
      if (close == absl::string_view::npos) break;
      absl::StrAppend(&out, s.substr(0, open));
      absl::string_view spec = s.substr(open + 2, close - open - 2);
      absl::string_view fallback;
      if (size_t colon = spec.find(':'); colon != absl::string_view::npos) {
        fallback = spec.substr(colon + 1);
        spec = spec.substr(0, colon);
      }
      std::optional<std::string> value;
      if (options_.env) {
        value = options_.env(std::string(spec));
      } else if (const char* v = std::getenv(std::string(spec).c_str())) {
        value = v;
      }
      out.append(value ? *value : std::string(fallback));
      s.remove_prefix(close + 1);
    }
    if (!out.empty() || t.text.find("{$") != std::string::npos) {
      absl::StrAppend(&out, s);
      t.text = std::move(out);
    }
  }

  void Import(const Token& at, const Token& what, const std::string& file, int depth, std::vector<Token>& out) {
    if (depth >= kMaxImportDepth) {
      errors_.push_back(ErrorAt(at.pos, absl::StrCat("imports nest deeper than ", kMaxImportDepth,
                                                      " levels (an import cycle?)")));
      return;
    }
    if (auto it = snippets_.find(what.text); it != snippets_.end()) {
      // A snippet's tokens keep their own positions; the first starts a line here.
      std::vector<Token> tokens = it->second;
      if (!tokens.empty()) tokens.front().line_start = true;
      out.insert(out.end(), tokens.begin(), tokens.end());
      return;
    }
    std::string pattern = what.text;
    if (!pattern.empty() && pattern.front() != '/') {
      const size_t slash = file.rfind('/');
      if (slash != std::string::npos) pattern = file.substr(0, slash + 1) + pattern;
    }
    std::vector<std::string> paths;
    if (options_.read_file) {
      if (options_.read_file(pattern)) paths.push_back(pattern);  // files given by name: no globbing
    } else {
      glob_t g{};
      if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
        for (size_t k = 0; k < g.gl_pathc; ++k) paths.emplace_back(g.gl_pathv[k]);
      }
      globfree(&g);
    }
    const bool has_glob = what.text.find_first_of("*?[") != std::string::npos;
    if (paths.empty()) {
      if (!has_glob) {
        errors_.push_back(ErrorAt(what.pos, absl::StrCat("import: no snippet named ", what.text, " and no file ",
                                                          pattern)));
      }
      return;  // a glob that matches nothing imports nothing, as in CoreDNS
    }
    for (const std::string& path : paths) {
      std::optional<std::string> text = ReadWholeFile(options_, path);
      if (!text) {
        errors_.push_back(ErrorAt(what.pos, absl::StrCat("import: cannot read ", path)));
        continue;
      }
      std::vector<Token> tokens = Expand(*text, path, depth + 1);
      out.insert(out.end(), tokens.begin(), tokens.end());
    }
  }

  const CorefileReadOptions& options_;
  std::vector<ConfigError>& errors_;
  absl::flat_hash_map<std::string, std::vector<Token>> snippets_;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::vector<ConfigError>& errors) : t_(std::move(tokens)), errors_(errors) {}

  Corefile Parse() {
    Corefile out;
    while (at_ < t_.size()) {
      CorefileServerBlock block;
      block.pos = t_[at_].pos;
      if (!Keys(block)) return out;
      if (at_ < t_.size() && IsBrace("{")) {
        const SourcePos open = t_[at_++].pos;
        if (!Lines(block.directives, &open)) return out;
      } else if (out.blocks.empty()) {
        // One block may leave out its braces: the rest of the file is its body.
        if (!Lines(block.directives, nullptr)) return out;
      } else {
        errors_.push_back(ErrorAt(block.pos, "expected { after the server block's keys"));
        return out;
      }
      out.blocks.push_back(std::move(block));
    }
    return out;
  }

 private:
  bool IsBrace(const char* b) const { return !t_[at_].quoted && t_[at_].text == b; }

  // Keys up to `{`; a line ending in a comma continues on the next.
  bool Keys(CorefileServerBlock& block) {
    bool continued = true;
    while (at_ < t_.size() && !IsBrace("{")) {
      const Token& tok = t_[at_];
      if (tok.line_start && !continued) break;
      if (!tok.quoted && tok.text == "}") {
        errors_.push_back(ErrorAt(tok.pos, "unexpected }"));
        return false;
      }
      continued = absl::EndsWith(tok.text, ",");
      for (absl::string_view part : absl::StrSplit(tok.text, ',', absl::SkipEmpty())) {
        if (std::optional<CorefileKey> key = Key(part, tok.pos)) block.keys.push_back(std::move(*key));
      }
      ++at_;
    }
    if (block.keys.empty() && errors_.empty()) {
      errors_.push_back(ErrorAt(block.pos, "a server block needs at least one key (zone[:port])"));
      return false;
    }
    return errors_.empty();
  }

  std::optional<CorefileKey> Key(absl::string_view text, const SourcePos& pos) {
    CorefileKey key;
    key.pos = pos;
    if (size_t scheme = text.find("://"); scheme != absl::string_view::npos) {
      const std::string name = absl::AsciiStrToLower(text.substr(0, scheme));
      if (name != "dns") {
        errors_.push_back(ErrorAt(pos, absl::StrCat("server block key ", text, ": only dns:// is served (plain DNS "
                                                    "over UDP and TCP), not ", name, "://")));
        return std::nullopt;
      }
      text.remove_prefix(scheme + 3);
    }
    absl::string_view zone = text;
    if (size_t colon = text.rfind(':'); colon != absl::string_view::npos) {
      zone = text.substr(0, colon);
      int port = 0;
      if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 1 || port > 65535) {
        errors_.push_back(ErrorAt(pos, absl::StrCat("server block key ", text, ": bad port")));
        return std::nullopt;
      }
      key.port = static_cast<uint16_t>(port);
    }
    if (zone.find('/') != absl::string_view::npos) {
      errors_.push_back(ErrorAt(pos, absl::StrCat("server block key ", text,
                                                  ": reverse zones given as a CIDR are not supported; write the "
                                                  "in-addr.arpa or ip6.arpa zone instead")));
      return std::nullopt;
    }
    if (zone.empty()) zone = ".";
    absl::StatusOr<DnsName> name = DnsName::FromText(zone);
    if (!name.ok()) {
      errors_.push_back(ErrorAt(pos, absl::StrCat("server block key ", text, ": ", name.status().message())));
      return std::nullopt;
    }
    key.zone = name->Lowered();
    return key;
  }

  // Directive lines up to the `}` matching the `{` at `open` (without one,
  // up to the end of input).
  bool Lines(std::vector<CorefileDirective>& out, const SourcePos* open) {
    const bool closing = open != nullptr;
    while (at_ < t_.size()) {
      if (IsBrace("}")) {
        if (!closing) {
          errors_.push_back(ErrorAt(t_[at_].pos, "unexpected }"));
          return false;
        }
        ++at_;
        return true;
      }
      if (IsBrace("{")) {
        errors_.push_back(ErrorAt(t_[at_].pos, "unexpected { (a block must follow a directive on its line)"));
        return false;
      }
      CorefileDirective d;
      d.name = CorefileToken{t_[at_].text, t_[at_].pos};
      ++at_;
      while (at_ < t_.size() && !t_[at_].line_start) {
        if (IsBrace("{")) {
          const SourcePos brace = t_[at_++].pos;
          d.has_block = true;
          if (!Lines(d.block, &brace)) return false;
          break;
        }
        if (IsBrace("}")) break;  // `}` closing a block on the same line as its last directive
        d.args.push_back(CorefileToken{t_[at_].text, t_[at_].pos});
        ++at_;
      }
      out.push_back(std::move(d));
    }
    if (closing) {
      errors_.push_back(ErrorAt(*open, "this { is never closed (missing } before the end of the file)"));
      return false;
    }
    return true;
  }

  std::vector<Token> t_;
  size_t at_ = 0;
  std::vector<ConfigError>& errors_;
};

void CheckDuplicateKeys(const Corefile& corefile, std::vector<ConfigError>& errors) {
  absl::flat_hash_map<std::string, SourcePos> seen;
  for (const CorefileServerBlock& block : corefile.blocks) {
    for (const CorefileKey& key : block.keys) {
      const std::string id = absl::StrCat(key.zone.ToText(), ":", key.port);
      auto [it, fresh] = seen.emplace(id, key.pos);
      if (!fresh) {
        errors.push_back(ErrorAt(key.pos, absl::StrCat("zone ", id, " is already defined at line ", it->second.line)));
      }
    }
  }
}

}  // namespace

CorefileResult ReadCorefileText(absl::string_view text, const std::string& file_name,
                                const CorefileReadOptions& options) {
  CorefileResult result;
  Reader reader(options, result.errors);
  std::vector<Token> tokens = reader.Expand(text, file_name, 0);
  if (!result.errors.empty()) return result;
  Corefile corefile = Parser(std::move(tokens), result.errors).Parse();
  if (result.errors.empty()) CheckDuplicateKeys(corefile, result.errors);
  if (result.errors.empty()) result.corefile = std::move(corefile);
  return result;
}

CorefileResult ReadCorefileFile(const std::string& path, const CorefileReadOptions& options) {
  std::optional<std::string> text = ReadWholeFile(options, path);
  if (!text) {
    CorefileResult r;
    r.errors.push_back(ConfigError{path, 0, 0, "cannot read the file"});
    return r;
  }
  return ReadCorefileText(*text, path, options);
}

}  // namespace meshdns
