// ServiceMerge: the sans-I/O half of contract rule 4 (MCS-API service names).
// `<svc>.<ns>.svc.<clusterset>` is asked of every cluster as
// `<svc>.<ns>.<cluster>.svc.<domain>`; this file names those questions and
// merges the clusters' replies by affinity into one answer. A namespace,
// `<ns>.svc.<clusterset>`, is asked the same way to learn whether it exists.
// The fan-out itself (parallel, budgeted) is the query engine's. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/mesh.h"
#include "dnscore/message.h"

namespace meshdns {

enum class Affinity { kAll, kLocal, kRemote };

// A clusterset service question, split: `<prefix>.<svc>.<ns>.svc.<clusterset>`
// where prefix is empty (A/AAAA/any type) or `_<port>._<proto>` (SRV); or a
// namespace, `<ns>.svc.<clusterset>`, with no service.
struct ServiceName {
  DnsName prefix;      // the labels before <svc>, possibly none (root)
  std::string service, ns;
  // The name cluster `c` is asked: `<prefix>.<svc>.<ns>.<c>.svc.<domain>`,
  // or `<ns>.<c>.svc.<domain>` for a namespace.
  DnsName ClusterName(const Mesh& mesh, size_t cluster) const;
  // A namespace exists, with no records, when some cluster knows it
  // (Kubernetes DNS answers `<ns>.svc.<domain>` with NODATA then, RFC 8020).
  bool IsNamespace() const { return service.empty(); }
};

// Recognises `<ns>.svc.<clusterset>`, `<svc>.<ns>.svc.<clusterset>` and
// `_<port>._<proto>.<svc>.<ns>.svc.<clusterset>`.
std::optional<ServiceName> ParseServiceName(const Mesh& mesh, const DnsName& qname);

// What one cluster said, as a reply already renamed into that cluster's zone
// (contract rule 1), or nothing if it did not answer in time.
struct ClusterPart {
  size_t cluster = 0;
  std::optional<std::vector<uint8_t>> reply;
};

struct MergeOptions {
  Affinity affinity = Affinity::kAll;
  size_t local = 0;
  uint32_t ttl_cap = 5;   // MCS implementations all use 5 s: moving endpoints show fast
};

// The merged answer for `qname`: records of the asked type from the chosen
// clusters, owners set to `qname`, SRV targets moved into the clusterset zone
// (`<host>.<cluster>.<svc>.<ns>.svc.<clusterset>` for headless endpoints,
// `<svc>.<ns>.svc.<clusterset>` for the service itself), duplicates removed,
// one TTL (the smallest, capped). NXDOMAIN with SOA when no cluster knows the
// name, NODATA with SOA when some know it without the type (a namespace:
// always), SERVFAIL (error) when none answered at all.
absl::StatusOr<std::vector<uint8_t>> MergeServiceAnswers(const Mesh& mesh, const ServiceName& name,
                                                        const DnsName& qname, uint16_t qtype,
                                                        std::span<const ClusterPart> parts,
                                                        const MergeOptions& options, const ldns_rr* soa);

}  // namespace meshdns
