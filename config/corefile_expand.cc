#include "config/corefile_expand.h"

#include <glob.h>

#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

// Imports nest at most this deep; deeper is taken to be a cycle.
constexpr int kMaxImportDepth = 10;

class Expander {
 public:
  Expander(const CorefileReadOptions& options, std::vector<ConfigError>& errors) : options_(options), errors_(errors) {}

  // The tokens of a file with its imports expanded and env substituted; snippet
  // definitions are collected and left out.
  std::vector<LexedToken> Expand(absl::string_view text, const std::string& file, int depth) {
    std::vector<LexedToken> in = LexCorefile(text, file, errors_);
    for (LexedToken& t : in) SubstituteEnv(t);
    std::vector<LexedToken> out;
    for (size_t i = 0; i < in.size(); ++i) {
      // A snippet: `(name) {` at the start of a line, up to its matching `}`.
      if (in[i].line_start && !in[i].quoted && in[i].text.size() > 2 && in[i].text.front() == '(' &&
          in[i].text.back() == ')' && i + 1 < in.size() && in[i + 1].text == "{" && !in[i + 1].quoted) {
        const std::string name = in[i].text.substr(1, in[i].text.size() - 2);
        size_t end = MatchingBrace(in, i + 1);
        if (end == in.size()) {
          errors_.push_back(in[i].pos.Error(absl::StrCat("snippet (", name, ") has no closing }")));
          return out;
        }
        if (snippets_.contains(name)) {
          errors_.push_back(in[i].pos.Error(absl::StrCat("snippet (", name, ") is defined twice")));
        }
        snippets_[name] = std::vector<LexedToken>(in.begin() + i + 2, in.begin() + end);
        i = end;
        continue;
      }
      if (in[i].line_start && !in[i].quoted && in[i].text == "import") {
        const LexedToken& at = in[i];
        if (i + 1 >= in.size() || in[i + 1].line_start) {
          errors_.push_back(at.pos.Error("import needs a snippet name or a file pattern"));
          continue;
        }
        const LexedToken& what = in[++i];
        if (i + 1 < in.size() && !in[i + 1].line_start) {
          errors_.push_back(in[i + 1].pos.Error("import takes one argument"));
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
  static size_t MatchingBrace(const std::vector<LexedToken>& tokens, size_t open) {
    int depth = 0;
    for (size_t j = open; j < tokens.size(); ++j) {
      if (tokens[j].quoted) continue;
      if (tokens[j].text == "{") ++depth;
      if (tokens[j].text == "}" && --depth == 0) return j;
    }
    return tokens.size();
  }

  void SubstituteEnv(LexedToken& t) {
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

  void Import(const LexedToken& at, const LexedToken& what, const std::string& file, int depth, std::vector<LexedToken>& out) {
    if (depth >= kMaxImportDepth) {
      errors_.push_back(at.pos.Error(absl::StrCat("imports nest deeper than ", kMaxImportDepth,
                                                      " levels (an import cycle?)")));
      return;
    }
    if (auto it = snippets_.find(what.text); it != snippets_.end()) {
      // A snippet's tokens keep their own positions; the first starts a line here.
      std::vector<LexedToken> tokens = it->second;
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
        errors_.push_back(what.pos.Error(absl::StrCat("import: no snippet named ", what.text, " and no file ",
                                                          pattern)));
      }
      return;  // a glob that matches nothing imports nothing, as in CoreDNS
    }
    for (const std::string& path : paths) {
      std::optional<std::string> text = ReadCorefileSource(options_, path);
      if (!text) {
        errors_.push_back(what.pos.Error(absl::StrCat("import: cannot read ", path)));
        continue;
      }
      std::vector<LexedToken> tokens = Expand(*text, path, depth + 1);
      out.insert(out.end(), tokens.begin(), tokens.end());
    }
  }

  const CorefileReadOptions& options_;
  std::vector<ConfigError>& errors_;
  absl::flat_hash_map<std::string, std::vector<LexedToken>> snippets_;
};

}  // namespace

std::vector<LexedToken> ExpandCorefile(absl::string_view text, const std::string& file,
                                       const CorefileReadOptions& options, std::vector<ConfigError>& errors) {
  return Expander(options, errors).Expand(text, file, 0);
}

std::optional<std::string> ReadCorefileSource(const CorefileReadOptions& options, const std::string& path) {
  if (options.read_file) return options.read_file(path);
  absl::StatusOr<std::string> text = ReadRegularFile(path);
  if (!text.ok()) return std::nullopt;
  return *std::move(text);
}

}  // namespace meshdns
