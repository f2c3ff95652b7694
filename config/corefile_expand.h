// A Corefile's tokens with `import` expanded (snippets, and files by path or
// glob relative to the importing file) and `{$ENV}` substituted, snippet
// definitions left out. Internal to the Corefile reader; each call is
// independent and reads files only through CorefileReadOptions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/corefile.h"
#include "config/corefile_lexer.h"

namespace meshdns {

std::vector<LexedToken> ExpandCorefile(absl::string_view text, const std::string& file,
                                       const CorefileReadOptions& options, std::vector<ConfigError>& errors);

// A Corefile (or an imported file) read whole, through options.read_file when set.
std::optional<std::string> ReadCorefileSource(const CorefileReadOptions& options, const std::string& path);

}  // namespace meshdns
