#include "dnscore/reply_writer.h"

#include <algorithm>
#include <cstring>

namespace meshdns {
namespace {

size_t WriteOpt(uint8_t* p, uint16_t advertised, uint8_t extended_rcode, bool dnssec_ok,
                std::span<const uint8_t> options = {}) {
  p[0] = 0;  // root owner
  WriteU16(p + 1, kTypeOPT);
  WriteU16(p + 3, advertised);
  WriteU32(p + 5, static_cast<uint32_t>(extended_rcode) << 24 | (dnssec_ok ? 0x8000u : 0u));
  WriteU16(p + 9, static_cast<uint16_t>(options.size()));
  if (!options.empty()) std::memcpy(p + kOptSize, options.data(), options.size());
  return kOptSize + options.size();
}

// Flags the reply keeps from the stored answer, and those the query decides.
// A stored reply's TC stays: it is incomplete for every client (a rewrite
// cname lookup's truncated answer, as CoreDNS passes it on); the writer adds
// TC itself for a reply too large for the client.
uint16_t ReplyFlags(uint16_t stored, const QueryView& query) {
  constexpr uint16_t kFromQuery = kFlagRD | kFlagCD;
  return static_cast<uint16_t>((stored & ~kFromQuery) | (query.header.flags & kFromQuery) | kFlagQR);
}

// The subnet rank of a rotated record (type A or AAAA, owner a 2-byte
// pointer): the index of the first subnet holding its address, or the
// number of subnets.
size_t Rank(const uint8_t* record, std::span<const Cidr> prefer) {
  constexpr size_t kRdata = 2 + 10;  // pointer, type, class, TTL, RDLENGTH
  IpAddress a;
  const uint16_t length = ReadU16(record + kRdata - 2);
  if (length == 4) {
    a = IpAddress::FromV4({record[kRdata], record[kRdata + 1], record[kRdata + 2], record[kRdata + 3]});
  } else if (length == 16) {
    std::memcpy(a.bytes.data(), record + kRdata, 16);
  } else {
    return prefer.size();
  }
  for (size_t i = 0; i < prefer.size(); ++i) {
    if (prefer[i].Contains(a)) return i;
  }
  return prefer.size();
}

// A stable insertion sort of the run's records by rank, in place: a run is
// at most 255 records of at most 255 bytes, so one record's worth of stack
// is all it needs.
void PreferSubnets(uint8_t* first, size_t count, size_t size, std::span<const Cidr> prefer) {
  uint8_t held[255];
  uint8_t ranks[255];
  for (size_t i = 0; i < count; ++i) ranks[i] = static_cast<uint8_t>(std::min<size_t>(Rank(first + i * size, prefer), 255));
  for (size_t i = 1; i < count; ++i) {
    const uint8_t rank = ranks[i];
    size_t j = i;
    while (j > 0 && ranks[j - 1] > rank) --j;
    if (j == i) continue;
    std::memcpy(held, first + i * size, size);
    std::memmove(first + (j + 1) * size, first + j * size, (i - j) * size);
    std::memcpy(first + j * size, held, size);
    std::memmove(&ranks[j + 1], &ranks[j], i - j);
    ranks[j] = rank;
  }
}

}  // namespace

size_t WriteReply(const StoredView& reply, const QueryView& query, std::span<const uint8_t> query_wire,
                  const WriteOptions& options, std::span<uint8_t> out) {
  if (reply.question_end != query.question_end || reply.wire.size() < reply.question_end) return 0;
  std::span<const uint8_t> edns_options = query.edns.present ? reply.options : std::span<const uint8_t>();
  size_t opt = query.edns.present ? kOptSize + edns_options.size() : 0;
  size_t limit = options.limit < out.size() ? options.limit : out.size();
  const bool fits = reply.wire.size() + opt <= limit;
  const size_t body = fits ? reply.wire.size() : reply.question_end;
  if (!fits && body + opt > limit) {
    edns_options = {};
    opt = query.edns.present ? kOptSize : 0;
  }
  if (body + opt > out.size()) return 0;

  std::memcpy(out.data(), reply.wire.data(), body);
  WriteU16(&out[0], query.header.id);
  uint16_t flags = ReplyFlags(ReadU16(&reply.wire[2]), query);
  if (options.authoritative) flags |= kFlagAA;
  // The question goes back exactly as the client wrote it (case included).
  std::memcpy(&out[kHeaderSize], &query_wire[kHeaderSize], query.question_end - kHeaderSize);
  uint16_t arcount = ReadU16(&reply.wire[10]);
  if (fits) {
    if (options.ttl) {
      const uint32_t ttl = std::clamp(*options.ttl, reply.ttl_floor, std::max(reply.ttl_floor, reply.ttl_ceiling));
      for (uint16_t at : reply.ttl_offsets) WriteU32(&out[at], ttl);
    }
    const Rotation& r = reply.rotation;
    if (options.rotation != nullptr && r.at != 0 && r.count > 1 && size_t{r.at} + size_t{r.count} * r.size <= body) {
      uint8_t* first = &out[r.at];
      std::rotate(first, first + (options.rotation->Next() % r.count) * r.size, first + size_t{r.count} * r.size);
    }
    if (!reply.prefer.empty() && r.at != 0 && r.count > 1 && size_t{r.at} + size_t{r.count} * r.size <= body) {
      PreferSubnets(&out[r.at], r.count, r.size, reply.prefer);
    }
  } else {
    flags |= kFlagTC;
    std::memset(&out[6], 0, 4);
    arcount = 0;
  }
  WriteU16(&out[2], flags);
  size_t size = body;
  if (opt) {
    size += WriteOpt(&out[size], options.advertised, 0, query.edns.dnssec_ok, edns_options);
    ++arcount;
  }
  WriteU16(&out[10], arcount);
  return size;
}

size_t WriteErrorReply(QueryCheck check, uint8_t rcode, const QueryView& query, std::span<const uint8_t> query_wire,
                       std::span<uint8_t> out, uint16_t advertised) {
  // Echo the question whenever it could be read (RFC 1035 7.3 lets a reply carry it; clients match on it).
  const bool with_question = query.question_end > kHeaderSize;
  const size_t question = with_question ? query.question_end - kHeaderSize : 0;
  const bool opt = query.edns.present;
  if (out.size() < kHeaderSize + question + kOptSize) return 0;
  uint8_t extended = 0;
  if (check == QueryCheck::kBadVers) {
    extended = 1;  // BADVERS = 16: upper bits live in the OPT (RFC 6891 6.1.3)
    rcode = 0;
  }
  Header h;
  h.id = query.header.id;
  // CD (like AD) is a DNSSEC bit of QUERY (RFC 4035); other opcodes get only opcode and RD back.
  const uint16_t echoed = query.header.opcode() == 0 ? (kOpcodeMask | kFlagRD | kFlagCD) : (kOpcodeMask | kFlagRD);
  h.flags = static_cast<uint16_t>(kFlagQR | (query.header.flags & echoed) | (rcode & 0xf));
  h.qdcount = with_question ? 1 : 0;
  h.arcount = opt ? 1 : 0;
  h.Write(out.data());
  std::memcpy(&out[kHeaderSize], &query_wire[kHeaderSize], question);
  size_t size = kHeaderSize + question;
  if (opt) size += WriteOpt(&out[size], advertised, extended, query.edns.dnssec_ok);
  return size;
}

size_t WriteEdeReply(uint8_t rcode, uint16_t info_code, const QueryView& query, std::span<const uint8_t> query_wire,
                     std::span<uint8_t> out, uint16_t advertised) {
  size_t size = WriteErrorReply(QueryCheck::kOk, rcode, query, query_wire, out, advertised);
  constexpr size_t kEdeSize = 6;  // option code, length, INFO-CODE; no EXTRA-TEXT
  if (size == 0 || !query.edns.present || out.size() < size + kEdeSize) return size;
  // The OPT is the reply's last record; its RDLENGTH is its last two bytes.
  WriteU16(&out[size - 2], kEdeSize);
  WriteU16(&out[size], 15);  // OPTION-CODE EDE (RFC 8914)
  WriteU16(&out[size + 2], 2);
  WriteU16(&out[size + 4], info_code);
  return size + kEdeSize;
}

}  // namespace meshdns
