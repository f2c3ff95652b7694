#include "config/corefile_import.h"

#include "absl/strings/str_cat.h"
#include "config/corefile_plugins.h"
#include "config/imported_mesh.h"

namespace meshdns {

ImportResult ImportCorefile(const Corefile& corefile, const std::optional<std::string>& cluster) {
  ImportResult result;
  CorefilePlan plan = PlanCorefile(corefile, {.ignore_unsupported = true});
  MeshImport imported = ImportMesh(plan, {.cluster = cluster});
  result.warnings = std::move(plan.warnings);
  result.warnings.insert(result.warnings.end(), imported.warnings.begin(), imported.warnings.end());
  result.errors = std::move(plan.errors);
  result.errors.insert(result.errors.end(), imported.errors.begin(), imported.errors.end());
  if (!result.errors.empty() || !imported.mesh) return result;
  std::string yaml = MeshYaml(*imported.mesh);
  LoadResult check = LoadConfigText(yaml, "<imported>");
  for (ConfigError& e : check.errors) {
    e.message = absl::StrCat("the imported configuration does not load: ", e.message);
    result.errors.push_back(std::move(e));
  }
  if (result.errors.empty()) result.yaml = std::move(yaml);
  return result;
}

}  // namespace meshdns
