// Template: CoreDNS's `template` for the clusterset zone. An RE2 regex (RE2 is
// the engine Go's regexp mirrors, so patterns mean the same) picks names; the
// answer text, in Go text/template syntax, is split into literal and field
// pieces once at load and only filled in per query. Immutable after Compile,
// shared by all workers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "dnscore/message.h"

namespace re2 { class RE2; }

namespace meshdns {

struct TemplateMatch {
  // [0] is the whole match, [i] group i; views into the matched name.
  absl::InlinedVector<absl::string_view, 8> groups;
};

struct TemplateData {
  absl::string_view name;   // .Name: lower-cased FQDN with trailing dot
  absl::string_view zone;   // .Zone
  absl::string_view qclass; // .Class
  absl::string_view qtype;  // .Type
};

class Template {
 public:
  // Fails on a bad regex, an action the renderer does not know, or a group the
  // regex lacks; the message says which.
  static absl::StatusOr<std::shared_ptr<const Template>> Compile(absl::string_view regex,
                                                                 const std::vector<std::string>& answers);
  ~Template();

  bool Match(absl::string_view lower_fqdn, TemplateMatch& out) const;
  // The value group `name` captured, if the regex has such a group.
  std::optional<absl::string_view> Group(const TemplateMatch& m, absl::string_view name) const;
  // The answer records for a match; a record that does not parse, or a
  // parseInt that fails, is an error (CoreDNS answers SERVFAIL for both).
  absl::StatusOr<std::vector<RrPtr>> Render(const TemplateMatch& m, const TemplateData& data) const;
  // The rendered text of each answer line (exposed for tests and `check`).
  absl::StatusOr<std::vector<std::string>> RenderText(const TemplateMatch& m, const TemplateData& data) const;

 private:
  struct Piece {
    // kEmpty: `.Meta "x"`, which CoreDNS renders empty without its metadata
    // plugin (meshdns has none).
    // kFail: a call Go's template parses but cannot run (parseInt with the
    // wrong number of arguments), an error each time it renders.
    enum Kind { kLiteral, kName, kZone, kClass, kType, kGroup, kEmpty, kFail } kind;
    std::string literal;  // kLiteral text; kFail: the error
    int group = 0;        // kGroup index
    // `parseInt VALUE BASE BITS`: the value read as Go's strconv.ParseUint
    // reads it, written back in decimal. Base and bit size are checked per
    // query, as Go does, so a bad one fails the answer, not the load.
    bool parse_int = false;
    int base = 0, bits = 0;
  };
  Template() = default;
  static absl::StatusOr<Piece> ParseAction(absl::string_view action, const Template& t);
  absl::Status Append(const Piece& p, const TemplateMatch& m, const TemplateData& data, std::string& out) const;

  std::unique_ptr<re2::RE2> regex_;
  std::string regex_text_;  // .Regex
  std::vector<std::vector<Piece>> answers_;
};

}  // namespace meshdns
