// Reading a YAML document into plain values while collecting every problem
// with its FILE:LINE:COL, shared by the mesh configuration (load_yaml.cc) and
// the values of `meshdns manifests` (manifest_values.cc). One reader per
// document; not thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace meshdns {

// A label as RFC 1123 host names (and Kubernetes object names) have them.
bool IsDnsLabel(absl::string_view s);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // The document, or nothing with the parser's error recorded at its position.
  std::optional<YAML::Node> Parse(absl::string_view text);
  void Error(const YAML::Node& at, std::string message);

  // Parses `text` and hands its root to `read` when it is a mapping (a file
  // that is a list or a scalar is `what` gone wrong).
  template <typename F>
  void ReadMapping(absl::string_view text, absl::string_view what, F read) {
    std::optional<YAML::Node> root = Parse(text);
    if (!root) return;
    if (!root->IsMap()) return Error(*root, absl::StrCat(what, " must be a YAML mapping"));
    read(*root);
  }
  std::vector<ConfigError> TakeErrors() { return std::move(errors_); }
  size_t ErrorCount() const { return errors_.size(); }

  // Calls `handle(key, value)` for each key of `map`; reports duplicate keys
  // and keys not in `known` (an unknown key is usually a typo of a known one).
  template <typename F>
  void ForEachKey(const YAML::Node& map, const std::set<std::string>& known, absl::string_view where, F handle) {
    if (!map.IsMap()) {
      Error(map, absl::StrCat(where, " must be a mapping"));
      return;
    }
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second) {
        Error(it->first, absl::StrCat("duplicate key '", key, "' in ", where));
        continue;
      }
      if (!known.count(key)) {
        Error(it->first, absl::StrCat("unknown key '", key, "' in ", where, " (known: ", absl::StrJoin(known, ", "), ")"));
        continue;
      }
      handle(key, it->second);
    }
  }

  bool Scalar(const YAML::Node& n, absl::string_view what, std::string& out);
  void Duration(const YAML::Node& n, absl::string_view what, Millis& out);
  void Bool(const YAML::Node& n, absl::string_view what, bool& out);
  std::vector<std::string> StringList(const YAML::Node& n, absl::string_view what);

  template <typename T>
  void Unsigned(const YAML::Node& n, absl::string_view what, T& out, uint64_t min = 0) {
    std::string s;
    if (!Scalar(n, what, s)) return;
    uint64_t v = 0;
    if (!ParseUnsigned(s, v) || v < min || v > std::numeric_limits<T>::max()) {
      return Error(n, absl::StrCat(what, ": '", s, "' is not a whole number", min ? absl::StrCat(" >= ", min) : ""));
    }
    out = static_cast<T>(v);
  }

 protected:
  static bool ParseUnsigned(absl::string_view s, uint64_t& out);

  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace meshdns
