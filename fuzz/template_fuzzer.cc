// The clusterset template, from an operator's text to a record: the input is
// a regex line, a name line, then answer lines (Go text/template actions and
// RR text). Compiling must refuse what it cannot render; a compiled template
// must match, render text and parse records for any name without crashing.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "dnscore/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshdns;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = absl::StrSplit(input, '\n');
  if (lines.size() < 3) return 0;
  const std::string regex = lines[0];
  const std::string name = absl::AsciiStrToLower(lines[1]);
  const std::vector<std::string> answers(lines.begin() + 2, lines.end());
  absl::StatusOr<std::shared_ptr<const Template>> t = Template::Compile(regex, answers);
  if (!t.ok()) return 0;
  TemplateMatch m;
  if (!(*t)->Match(name, m)) return 0;
  const TemplateData d{.name = name, .zone = "clusterset.local.", .qclass = "IN", .qtype = "A"};
  (void)(*t)->RenderText(m, d);
  (void)(*t)->Render(m, d);
  (void)(*t)->Group(m, "cluster");
  return 0;
}
