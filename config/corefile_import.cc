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
  // The mesh YAML's acl is one allow/deny list for the whole server that
  // refuses without an Extended DNS Error and refuses who it does not list;
  // a Corefile acl (per zone, per type, filter and drop, EDE, allow by
  // default) never means the same, and leaving it out would open the server.
  for (const ServerPlan& server : plan.servers) {
    for (const DirectiveSite& site : server.sites) {
      if (site.name.text == "acl") {
        result.errors.push_back(site.name.pos.Error(
            "acl: the mesh YAML cannot carry a Corefile acl (per zone and type, block/filter/drop, EDE); run this "
            "Corefile with `meshdns serve --corefile`, or drop the acl and write the YAML's acl: by hand"));
      }
      // A view chooses who a block answers; the YAML has one block per zone
      // for everyone, and leaving the view out would answer everyone.
      if (site.name.text == "view") {
        result.errors.push_back(site.name.pos.Error(
            "view: the mesh YAML cannot carry a Corefile view (blocks chosen by client or query); run this "
            "Corefile with `meshdns serve --corefile`"));
      }
    }
  }
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
