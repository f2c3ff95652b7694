#include "dnscore/log_rule.h"

#include <optional>

#include "dnscore/wire.h"

namespace meshdns {

LogClass ClassifyReply(std::span<const uint8_t> reply) {
  std::optional<Header> header = Header::Read(reply);
  if (!header) return kLogError;
  const uint8_t rcode = header->rcode();
  // Typify: an answer makes NOERROR a success and NXDOMAIN an error.
  if (header->ancount > 0) return rcode == kNoError ? kLogSuccess : kLogError;
  if (rcode == kNxDomain) return kLogDenial;
  if (rcode != kNoError) return kLogError;
  // NOERROR without an answer: NODATA with an SOA, else a referral or an
  // empty success. Both are successes for Classify but NODATA.
  WireReader r(reply, kHeaderSize);
  for (uint16_t i = 0; i < header->qdcount; ++i) {
    if (!r.SkipName() || !r.Skip(4)) return kLogError;
  }
  for (uint16_t i = 0; i < header->nscount; ++i) {
    RrFixed rr;
    if (!r.SkipName() || !ReadRrFixed(r, rr)) return kLogError;
    if (rr.type == kTypeSOA) return kLogDenial;
  }
  return kLogSuccess;
}

const LogRule* LogRuleFor(std::span<const LogRule> rules, const DnsName& qname, std::span<const uint8_t> reply) {
  for (const LogRule& rule : rules) {
    if (!qname.IsSubdomainOf(rule.scope)) continue;
    return rule.classes == kLogAll || (rule.classes & ClassifyReply(reply)) != 0 ? &rule : nullptr;
  }
  return nullptr;
}

}  // namespace meshdns
