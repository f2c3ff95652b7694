#include "config/serving.h"

#include "config/corefile_runtime.h"

namespace meshdns {

ServingLoad LoadServing(const ServingSource& source) {
  ServingLoad out;
  if (source.format == ConfigFormat::kCorefile) {
    CorefileLoad c = LoadCorefile(source.path, {.ignore_unsupported = source.ignore_unsupported});
    out.config = std::move(c.config);
    out.compiled = std::move(c.serving);
    out.errors = std::move(c.errors);
    out.warnings = std::move(c.warnings);
    out.watch = std::move(c.watch);
    return out;
  }
  LoadResult r = source.path.empty() ? EmbeddedDefaultConfig() : LoadConfigFile(source.path);
  if (r.config) out.compiled = CompileMesh(*r.config);
  out.config = std::move(r.config);
  out.errors = std::move(r.errors);
  return out;
}

}  // namespace meshdns
