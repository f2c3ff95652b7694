#include "dnscore/acl.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace meshdns {

IpAddress IpAddress::FromV4(const std::array<uint8_t, 4>& v4) {
  IpAddress a;
  a.bytes[10] = a.bytes[11] = 0xff;
  for (int i = 0; i < 4; ++i) a.bytes[12 + i] = v4[i];
  return a;
}

bool IpAddress::IsV4() const {
  for (int i = 0; i < 10; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  size_t slash = text.find('/');
  std::string host(text.substr(0, slash));
  Cidr c;
  int max_prefix = 0;
  std::array<uint8_t, 4> v4;
  std::array<uint8_t, 16> v6;
  if (inet_pton(AF_INET, host.c_str(), v4.data()) == 1) {
    c.base = IpAddress::FromV4(v4);
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), v6.data()) == 1) {
    c.base = IpAddress::FromV6(v6);
    max_prefix = 128;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an IP address or CIDR"));
  }
  int prefix = max_prefix;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &prefix) || prefix < 0 || prefix > max_prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("bad prefix length in '", text, "'"));
  }
  c.prefix = prefix + (max_prefix == 32 ? 96 : 0);
  c.v4 = max_prefix == 32;
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  int bits = prefix;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

bool Acl::Allows(const IpAddress& client) const {
  for (const Cidr& c : deny_) {
    if (c.Contains(client)) return false;
  }
  for (const Cidr& c : allow_) {
    if (c.Contains(client)) return true;
  }
  return false;
}

bool AclPolicy::Matches(uint16_t qtype, const IpAddress& client) const {
  if (!qtypes.empty() && std::find(qtypes.begin(), qtypes.end(), qtype) == qtypes.end()) return false;
  return nets.empty() ||
         std::any_of(nets.begin(), nets.end(), [&](const Cidr& c) { return c.ContainsSameFamily(client); });
}

AclAction ZoneAcl::Decide(const DnsName& qname, uint16_t qtype, const IpAddress& client) const {
  for (const AclRule& rule : rules_) {
    if (std::none_of(rule.zones.begin(), rule.zones.end(), [&](const DnsName& z) { return qname.IsSubdomainOf(z); })) {
      continue;
    }
    for (const AclPolicy& policy : rule.policies) {
      if (policy.Matches(qtype, client)) return policy.action;
    }
  }
  return AclAction::kAllow;
}

}  // namespace meshdns
