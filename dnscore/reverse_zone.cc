#include "dnscore/reverse_zone.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

struct Network {
  std::array<uint8_t, 16> bytes{};
  int size = 4;  // bytes: 4 or 16
  int prefix = 0;
};

std::optional<Network> Parse(absl::string_view text) {
  const size_t slash = text.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  Network n;
  const std::string address(text.substr(0, slash));
  if (inet_pton(AF_INET, address.c_str(), n.bytes.data()) == 1) {
    n.size = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), n.bytes.data()) == 1) {
    n.size = 16;
  } else {
    return std::nullopt;
  }
  const absl::string_view prefix = text.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 || prefix.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(prefix, &n.prefix) || n.prefix > n.size * 8) {
    return std::nullopt;
  }
  return n;
}

// Bit `i` (from the most significant) of the address.
void SetBit(Network& n, int i, bool on) {
  const uint8_t mask = static_cast<uint8_t>(0x80 >> (i % 8));
  n.bytes[i / 8] = on ? (n.bytes[i / 8] | mask) : (n.bytes[i / 8] & ~mask);
}

// The reverse name of the first `digits` labels of the address (octets or nibbles).
absl::StatusOr<DnsName> ReverseName(const Network& n, int digits) {
  std::string text;
  for (int d = digits - 1; d >= 0; --d) {
    if (n.size == 4) {
      absl::StrAppend(&text, n.bytes[d], ".");
    } else {
      const uint8_t byte = n.bytes[d / 2];
      absl::StrAppend(&text, absl::Hex((d % 2 == 0) ? byte >> 4 : byte & 0x0f), ".");
    }
  }
  absl::StrAppend(&text, n.size == 4 ? "in-addr.arpa." : "ip6.arpa.");
  return DnsName::FromText(text);
}

}  // namespace

bool LooksLikeNetwork(absl::string_view text) { return Parse(text).has_value(); }

absl::StatusOr<std::vector<DnsName>> ReverseZones(absl::string_view network) {
  std::optional<Network> n = Parse(network);
  if (!n) return absl::InvalidArgumentError(absl::StrCat("'", network, "' is not an address/prefix network"));
  // CoreDNS refuses IPv6 networks written from '::' (and IPv4-mapped ones,
  // which start so); its check looks at the text, so this one does too.
  if (network[0] == ':' || (network[0] == '0' && network.find(':') != absl::string_view::npos)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid CIDR ", network));
  }
  const int bits = n->size * 8;
  const int boundary = n->size == 4 ? 8 : 4;
  for (int i = n->prefix; i < bits; ++i) SetBit(*n, i, false);  // the network, as net.ParseCIDR gives it
  const int rounded = (n->prefix + boundary - 1) / boundary * boundary;
  const int spread = rounded - n->prefix;  // at most boundary - 1 bits: 128 zones for IPv4, 8 for IPv6
  std::vector<DnsName> zones;
  for (uint32_t part = 0; part < (1u << spread); ++part) {
    Network sub = *n;
    for (int b = 0; b < spread; ++b) SetBit(sub, n->prefix + b, (part >> (spread - 1 - b)) & 1);
    absl::StatusOr<DnsName> zone = ReverseName(sub, rounded / boundary);
    if (!zone.ok()) return zone.status();
    zones.push_back(*std::move(zone));
  }
  return zones;
}

}  // namespace meshdns
