// Caddy v1's lexer, as CoreDNS reads a Corefile: words, "quoted strings"
// and # comments, each token with its file:line:col and whether it starts a
// line (a directive's name). Internal to the Corefile reader; pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/corefile.h"

namespace meshdns {

struct LexedToken {
  std::string text;
  SourcePos pos;
  bool quoted = false;
  bool line_start = false;  // first token on its line: a directive's name
};

// The tokens of `text`; an unterminated quote is an error and ends the list.
std::vector<LexedToken> LexCorefile(absl::string_view text, const std::string& file, std::vector<ConfigError>& errors);

}  // namespace meshdns
