#include "config/yaml_emit.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace meshdns {
namespace {

// Would a plain scalar with this text read back as a bool, null or number
// under YAML 1.1 or 1.2 (kubectl's parser follows 1.1's wider lists)? Errs
// towards yes: quoting a string that did not need it changes nothing.
bool ReadsAsNonString(absl::string_view s) {
  if (s.empty()) return true;
  const std::string lower = absl::AsciiStrToLower(s);
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf",
                           "+.inf", ".nan"}) {
    if (lower == word) return true;
  }
  if (!absl::ascii_isdigit(static_cast<unsigned char>(s[0])) && s[0] != '+' && s[0] != '-' && s[0] != '.') {
    return false;
  }
  // Digits with signs, points, exponents, hex/octal prefixes, 1.1's
  // underscores and base-60 colons.
  for (char c : lower) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && !absl::StrContains("+-._:xo", c)) return false;
  }
  return true;
}

// A string scalar: quoted when plain it would read as another type.
void PutString(YAML::Emitter& out, const std::string& s) {
  if (absl::StrContains(s, '\n') && s[0] != ' ') {
    // A literal block cannot start with a space without an indentation
    // indicator, which yaml-cpp does not write.
    out << YAML::Literal << s;
  } else if (ReadsAsNonString(s)) {
    out << YAML::DoubleQuoted << s;
  } else {
    out << s;
  }
}

void Put(YAML::Emitter& out, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      if (n.size() == 0) out << YAML::Flow;
      out << YAML::BeginMap;
      for (auto it = n.begin(); it != n.end(); ++it) {
        // Keys of Kubernetes objects are strings, whatever they look like.
        out << YAML::Key;
        PutString(out, it->first.Scalar());
        out << YAML::Value;
        Put(out, it->second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      if (n.size() == 0) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : n) Put(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar: {
      if (n.Tag() == "!") {
        PutString(out, n.Scalar());
      } else {
        out << n.Scalar();
      }
      return;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      return;
  }
}

}  // namespace

YAML::Node Str(absl::string_view s) {
  YAML::Node n(std::string{s});
  n.SetTag("!");
  return n;
}

std::string EmitDocument(const YAML::Node& document) {
  YAML::Emitter out;
  Put(out, document);
  return std::string(out.c_str()) + "\n";
}

std::string EmitDocuments(const std::vector<YAML::Node>& documents) {
  std::string text;
  for (const YAML::Node& d : documents) text += "---\n" + EmitDocument(d);
  return text;
}

}  // namespace meshdns
