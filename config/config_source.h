// The YAML configuration between its three stages: read (YAML into Config,
// with the positions later stages report at), validate (cross-checks) and
// compile (templates). Problems are kept in the order one pass over the
// document would meet them. Plain values, one per load; not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/config.h"

namespace meshdns {

struct YamlPos {
  int line = 0;  // 1-based
  int column = 0;
};

// How many of the reader's problems come before a later stage's problem.
using ReadMark = size_t;

struct TemplateSource {
  TemplateConfig config;                 // compiled by CompileConfig
  std::optional<YamlPos> match, answer;  // where each was given, if it was
  ReadMark read_end = 0;                 // the reader's problems up to and including this template's
};

struct ConfigSource {
  Config config;  // as read; config.templates is CompileConfig's to fill
  YamlPos root;
  std::optional<YamlPos> cluster, clusters;  // where the keys' values are, if given
  std::optional<YamlPos> forward, cache;     // given as mappings
  ReadMark forward_end = 0, cache_end = 0;   // the reader's problems up to the end of each section
  ReadMark keys_end = 0;                     // ... up to the end of the top-level keys but templates
  std::optional<std::vector<TemplateSource>> templates;  // absent: the default template
};

// Problems from the three stages; Ordered() places each later one after the
// reader's problems its ReadMark counts, keeping stage order among equals.
class ConfigProblems {
 public:
  explicit ConfigProblems(std::string file) : file_(std::move(file)) {}

  void SetRead(std::vector<ConfigError> errors);
  size_t ReadCount() const { return read_.size(); }
  void Add(ReadMark after, const YamlPos& at, std::string message);
  std::vector<ConfigError> Ordered() &&;

 private:
  std::string file_;
  std::vector<ConfigError> read_;
  std::vector<std::pair<ReadMark, ConfigError>> later_;
};

// YAML text into a ConfigSource; nothing when it is not a YAML mapping.
std::optional<ConfigSource> ReadConfigYaml(absl::string_view text, const std::string& file, ConfigProblems& problems);
// Cross-checks between values the reader took one at a time.
void ValidateConfig(const ConfigSource& source, ConfigProblems& problems);
// Templates (the given ones, or contract rule 2's default) compiled into source.config.
void CompileConfig(ConfigSource& source, ConfigProblems& problems);

}  // namespace meshdns
