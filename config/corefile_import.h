// `meshdns import`: a hand-edited mesh Corefile planned as `check` and
// `serve` plan it (leniently: what meshdns cannot run is a warning), its
// mesh read from the plan (imported_mesh.h) and printed as the meshdns YAML
// of the contract. What has no meshdns equivalent is reported as a warning
// with its position; the YAML is checked by the same loader `meshdns check`
// uses before it is returned. Plain functions; no shared state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile.h"

namespace meshdns {

struct ImportResult {
  std::string yaml;  // empty when there are errors
  std::vector<ConfigError> warnings;
  std::vector<ConfigError> errors;
};

// `cluster`: the cluster the Corefile belongs to, when it cannot be told
// from the file (it is the one cluster of the mesh without a peer block).
ImportResult ImportCorefile(const Corefile& corefile, const std::optional<std::string>& cluster);

}  // namespace meshdns
