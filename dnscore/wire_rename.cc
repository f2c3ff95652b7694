#include "dnscore/wire_rename.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dnscore/message_writer.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

// Where names sit in a record's RDATA: after `before` fixed bytes, `names`
// names in a row, then fixed bytes to the end. Types not listed carry no
// name that needs reading (RFC 3597: no compression in other types' RDATA),
// so their RDATA is copied as it is.
struct RdataNames {
  uint8_t before = 0;
  uint8_t names = 0;
  bool compressed = false;  // an RFC 1035 type: its names may be (and are) compressed
  int value = -1;           // which of the names is a target that renaming may move
};

std::optional<RdataNames> NamesIn(uint16_t type) {
  switch (type) {
    case kTypeCNAME: case kTypeNS: case kTypePTR: return RdataNames{0, 1, true, 0};
    case kTypeMD: case kTypeMF: case kTypeMB: case kTypeMG: case kTypeMR: return RdataNames{0, 1, true, -1};
    case kTypeSOA: return RdataNames{0, 2, true, 0};  // MNAME moves, RNAME is a mailbox
    case kTypeMINFO: return RdataNames{0, 2, true, -1};
    case kTypeMX: return RdataNames{2, 1, true, 0};
    case kTypeDNAME: return RdataNames{0, 1, false, 0};
    case kTypeSRV: return RdataNames{6, 1, false, 0};
    case kTypeRP: return RdataNames{0, 2, false, -1};
    case kTypeAFSDB: case kTypeRT: case kTypeKX: return RdataNames{2, 1, false, -1};
    case kTypePX: return RdataNames{2, 2, false, -1};
    case kTypeNAPTR: return RdataNames{4, 1, false, 0};  // after three strings, skipped below
    default: return std::nullopt;
  }
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed reply: ", what));
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> RenameReply(std::span<const uint8_t> reply, const DnsName& question_name,
                                                 NameMap owner, NameMap value, std::optional<TtlClamp> ttl,
                                                 RenameScratch& scratch) {
  std::optional<Header> header = Header::Read(reply);
  if (!header) return Malformed("short header");
  if (header->qdcount != 1) return absl::InvalidArgumentError("reply without exactly one question");
  WireReader r(reply, kHeaderSize);
  DnsName name;
  uint16_t qtype, qclass;
  if (!r.Name(name) || !r.U16(qtype) || !r.U16(qclass)) return Malformed("question");

  // Names may grow, so the size is known only at the end: the reply is written
  // into the caller's scratch buffer and returned exactly sized, because the
  // cache may keep it for its whole TTL.
  std::vector<uint8_t>& out = scratch.bytes;
  out.assign(reply.begin(), reply.begin() + kHeaderSize);
  MessageWriter w(out);
  w.Name(question_name, /*compress=*/false);
  w.U16(qtype);
  w.U16(qclass);

  auto mapped = [](NameMap map, const DnsName& n) {
    DnsName moved;
    return map(n, moved) ? moved : n;
  };
  const size_t records = size_t{header->ancount} + header->nscount + header->arcount;
  for (size_t i = 0; i < records; ++i) {
    RrFixed rr;
    if (!r.Name(name) || !ReadRrFixed(r, rr)) return Malformed("record");
    // OPT's owner is the root and its TTL field holds EDNS flags: neither is renamed.
    const bool opt = rr.type == kTypeOPT;
    w.Name(opt ? name : mapped(owner, name), /*compress=*/true);
    w.U16(rr.type);
    w.U16(rr.rclass);
    w.U32(ttl && !opt ? std::clamp(rr.ttl, ttl->min, std::max(ttl->min, ttl->max)) : rr.ttl);
    const size_t rdlength_at = w.size();
    w.U16(0);  // filled in below
    const size_t rdata_end = rr.rdata_offset + rr.rdlength;
    const std::optional<RdataNames> layout = NamesIn(rr.type);
    if (!layout) {
      w.Bytes(reply.subspan(rr.rdata_offset, rr.rdlength));
    } else {
      size_t before = layout->before;
      if (rr.type == kTypeNAPTR) {  // order, preference, then flags, services, regexp strings
        for (int s = 0; s < 3; ++s) {
          if (rr.rdata_offset + before >= rdata_end) return Malformed("NAPTR");
          before += 1 + reply[rr.rdata_offset + before];
        }
      }
      if (rr.rdata_offset + before > rdata_end) return Malformed("RDATA");
      w.Bytes(reply.subspan(rr.rdata_offset, before));
      WireReader rd(reply.first(rdata_end), rr.rdata_offset + before);
      for (int n = 0; n < layout->names; ++n) {
        if (!rd.Name(name)) return Malformed("name in RDATA");
        w.Name(n == layout->value ? mapped(value, name) : name, layout->compressed);
      }
      w.Bytes(reply.subspan(rd.pos(), rdata_end - rd.pos()));
    }
    const size_t rdlength = w.size() - rdlength_at - 2;
    if (rdlength > 0xffff) return Malformed("RDATA too long");
    WriteU16(w.at(rdlength_at), static_cast<uint16_t>(rdlength));
  }
  if (r.remaining() != 0) return Malformed("trailing bytes");
  if (out.size() > kMaxMessageSize) return absl::ResourceExhaustedError("message larger than 65535 bytes");
  return std::vector<uint8_t>(out.begin(), out.end());
}

}  // namespace meshdns
