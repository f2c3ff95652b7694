// Reverse zones for a server block key written as a network, as CoreDNS reads
// `10.0.0.0/24 {` (plugin/normalize.go SplitHostPort, plugin/pkg/cidr): the
// in-addr.arpa or ip6.arpa zones that together hold exactly the network's
// addresses. A prefix off a label boundary (8 bits for IPv4, a 4-bit nibble
// for IPv6) becomes every zone one boundary down: 10.0.0.0/23 is
// 0.0.10.in-addr.arpa and 1.0.10.in-addr.arpa.
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dnscore/dns_name.h"

namespace meshdns {

// Whether `text` is an address/prefix at all; names such as RFC 2317's
// 0/26.2.0.192.in-addr.arpa hold a '/' too, and stay names.
bool LooksLikeNetwork(absl::string_view text);

// The zones of a network given as ADDRESS/PREFIX; an error for what CoreDNS
// refuses too (a prefix out of range, an IPv6 network written from '::').
absl::StatusOr<std::vector<DnsName>> ReverseZones(absl::string_view network);

}  // namespace meshdns
