// Contract rule 2's second half: a synthesized answer that ends in a CNAME
// (a clusterset host name, a template's alias) completed with the records
// of the CNAME's target, as CoreDNS's template resolves it through the whole
// server. Record surgery on parsed messages (ldns); a pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/message.h"
#include "dnscore/stored_reply.h"

namespace meshdns {

// What was synthesized before the chase: the sections of the answer so far.
struct ChainStart {
  std::vector<RrPtr> answer, authority, additional;
};

// The reply for (qname, qtype, qclass): `start`'s answer followed by the
// target's answer records, then `start`'s authority, the target's SOA when
// the target has no records (so the whole answer caches negatively, RFC
// 2308), and `start`'s additional. AA set, the target's RA and rcode (the
// rcode is the chain end's). A cacheable target's records get `target_ttl`,
// what is left of its life.
absl::StatusOr<std::vector<uint8_t>> CompleteChain(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                                   const ChainStart& start, const StoredReply& target,
                                                   uint32_t target_ttl);

}  // namespace meshdns
