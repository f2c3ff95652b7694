#include "dnscore/wire.h"

namespace meshdns {

std::optional<Header> Header::Read(std::span<const uint8_t> msg) {
  if (msg.size() < kHeaderSize) return std::nullopt;
  const uint8_t* p = msg.data();
  return Header{ReadU16(p), ReadU16(p + 2), ReadU16(p + 4), ReadU16(p + 6), ReadU16(p + 8), ReadU16(p + 10)};
}

void Header::Write(uint8_t* out) const {
  WriteU16(out, id); WriteU16(out + 2, flags);
  WriteU16(out + 4, qdcount); WriteU16(out + 6, ancount);
  WriteU16(out + 8, nscount); WriteU16(out + 10, arcount);
}

bool WireReader::Skip(size_t n) {
  if (remaining() < n) return false;
  pos_ += n;
  return true;
}

bool WireReader::U16(uint16_t& v) {
  if (remaining() < 2) return false;
  v = ReadU16(&msg_[pos_]);
  pos_ += 2;
  return true;
}

bool WireReader::U32(uint32_t& v) {
  if (remaining() < 4) return false;
  v = ReadU32(&msg_[pos_]);
  pos_ += 4;
  return true;
}

bool WireReader::SkipName() {
  while (true) {
    if (remaining() < 1) return false;
    uint8_t len = msg_[pos_];
    if ((len & 0xc0) == 0xc0) return Skip(2);
    if (len & 0xc0) return false;  // 0x40/0x80 label types are obsolete
    if (!Skip(1u + len)) return false;
    if (len == 0) return true;
  }
}

bool WireReader::UncompressedName(DnsName& out) {
  DnsName name;
  while (true) {
    if (remaining() < 1) return false;
    uint8_t len = msg_[pos_];
    if (len & 0xc0) return false;
    ++pos_;
    if (len == 0) break;
    if (remaining() < len) return false;
    if (!name.AppendLabel(msg_.subspan(pos_, len))) return false;
    pos_ += len;
  }
  out = name;
  return true;
}

bool WireReader::Name(DnsName& out) {
  DnsName name;
  size_t at = pos_;
  size_t end = 0;          // where reading resumes after the first pointer
  size_t lowest = at;      // pointers must go strictly backwards: no loops
  while (true) {
    if (at >= msg_.size()) return false;
    uint8_t len = msg_[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= msg_.size()) return false;
      size_t target = static_cast<size_t>(len & 0x3f) << 8 | msg_[at + 1];
      if (end == 0) end = at + 2;
      if (target >= lowest) return false;
      lowest = target;
      at = target;
      continue;
    }
    if (len & 0xc0) return false;
    ++at;
    if (len == 0) break;
    if (at + len > msg_.size()) return false;
    if (!name.AppendLabel(msg_.subspan(at, len))) return false;
    at += len;
  }
  pos_ = end != 0 ? end : at;
  out = name;
  return true;
}

bool ReadRrFixed(WireReader& r, RrFixed& rr) {
  if (!r.U16(rr.type) || !r.U16(rr.rclass)) return false;
  rr.ttl_offset = r.pos();
  if (!r.U32(rr.ttl) || !r.U16(rr.rdlength)) return false;
  rr.rdata_offset = r.pos();
  return r.Skip(rr.rdlength);
}

}  // namespace meshdns
