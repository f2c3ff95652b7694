// `meshdns import`: a hand-edited mesh Corefile (one cluster's: per-peer
// `<cluster>.svc.<domain>` blocks that strip the cluster label and forward to
// the peer's NodePort, the clusterset `template`, the root block's upstream
// `forward`) turned into the meshdns YAML of the contract. What has no
// meshdns equivalent is reported as a warning with its position; the YAML is
// checked by the same loader `meshdns check` uses before it is returned.
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
