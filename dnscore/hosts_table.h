// HostsTable: CoreDNS's `hosts` plugin for one server block — A, AAAA and
// (unless no_reverse) PTR answers from /etc/hosts-style entries, inline or
// from a file. A name it does not know passes on with `fallthrough`, else
// gets SERVFAIL (hosts has no SOA to make an NXDOMAIN cacheable); a name it
// knows with no record of the asked type gets an empty NOERROR.
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/message.h"

namespace meshdns {

struct HostsEntry {
  std::string ip;  // IPv4 or IPv6 text
  std::vector<DnsName> names;
};

struct HostsOutcome {
  enum class Kind { kNext, kServFail, kAnswer };
  Kind kind = Kind::kNext;
  std::vector<RrPtr> answer;
};

struct HostsOptions {
  std::vector<DnsName> zones;
  uint32_t ttl = 3600;
  bool no_reverse = false;
  std::optional<std::vector<DnsName>> fallthrough;  // empty list: every zone
};

class HostsTable {
 public:
  // Entries that are not addresses are skipped, as in hosts(5) readers.
  HostsTable(HostsOptions options, const std::vector<HostsEntry>& entries);

  // hosts(5): `IP NAME…` per line, `#` comments.
  static std::vector<HostsEntry> ParseFile(absl::string_view text);

  HostsOutcome Lookup(const DnsName& qname, uint16_t qtype) const;
  size_t size() const { return forward_.size(); }

 private:
  struct Addresses {
    std::vector<std::string> v4, v6;
  };
  bool FallsThrough(const DnsName& qname) const;

  HostsOptions options_;
  absl::flat_hash_map<std::string, Addresses> forward_;              // lower-cased FQDN
  absl::flat_hash_map<std::string, std::vector<std::string>> reverse_;  // reverse name -> FQDNs
};

}  // namespace meshdns
