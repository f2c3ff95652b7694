// Test helper: writes DNS messages byte by byte, so a test shows exactly what
// it feeds the code under test (including malformed input no library would
// produce). Independent of dnscore's own name and wire code on purpose, so a
// bug there cannot hide itself. Header-only; each test owns its builders.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "dnscore/wire.h"

namespace meshdns::testing {

// "www.example.com" (a trailing dot is optional; "" and "." are the root)
// as uncompressed wire labels. Test names never need escapes.
inline std::vector<uint8_t> EncodeName(std::string_view dotted) {
  std::vector<uint8_t> out;
  while (!dotted.empty() && dotted != ".") {
    size_t dot = dotted.find('.');
    std::string_view label = dotted.substr(0, dot);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

class Wire {
 public:
  Wire& U8(uint8_t v) { bytes_.push_back(v); return *this; }
  Wire& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  Wire& U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v)); }
  Wire& Bytes(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); return *this; }
  Wire& Bytes(std::initializer_list<uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); return *this; }

  Wire& Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0, uint16_t ar = 0) {
    return U16(id).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);
  }
  Wire& Name(std::string_view dotted) { return Bytes(EncodeName(dotted)); }
  // A compression pointer to `offset` (RFC 1035 4.1.4).
  Wire& Pointer(uint16_t offset) { return U16(static_cast<uint16_t>(0xc000 | offset)); }
  Wire& Question(std::string_view name, uint16_t type, uint16_t rclass = kClassIN) {
    return Name(name).U16(type).U16(rclass);
  }
  // Type, class, TTL and RDATA of a record whose owner was just written.
  Wire& RrBody(uint16_t type, uint32_t ttl, std::span<const uint8_t> rdata, uint16_t rclass = kClassIN) {
    return U16(type).U16(rclass).U32(ttl).U16(static_cast<uint16_t>(rdata.size())).Bytes(rdata);
  }
  Wire& Rr(std::string_view owner, uint16_t type, uint32_t ttl, std::span<const uint8_t> rdata,
           uint16_t rclass = kClassIN) {
    return Name(owner).RrBody(type, ttl, rdata, rclass);
  }
  Wire& A(std::string_view owner, uint32_t ttl, std::initializer_list<uint8_t> ip = {192, 0, 2, 1}) {
    std::vector<uint8_t> rdata(ip);
    return Rr(owner, kTypeA, ttl, rdata);
  }
  Wire& Cname(std::string_view owner, uint32_t ttl, std::string_view target) {
    return Rr(owner, kTypeCNAME, ttl, EncodeName(target));
  }
  // An SOA for `zone` whose MINIMUM (the negative-caching field) is `minimum`.
  Wire& Soa(std::string_view zone, uint32_t ttl, uint32_t minimum) {
    Wire rdata;
    rdata.Name("ns.example").Name("hostmaster.example").U32(1).U32(7200).U32(1800).U32(86400).U32(minimum);
    return Rr(zone, kTypeSOA, ttl, rdata.bytes());
  }
  // An EDNS0 OPT pseudo-record (RFC 6891 6.1.2) owned by the root.
  Wire& Opt(uint16_t udp_size, uint8_t version = 0, bool dnssec_ok = false, uint8_t extended_rcode = 0) {
    return U8(0).U16(kTypeOPT).U16(udp_size).U8(extended_rcode).U8(version).U16(dnssec_ok ? 0x8000 : 0).U16(0);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  operator std::span<const uint8_t>() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t flags = kFlagRD;
  uint16_t edns_udp_size = 0;  // non-zero: the query carries an OPT advertising it
  bool dnssec_ok = false;
  uint8_t edns_version = 0;
  bool edns = false;           // an OPT even with edns_udp_size 0
};

// A well-formed client query with one question and, optionally, EDNS.
inline std::vector<uint8_t> MakeQuery(std::string_view name, uint16_t type, const QueryOptions& o = {}) {
  Wire w;
  const bool edns = o.edns || o.edns_udp_size != 0;
  w.Header(o.id, o.flags, 1, 0, 0, edns ? 1 : 0).Question(name, type);
  if (edns) w.Opt(o.edns_udp_size, o.edns_version, o.dnssec_ok);
  return w.bytes();
}

}  // namespace meshdns::testing
