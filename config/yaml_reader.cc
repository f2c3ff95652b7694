#include "config/yaml_reader.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace meshdns {

bool IsDnsLabel(absl::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

std::optional<YAML::Node> YamlReader::Parse(absl::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    errors_.push_back({file_, e.mark.line + 1, e.mark.column + 1, e.msg});
    return std::nullopt;
  }
}

void YamlReader::Error(const YAML::Node& at, std::string message) {
  const YAML::Mark m = at.Mark();
  errors_.push_back({file_, m.line + 1, m.column + 1, std::move(message)});
}

bool YamlReader::Scalar(const YAML::Node& n, absl::string_view what, std::string& out) {
  if (!n.IsScalar()) {
    Error(n, absl::StrCat(what, " must be a single value"));
    return false;
  }
  out = n.Scalar();
  return true;
}

void YamlReader::Duration(const YAML::Node& n, absl::string_view what, Millis& out) {
  std::string s;
  if (!Scalar(n, what, s)) return;
  absl::StatusOr<Millis> d = ParseDuration(s);
  if (!d.ok()) return Error(n, absl::StrCat(what, ": ", d.status().message()));
  out = *d;
}

void YamlReader::Bool(const YAML::Node& n, absl::string_view what, bool& out) {
  std::string s;
  if (!Scalar(n, what, s)) return;
  if (s == "true") out = true;
  else if (s == "false") out = false;
  else Error(n, absl::StrCat(what, ": '", s, "' is not true or false"));
}

std::vector<std::string> YamlReader::StringList(const YAML::Node& n, absl::string_view what) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& item : n) {
      std::string s;
      if (Scalar(item, what, s)) out.push_back(s);
    }
  } else {
    Error(n, absl::StrCat(what, " must be a list"));
  }
  return out;
}

bool YamlReader::ParseUnsigned(absl::string_view s, uint64_t& out) { return absl::SimpleAtoi(s, &out); }

}  // namespace meshdns
