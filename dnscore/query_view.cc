#include "dnscore/query_view.h"

namespace meshdns {
namespace {

// Reads the records after the question, the OPT into `edns`; what is wrong with
// them, if anything, as a check.
QueryCheck ReadRecords(std::span<const uint8_t> msg, const Header& header, WireReader& r, Edns& edns) {
  const size_t records = size_t{header.ancount} + header.nscount + header.arcount;
  const size_t first_additional = size_t{header.ancount} + header.nscount;
  bool is_signed = false;
  for (size_t i = 0; i < records; ++i) {
    const size_t owner_at = r.pos();
    RrFixed rr;
    if (!r.SkipName() || !ReadRrFixed(r, rr)) return QueryCheck::kFormErr;
    if (rr.type == kTypeTSIG) {
      // RFC 8945 5.2: the last record of the additional section, or FORMERR.
      if (i != records - 1 || i < first_additional) return QueryCheck::kFormErr;
      is_signed = true;
    }
    if (rr.type != kTypeOPT) continue;
    // RFC 6891 6.1.1: one OPT at most, in the additional section, owned by the root.
    if (i < first_additional || edns.present || msg[owner_at] != 0) return QueryCheck::kFormErr;
    edns.present = true;
    edns.udp_size = rr.rclass;
    edns.version = static_cast<uint8_t>(rr.ttl >> 16);
    edns.dnssec_ok = rr.ttl & 0x8000;
    edns.options_at = static_cast<uint16_t>(rr.rdata_offset);
    edns.options_size = rr.rdlength;
  }
  if (r.remaining() != 0) return QueryCheck::kFormErr;
  if (edns.present && edns.version != 0) return QueryCheck::kBadVers;
  return is_signed ? QueryCheck::kSigned : QueryCheck::kOk;
}

// A message that is not one QUERY with one question gets `check` as it is,
// but still an OPT back if it carried one (RFC 6891 6.1.1, 7): its questions
// are stepped over to find it.
QueryCheck FindEdns(std::span<const uint8_t> msg, const Header& header, QueryCheck check, Edns& edns) {
  WireReader r(msg, kHeaderSize);
  for (uint16_t i = 0; i < header.qdcount; ++i) {
    if (!r.SkipName() || !r.Skip(4)) return check;
  }
  (void)ReadRecords(msg, header, r, edns);
  return check;
}

}  // namespace

QueryCheck ParseQuery(std::span<const uint8_t> msg, QueryView& out) {
  out.question_end = 0;  // set once the question has been read
  out.size = static_cast<uint16_t>(std::min<size_t>(msg.size(), 65535));
  out.route = 0;
  out.edns = Edns{};
  std::optional<Header> header = Header::Read(msg);
  if (!header || header->qr()) return QueryCheck::kDrop;
  out.header = *header;
  if (header->opcode() != 0) return FindEdns(msg, *header, QueryCheck::kNotImp, out.edns);
  if (header->qdcount != 1) return FindEdns(msg, *header, QueryCheck::kFormErr, out.edns);

  WireReader r(msg, kHeaderSize);
  // The question is the first name of the message, so a compression pointer
  // in it can only be bogus (pointing into the header, at itself, or ahead).
  if (!r.UncompressedName(out.qname) || !r.U16(out.qtype) || !r.U16(out.qclass)) return QueryCheck::kFormErr;
  out.question_end = r.pos();

  const QueryCheck records = ReadRecords(msg, *header, r, out.edns);
  if (records == QueryCheck::kOk && (out.qtype == kTypeAXFR || out.qtype == kTypeIXFR)) return QueryCheck::kNotImp;
  return records;
}

}  // namespace meshdns
