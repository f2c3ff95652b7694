#include "dnscore/upstream_query.h"

#include <cstring>

#include "dnscore/reply_writer.h"
#include "dnscore/wire.h"

namespace meshdns {

size_t WriteUpstreamQuery(uint16_t id, const UpstreamQuestion& q, std::span<uint8_t> out) {
  const size_t need = kHeaderSize + q.name.WireSize() + 4 + kOptSize + q.options.size();
  if (out.size() < need || q.options.size() > kMaxUpstreamOptions) return 0;
  Header h;
  h.id = id;
  h.flags = static_cast<uint16_t>((q.recursion_desired ? kFlagRD : 0) | (q.checking_disabled ? kFlagCD : 0));
  h.qdcount = 1;
  h.arcount = 1;
  h.Write(out.data());
  size_t at = kHeaderSize;
  std::memcpy(&out[at], q.name.Wire().data(), q.name.WireSize());
  at += q.name.WireSize();
  WriteU16(&out[at], q.qtype);
  WriteU16(&out[at + 2], q.qclass);
  at += 4;
  out[at] = 0;
  WriteU16(&out[at + 1], kTypeOPT);
  WriteU16(&out[at + 3], q.udp_size);
  WriteU32(&out[at + 5], q.dnssec_ok ? 0x8000u : 0u);
  WriteU16(&out[at + 9], static_cast<uint16_t>(q.options.size()));
  if (!q.options.empty()) std::memcpy(&out[at + kOptSize], q.options.data(), q.options.size());
  return at + kOptSize + q.options.size();
}

bool ReplyMatchesQuery(std::span<const uint8_t> reply, std::span<const uint8_t> query) {
  if (reply.size() < kHeaderSize || query.size() < kHeaderSize) return false;
  if (ReadU16(&reply[0]) != ReadU16(&query[0]) || !(reply[2] & 0x80)) return false;
  if (ReadU16(&reply[4]) != 1) return false;
  // The question: name (never compressed in a query meshdns wrote), type, class.
  size_t question_end = kHeaderSize;
  while (question_end < query.size() && query[question_end] != 0) question_end += 1 + query[question_end];
  question_end += 1 + 4;
  if (question_end > query.size() || reply.size() < question_end) return false;
  return std::memcmp(&reply[kHeaderSize], &query[kHeaderSize], question_end - kHeaderSize) == 0;
}

}  // namespace meshdns
