// MessageWriter: appends DNS wire data to a buffer, with RFC 1035 4.1.4 name
// compression. Names are compressed only against names this writer wrote
// itself, matched byte for byte (case included), so the output reads back as
// exactly the names that went in. Pure; one per message.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "dnscore/dns_name.h"
#include "dnscore/wire.h"

namespace meshdns {

class MessageWriter {
 public:
  explicit MessageWriter(std::vector<uint8_t>& out) : out_(out) {}

  void U16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  // Writes `name`, ending in a pointer to an earlier copy of its longest
  // suffix already written when `compress` is set (RFC 3597: only in owner
  // names and the RDATA of RFC 1035's own types). Either way the name's
  // labels become targets for later names.
  void Name(const DnsName& name, bool compress);
  size_t size() const { return out_.size(); }
  uint8_t* at(size_t offset) { return out_.data() + offset; }

 private:
  // A written suffix: where it starts and which one (a hash of its bytes;
  // a match is confirmed by reading the bytes back).
  struct Target {
    uint16_t offset;
    uint64_t hash;
  };
  static constexpr size_t kMaxTargets = 128;
  bool SameNameAt(size_t offset, std::span<const uint8_t> suffix) const;

  std::vector<uint8_t>& out_;
  std::array<Target, kMaxTargets> targets_;
  size_t target_count_ = 0;
};

}  // namespace meshdns
