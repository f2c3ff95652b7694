// A Corefile as `check --corefile` and `import` read it: the lexer and
// parser (quotes, escapes, nested blocks, snippets, `{$ENV}`), imports (every
// imported name reads back a small fixed file that imports again, so cycles
// and depth are exercised without touching the disk), the directive check,
// every directive's options, and the import into a mesh YAML.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "config/corefile.h"
#include "config/corefile_import.h"
#include "config/corefile_plugins.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshdns;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CorefileReadOptions options;
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "UNSET") return std::nullopt;
    return "10.0.0.1:53";
  };
  options.read_file = [](const std::string& path) -> std::optional<std::string> {
    if (path.find("missing") != std::string::npos) return std::nullopt;
    return "cache 10\nimport again.conf\n";
  };
  const CorefileResult r = ReadCorefileText(text, "Corefile", options);
  if (r.corefile.has_value() == !r.errors.empty()) std::abort();
  if (!r.corefile) return 0;
  (void)CheckCorefileDirectives(*r.corefile, /*ignore_unsupported=*/false);
  (void)PlanCorefile(*r.corefile);
  const ImportResult imported = ImportCorefile(*r.corefile, std::string("cluster1"));
  if (imported.yaml.empty() == imported.errors.empty()) std::abort();
  return 0;
}
