// Client access control. Acl is the mesh YAML's (contract `acl`): deny wins
// over allow; a client matched by neither is refused. ZoneAcl is a Corefile
// block's `acl`, with CoreDNS's rules. Immutable after construction; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dnscore/dns_name.h"

namespace meshdns {

// An IPv4 address is held as its IPv4-mapped IPv6 form so both families
// share one comparison.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  static IpAddress FromV4(const std::array<uint8_t, 4>& v4);
  static IpAddress FromV6(const std::array<uint8_t, 16>& v6) { return IpAddress{v6}; }
  // An IPv4 address (held IPv4-mapped), as Go's To4 sees one.
  bool IsV4() const;
};

struct Cidr {
  IpAddress base;
  int prefix = 0;  // in the mapped 128-bit space
  bool v4 = false;  // written as IPv4
  static absl::StatusOr<Cidr> Parse(absl::string_view text);
  bool Contains(const IpAddress& a) const;
  // As Go's IP trees match: an IPv4 client only against IPv4 networks, an
  // IPv6 one only against IPv6 networks (::/0 holds no IPv4 client).
  bool ContainsSameFamily(const IpAddress& a) const { return v4 == a.IsV4() && Contains(a); }
};

class Acl {
 public:
  Acl() = default;
  Acl(std::vector<Cidr> allow, std::vector<Cidr> deny) : allow_(std::move(allow)), deny_(std::move(deny)) {}
  bool Allows(const IpAddress& client) const;

 private:
  std::vector<Cidr> allow_, deny_;
};

// What CoreDNS's acl does with a question: allow it on to the next plugin,
// block it (REFUSED, EDE Blocked), filter it (an empty NOERROR, EDE
// Filtered) or drop it (no reply at all).
enum class AclAction : uint8_t { kAllow, kBlock, kFilter, kDrop };

// ACTION [type QTYPE…] [net SOURCE…]: no types matches every type, no nets every client.
struct AclPolicy {
  AclAction action = AclAction::kAllow;
  std::vector<uint16_t> qtypes;
  std::vector<Cidr> nets;
  bool Matches(uint16_t qtype, const IpAddress& client) const;
};

// acl [ZONES…] { policies }
struct AclRule {
  std::vector<DnsName> zones;
  std::vector<AclPolicy> policies;
};

// A block's `acl` lines in order. A rule whose zones hold the name is asked:
// its first matching policy decides, and allow ends the checking; a rule
// with no matching policy passes the question to the next rule. Allowed
// when no rule decides.
class ZoneAcl {
 public:
  ZoneAcl() = default;
  explicit ZoneAcl(std::vector<AclRule> rules) : rules_(std::move(rules)) {}
  bool empty() const { return rules_.empty(); }
  // No allocation.
  AclAction Decide(const DnsName& qname, uint16_t qtype, const IpAddress& client) const;

 private:
  std::vector<AclRule> rules_;
};

}  // namespace meshdns
