#include "dnscore/stored_reply.h"

#include <algorithm>
#include <limits>

#include "dnscore/answers_question.h"

namespace meshdns {
namespace {

// Spare capacity a stored reply may keep: malloc rounds a block up by as
// much anyway, so taking over a buffer with no more slack than this costs no
// memory and saves a copy.
constexpr size_t kTakeOverSlack = 16;

// Floor first, cap last (TtlPolicy).
uint32_t Clamp(uint32_t v, uint32_t lo, uint32_t hi) { return std::min(std::max(v, lo), hi); }

// The negative-caching TTL an SOA carries: min(its TTL, its MINIMUM), RFC 2308 5.
bool SoaNegativeTtl(std::span<const uint8_t> msg, const RrFixed& rr, uint32_t& out) {
  WireReader r(msg, rr.rdata_offset);
  uint32_t serial, refresh, retry, expire, minimum;
  if (!r.SkipName() || !r.SkipName() || !r.U32(serial) || !r.U32(refresh) || !r.U32(retry) || !r.U32(expire) ||
      !r.U32(minimum)) {
    return false;
  }
  out = std::min(rr.ttl, minimum);
  return true;
}

}  // namespace

absl::StatusOr<StoredReply> StoredReply::FromMessage(std::span<const uint8_t> msg, const TtlPolicy* policy) {
  return Scan(msg, policy, nullptr);
}

absl::StatusOr<StoredReply> StoredReply::FromMessage(std::vector<uint8_t>&& msg, const TtlPolicy* policy) {
  return Scan(msg, policy, &msg);
}

absl::StatusOr<StoredReply> StoredReply::Scan(std::span<const uint8_t> msg, const TtlPolicy* policy,
                                              std::vector<uint8_t>* owned) {
  std::optional<Header> header = Header::Read(msg);
  if (!header || !header->qr()) return absl::InvalidArgumentError("not a DNS reply");
  if (header->qdcount != 1) return absl::InvalidArgumentError("reply without exactly one question");
  if (msg.size() > kMaxMessageSize) return absl::InvalidArgumentError("reply too large");
  WireReader r(msg, kHeaderSize);
  DnsName qname;
  uint16_t qtype = 0, qclass = 0;
  if (!r.Name(qname) || !r.U16(qtype) || !r.U16(qclass)) return absl::InvalidArgumentError("reply with a malformed question");

  StoredReply out;
  out.question_end = static_cast<uint16_t>(r.pos());
  uint32_t min_ttl = std::numeric_limits<uint32_t>::max();
  bool has_soa = false;
  uint32_t soa_ttl = 0;
  size_t opt_begin = 0, opt_end = 0, records_after_opt = 0;

  const size_t answers = header->ancount, authority = header->nscount;
  const size_t records = answers + authority + header->arcount;
  absl::InlinedVector<uint16_t, 4> ttl_offsets;
  ttl_offsets.reserve(records);
  for (size_t i = 0; i < records; ++i) {
    size_t begin = r.pos();
    RrFixed rr;
    if (!r.SkipName() || !ReadRrFixed(r, rr)) return absl::InvalidArgumentError("reply with a malformed record");
    // meshdns never signs its queries, so a signed reply breaks RFC 8945 5.3
    // (and its signature could not survive the rewriting anyway).
    if (rr.type == kTypeTSIG) return absl::InvalidArgumentError("reply with TSIG to an unsigned query");
    if (rr.type == kTypeOPT) {
      if (opt_end != 0) return absl::InvalidArgumentError("reply with two OPT records");
      opt_begin = begin;
      opt_end = r.pos();
      continue;
    }
    if (opt_end != 0) ++records_after_opt;
    ttl_offsets.push_back(static_cast<uint16_t>(rr.ttl_offset));
    min_ttl = std::min(min_ttl, rr.ttl);
    if (rr.type == kTypeSOA && i >= answers && i < answers + authority) {
      has_soa = SoaNegativeTtl(msg, rr, soa_ttl) || has_soa;
    }
  }
  if (r.remaining() != 0) return absl::InvalidArgumentError("reply with trailing bytes");
  // Removing OPT shifts what follows it; one record after it still decodes
  // (pointers only point backwards), two might point at each other.
  if (records_after_opt > 1) return absl::InvalidArgumentError("reply with records after its OPT");

  // A NOERROR answer that does not answer (a chain short of the type) is a
  // NODATA: a denial with an SOA, not cached without one (AnswersQuestion).
  const bool answered = policy != nullptr && header->rcode() == kNoError && answers > 0 &&
                        AnswersQuestion(msg, out.question_end, answers, {qname, qtype, qclass});

  // The reply may live in the cache for its whole TTL, so it keeps no spare
  // capacity: a message of its own is taken over only when what it would
  // waste is within malloc's rounding; otherwise the bytes are copied exactly.
  const size_t stored_size = msg.size() - (opt_end - opt_begin);
  if (owned != nullptr && owned->capacity() - stored_size <= kTakeOverSlack) {
    out.wire = std::move(*owned);  // `msg` is not read from here on
    out.wire.erase(out.wire.begin() + opt_begin, out.wire.begin() + opt_end);
  } else {
    out.wire.reserve(stored_size);
    out.wire.assign(msg.begin(), msg.begin() + (opt_end != 0 ? opt_begin : msg.size()));
    if (opt_end != 0) out.wire.insert(out.wire.end(), msg.begin() + opt_end, msg.end());
  }
  if (opt_end != 0) {
    WriteU16(&out.wire[10], header->arcount - 1);
    for (uint16_t& at : ttl_offsets) {
      if (at > opt_begin) at -= static_cast<uint16_t>(opt_end - opt_begin);
    }
  }
  out.ttl_offsets = std::move(ttl_offsets);

  const uint8_t rcode = header->rcode();
  const bool truncated = header->flags & kFlagTC;
  if (truncated || !policy) return out;
  if (answered) {
    out.cacheable = true;
    out.ttl = Clamp(min_ttl, policy->min_ttl, policy->max_ttl);
  } else if ((rcode == kNxDomain || rcode == kNoError) && has_soa) {
    out.cacheable = out.denial = true;
    out.ttl = Clamp(soa_ttl, policy->denial_min_ttl.value_or(policy->min_ttl), policy->denial_ttl);
  } else if ((rcode == kServFail || rcode == kNotImp) && policy->servfail_ttl > 0) {
    out.cacheable = out.denial = true;
    out.ttl = policy->servfail_ttl;
  }
  if (out.cacheable) {
    for (uint16_t at : out.ttl_offsets) WriteU32(&out.wire[at], out.ttl);
  }
  return out;
}

std::vector<uint8_t> StoredReply::WireWithTtl(uint32_t ttl) const {
  std::vector<uint8_t> out = wire;
  if (cacheable) {
    for (uint16_t at : ttl_offsets) WriteU32(&out[at], ttl);
  }
  return out;
}

void StoredReply::LowerTtl(uint32_t lower) {
  if (!cacheable || lower >= ttl) return;
  ttl = lower;
  for (uint16_t at : ttl_offsets) WriteU32(&wire[at], ttl);
}

bool StoredReply::MarkAddressRotation() {
  std::optional<Header> header = Header::Read(wire);
  if (!header) return false;
  WireReader r(wire, question_end);
  size_t run_at = 0, run_count = 0, run_size = 0;
  for (size_t i = 0; i < header->ancount; ++i) {
    const size_t begin = r.pos();
    RrFixed rr;
    if (!r.SkipName() || !ReadRrFixed(r, rr)) return false;
    const size_t size = r.pos() - begin;
    const bool address = rr.type == kTypeA || rr.type == kTypeAAAA;
    const bool pointer_owner = rr.ttl_offset - begin == 2 + 4 && (wire[begin] & 0xc0) == 0xc0;
    if (address && pointer_owner && (run_count == 0 || size == run_size) && size <= 0xff) {
      if (run_count == 0) run_at = begin, run_size = size;
      ++run_count;
    } else if (run_count > 1) {
      break;  // the first run is the one rotated
    } else {
      run_count = 0;
    }
  }
  if (run_count < 2 || run_at > 0xffff || run_count > 0xff) return false;
  rotation = Rotation{static_cast<uint16_t>(run_at), static_cast<uint8_t>(run_count), static_cast<uint8_t>(run_size)};
  return true;
}

}  // namespace meshdns
