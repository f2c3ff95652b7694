// Where a Corefile listens, as CoreDNS's register.go decides it: every block
// key's port, on each address its `bind` lines name (interface names resolved
// to their addresses, `except` taken out), or on the wildcard without one.
// Blocks are grouped by listen address; each group is a server that
// dispatches among its own blocks only. Groups with the same blocks are one
// server listening on several addresses (NodeLocal DNSCache's two binds).
// Pure planning over values: the machine's interfaces are an argument.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile_plugins.h"
#include "dnscore/program.h"

namespace meshdns {

// An address of a network interface; link-local IPv6 ones need the
// interface's index to be bound.
struct InterfaceAddress {
  std::string ip;
  uint32_t scope_id = 0;
};
// Interface name → its addresses, IPv4 and IPv6.
using Interfaces = std::map<std::string, std::vector<InterfaceAddress>>;

// This machine's interfaces now (getifaddrs); empty when they cannot be read.
Interfaces MachineInterfaces();

struct ListenPlan {
  std::vector<ListenAddress> listeners;  // in the order the file first names them
  std::vector<ServerBlocks> servers;     // server s's blocks, as indexes into the plan's servers
  std::vector<ConfigError> errors;
};

// Refused as CoreDNS refuses them: a zone served twice on one address and
// port, a zone bound on a port where it is also served unbound. Refused where
// CoreDNS would listen somewhere else than written, or nowhere: a name that
// is neither an address nor an interface, an interface without addresses,
// a bind whose every address is excepted.
ListenPlan PlanListeners(const CorefilePlan& plan, const Interfaces& interfaces);

}  // namespace meshdns
