// The mesh a Corefile describes, read from its plan (corefile_plugins.h):
// one cluster's hand-edited Corefile (per-peer `<cluster>.svc.<domain>`
// blocks that strip the cluster label and forward to the peer's NodePort,
// the clusterset `template`, the root block's upstream `forward`) as typed
// values. `import` prints it as meshdns YAML; `serve --corefile` applies
// the clusterset rules with it. Plain values and functions; no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile_plugins.h"
#include "dnscore/dns_name.h"
#include "dnscore/policy.h"

namespace meshdns {

// A `forward` of the plan: plan.servers[server].forwards[forward].
struct PlanForwardRef {
  size_t server = 0;
  size_t forward = 0;
};

struct ImportedCluster {
  std::string name;
  std::vector<ForwardTo> resolvers;
  std::optional<Policy> policy;  // when the forward names one
  // The forward this Corefile sends the cluster's names to; none when
  // nothing in it does (its kube-dns is then assumed).
  std::optional<PlanForwardRef> origin;
};

struct ImportedTemplate {
  std::string match;
  std::vector<std::string> answer;
};

// Optional members were written in the Corefile; the rest is meshdns's default.
struct ImportedMesh {
  std::string cluster;  // this Corefile's own
  DnsName domain;
  std::optional<DnsName> clusterset_domain;
  std::vector<ImportedCluster> clusters;  // the own cluster first, then the peers in file order
  std::vector<ForwardTo> upstream;        // empty: the own cluster's resolvers
  std::optional<Millis> expire, health_check;
  std::optional<uint32_t> max_fails;
  std::optional<uint32_t> cache_max_ttl;  // seconds
  std::vector<ImportedTemplate> templates;
  std::optional<uint32_t> inflight;     // forward { max_concurrent }
  std::string metrics, health, ready;   // listen addresses, empty when not served
  std::optional<Millis> lameduck;
};

struct MeshImport {
  std::optional<ImportedMesh> mesh;  // set when there are no errors
  std::vector<ConfigError> warnings;  // what does not carry over, with its position
  std::vector<ConfigError> errors;
};

struct ImportOptions {
  // The cluster the Corefile belongs to, when it cannot be told from the
  // file (it is the one cluster of the mesh without a peer block).
  std::optional<std::string> cluster;
};

// The plan's mesh. The plan's own problems are the caller's to report.
MeshImport ImportMesh(const CorefilePlan& plan, const ImportOptions& options = {});

// The meshdns YAML of the contract for `mesh`, with a comment saying where it came from.
std::string MeshYaml(const ImportedMesh& mesh);

}  // namespace meshdns
