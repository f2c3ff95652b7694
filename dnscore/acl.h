// Client access control (contract `acl`): deny wins over allow; a client
// matched by neither is refused. Immutable after construction; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

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
  static absl::StatusOr<Cidr> Parse(absl::string_view text);
  bool Contains(const IpAddress& a) const;
};

class Acl {
 public:
  Acl() = default;
  Acl(std::vector<Cidr> allow, std::vector<Cidr> deny) : allow_(std::move(allow)), deny_(std::move(deny)) {}
  bool Allows(const IpAddress& client) const;

 private:
  std::vector<Cidr> allow_, deny_;
};

}  // namespace meshdns
