// What `meshdns corefile` prints: the text an operator adds to the CoreDNS
// instances in front of meshdns so that they hand the mesh's names (the
// clusterset zone and every cluster's <cluster>.svc.<domain>) to meshdns.
// Pure functions of a loaded configuration; no I/O, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace meshdns {

// The server block for the cluster's kube-dns Corefile, forwarding to
// meshdns at `to`. Without `to`, the first listen address that is not a
// wildcard; none is an error.
absl::StatusOr<std::string> CorednsStanza(const Config& config, const std::optional<SocketAddress>& to);

// The server block for a node-local DNS cache's Corefile (kubespray's
// nodelocaldns, KKP's and upstream's node-local-dns): bound to `bind` (the
// cache's link-local address, and on upstream's iptables setup also the
// kube-dns ClusterIP it intercepts), forwarding to meshdns at `to`.
absl::StatusOr<std::string> NodeLocalStanza(const Config& config, const std::optional<SocketAddress>& to,
                                            const std::vector<std::string>& bind);

// kubespray inventory variables (nodelocaldns_external_zones and
// coredns_external_zones) that make kubespray's own templates carry the
// mesh's zones, so that re-running its playbooks keeps them.
absl::StatusOr<std::string> KubesprayZones(const Config& config, const std::optional<SocketAddress>& to);

}  // namespace meshdns
