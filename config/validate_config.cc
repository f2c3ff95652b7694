// The validate stage: checks between values the reader took one at a time.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config_source.h"
#include "config/yaml_reader.h"

namespace meshdns {

void ValidateConfig(const ConfigSource& source, ConfigProblems& problems) {
  const Config& c = source.config;
  if (source.forward && c.forward.timeout <= 0) {
    problems.Add(source.forward_end, *source.forward, "forward.timeout must be positive");
  }
  if (source.cache && c.cache.ttl.min_ttl > c.cache.ttl.max_ttl) {
    problems.Add(source.cache_end, *source.cache, "cache.min_ttl is larger than cache.max_ttl");
  }
  if (!source.cluster) problems.Add(source.keys_end, source.root, "missing required key 'cluster'");
  if (!source.clusters) problems.Add(source.keys_end, source.root, "missing required key 'clusters'");
  if (source.cluster && source.clusters && !c.cluster.empty() && IsDnsLabel(c.cluster)) {
    bool found = false;
    for (const ClusterConfig& cl : c.clusters) found = found || absl::EqualsIgnoreCase(cl.name, c.cluster);
    if (!found) {
      problems.Add(source.keys_end, *source.cluster,
                   absl::StrCat("cluster '", c.cluster, "' is not listed under clusters"));
    }
  }
}

}  // namespace meshdns
