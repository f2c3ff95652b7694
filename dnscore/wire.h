// Bounds-checked reading and writing of DNS wire data (RFC 1035 section 4).
// Every read checks the remaining length; a short or malformed message is a
// returned failure, never a crash. Pure functions and small value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "dnscore/dns_name.h"

namespace meshdns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxMessageSize = 65535;
// The largest query served, over UDP and TCP alike. A query carries one
// question (at most 259 bytes) and its EDNS options; padded (RFC 8467) or with
// cookies it stays far below this. Anything larger is dropped unread.
inline constexpr size_t kMaxQuerySize = 4096;
inline constexpr uint16_t kClassIN = 1;
inline constexpr uint16_t kClassCH = 3;
inline constexpr uint16_t kClassANY = 255;

enum RrType : uint16_t {
  kTypeA = 1, kTypeNS = 2, kTypeCNAME = 5, kTypeSOA = 6, kTypePTR = 12, kTypeHINFO = 13, kTypeMX = 15,
  kTypeTXT = 16, kTypeAAAA = 28, kTypeSRV = 33, kTypeDNAME = 39, kTypeOPT = 41,
  // Obsolete or rare types whose RDATA holds names (RFC 3597 section 4).
  kTypeMD = 3, kTypeMF = 4, kTypeMB = 7, kTypeMG = 8, kTypeMR = 9, kTypeMINFO = 14, kTypeRP = 17,
  kTypeAFSDB = 18, kTypeRT = 21, kTypePX = 26, kTypeNAPTR = 35, kTypeKX = 36,
  kTypeTSIG = 250, kTypeAXFR = 252, kTypeIXFR = 251, kTypeANY = 255,
};

enum Rcode : uint8_t {
  kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3, kNotImp = 4, kRefused = 5,
};

// Header flag bits in the second 16-bit word.
inline constexpr uint16_t kFlagQR = 0x8000;
inline constexpr uint16_t kOpcodeMask = 0x7800;
inline constexpr uint16_t kFlagAA = 0x0400;
inline constexpr uint16_t kFlagTC = 0x0200;
inline constexpr uint16_t kFlagRD = 0x0100;
inline constexpr uint16_t kFlagRA = 0x0080;
inline constexpr uint16_t kFlagAD = 0x0020;
inline constexpr uint16_t kFlagCD = 0x0010;

inline uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t ReadU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void WriteU16(uint8_t* p, uint16_t v) { p[0] = static_cast<uint8_t>(v >> 8); p[1] = static_cast<uint8_t>(v); }
inline void WriteU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24); p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8); p[3] = static_cast<uint8_t>(v);
}

// The fixed 12-byte header, decoded.
struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  bool qr() const { return flags & kFlagQR; }
  uint8_t opcode() const { return (flags >> 11) & 0xf; }
  uint8_t rcode() const { return flags & 0xf; }
  static std::optional<Header> Read(std::span<const uint8_t> msg);
  void Write(uint8_t* out) const;
};

// A cursor over a message. Names may use compression pointers; Skip/ReadName
// follow the rules of RFC 1035 4.1.4 and reject loops and forward jumps.
class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> msg, size_t pos = 0) : msg_(msg), pos_(pos) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return msg_.size() - pos_; }
  [[nodiscard]] bool Skip(size_t n);
  [[nodiscard]] bool U16(uint16_t& v);
  [[nodiscard]] bool U32(uint32_t& v);
  // Reads a name, following compression pointers (each must point backwards).
  [[nodiscard]] bool Name(DnsName& out);
  // Reads a name that must not use compression (a query's question).
  [[nodiscard]] bool UncompressedName(DnsName& out);
  // Steps over a name without decoding it.
  [[nodiscard]] bool SkipName();

 private:
  std::span<const uint8_t> msg_;
  size_t pos_;
};

// Fixed-size fields of a resource record, read after its owner name.
struct RrFixed {
  uint16_t type = 0, rclass = 0;
  uint32_t ttl = 0;
  uint16_t rdlength = 0;
  size_t ttl_offset = 0;   // where the TTL sits in the message
  size_t rdata_offset = 0;
};
[[nodiscard]] bool ReadRrFixed(WireReader& r, RrFixed& rr);

}  // namespace meshdns
