#include "config/corefile_lexer.h"

namespace meshdns {

// Caddy v1's lexer: words split by white space, "quotes" (\" inside) may
// hold anything, an unquoted # runs to the end of the line.
std::vector<LexedToken> LexCorefile(absl::string_view text, const std::string& file, std::vector<ConfigError>& errors) {
  std::vector<LexedToken> tokens;
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
    LexedToken t;
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
        errors.push_back(t.pos.Error("unterminated quoted string"));
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

}  // namespace meshdns
