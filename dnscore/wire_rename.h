// Renames the names in a reply on the wire: the question gets the client's
// name, every owner name and every target-like name in RDATA (CNAME, DNAME,
// NS, PTR, MX, SRV, NAPTR replacement, SOA MNAME: the names CoreDNS's rewrite
// calls "values") go through the caller's maps, and TTLs may be clamped.
// Names are read through their compression pointers and written compressed
// again; RDATA without such names is copied as it is. This is the response
// half of both contract rule 1 (ClusterRewrite) and CoreDNS's `rewrite`.
// Thread-safe given one RenameScratch per thread; the result is exactly sized.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"

namespace meshdns {

// Writes the new name into `out` and returns true, or returns false to keep the name.
using NameMap = absl::FunctionRef<bool(const DnsName& in, DnsName& out)>;

// CoreDNS's `rewrite ttl`: every record's TTL kept within [min, max].
struct TtlClamp {
  uint32_t min = 0;
  uint32_t max = std::numeric_limits<uint32_t>::max();
};

// Where a renamed reply is written before its size is known. Its owner (one
// per worker; not thread-safe) keeps it from reply to reply, so renaming
// allocates only the exactly sized result.
struct RenameScratch {
  std::vector<uint8_t> bytes;
};

absl::StatusOr<std::vector<uint8_t>> RenameReply(std::span<const uint8_t> reply, const DnsName& question_name,
                                                 NameMap owner, NameMap value, std::optional<TtlClamp> ttl,
                                                 RenameScratch& scratch);

}  // namespace meshdns
