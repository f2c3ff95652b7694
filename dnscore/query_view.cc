#include "dnscore/query_view.h"

namespace meshdns {

QueryCheck ParseQuery(std::span<const uint8_t> msg, QueryView& out) {
  out.question_end = 0;  // set once the question has been read
  out.edns = Edns{};
  std::optional<Header> header = Header::Read(msg);
  if (!header || header->qr()) return QueryCheck::kDrop;
  out.header = *header;
  if (header->opcode() != 0) return QueryCheck::kNotImp;
  if (header->qdcount != 1) return QueryCheck::kFormErr;

  WireReader r(msg, kHeaderSize);
  // The question is the first name of the message, so a compression pointer
  // in it can only be bogus (pointing into the header, at itself, or ahead).
  if (!r.UncompressedName(out.qname) || !r.U16(out.qtype) || !r.U16(out.qclass)) return QueryCheck::kFormErr;
  out.question_end = r.pos();

  size_t records = size_t{header->ancount} + header->nscount + header->arcount;
  size_t first_additional = size_t{header->ancount} + header->nscount;
  for (size_t i = 0; i < records; ++i) {
    size_t owner_at = r.pos();
    RrFixed rr;
    if (!r.SkipName() || !ReadRrFixed(r, rr)) return QueryCheck::kFormErr;
    if (rr.type != kTypeOPT) continue;
    // RFC 6891 6.1.1: one OPT at most, in the additional section, owned by the root.
    if (i < first_additional || out.edns.present || msg[owner_at] != 0) return QueryCheck::kFormErr;
    out.edns.present = true;
    out.edns.udp_size = rr.rclass;
    out.edns.version = static_cast<uint8_t>(rr.ttl >> 16);
    out.edns.dnssec_ok = rr.ttl & 0x8000;
  }
  if (r.remaining() != 0) return QueryCheck::kFormErr;
  if (out.edns.present && out.edns.version != 0) return QueryCheck::kBadVers;
  if (out.qtype == kTypeAXFR || out.qtype == kTypeIXFR) return QueryCheck::kNotImp;
  return QueryCheck::kOk;
}

}  // namespace meshdns
