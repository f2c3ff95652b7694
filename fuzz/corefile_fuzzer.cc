// A Corefile as `check --corefile` and `import` read it: the lexer and
// parser (quotes, escapes, nested blocks, snippets, `{$ENV}`), imports (every
// imported name reads back a small fixed file that imports again, so cycles
// and depth are exercised without touching the disk), the directive check,
// every directive's options, the import into a mesh YAML, and the compiled
// server blocks `serve --corefile` runs, asked a few questions.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "config/corefile.h"
#include "config/corefile_import.h"
#include "config/corefile_plugins.h"
#include "config/corefile_runtime.h"

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
  const CorefileLoad load = CompileCorefile(*r.corefile, {.ignore_unsupported = true});
  if (load.config.has_value() == !load.errors.empty()) std::abort();
  if (!load.config) return 0;
  for (const char* text : {"www.example.org", "a.cluster2.svc.cluster.local", "x.y.svc.clusterset.local", "."}) {
    const DnsName name = *DnsName::FromText(text);
    const Block* block = load.serving.program.Dispatch(name);
    if (!block) continue;
    absl::StatusOr<RewriteOutcome> rewritten = block->rewrite.Apply(name, 1, 1);
    if (!rewritten.ok()) continue;
    (void)block->templates.Answer(rewritten->name, 1, 1);
    if (block->hosts) (void)block->hosts->Lookup(rewritten->name, 1);
    (void)block->ForwardFor(rewritten->name);
  }
  return 0;
}
