// Full DNS message handling through ldns, for the paths that must understand
// records: synthesis (templates, SOA), renaming (cluster suffixes) and merging
// (CNAME chains). Never used on the cache-hit path. Value types, no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

// ldns defines bool/true/false as macros unless stdbool.h came first.
#include <stdbool.h>
#include <ldns/ldns.h>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"

namespace meshdns {

struct LdnsPktFree { void operator()(ldns_pkt* p) const { ldns_pkt_free(p); } };
struct LdnsRrFree { void operator()(ldns_rr* rr) const { ldns_rr_free(rr); } };
struct LdnsRdfFree { void operator()(ldns_rdf* rdf) const { ldns_rdf_deep_free(rdf); } };
using PktPtr = std::unique_ptr<ldns_pkt, LdnsPktFree>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsRrFree>;
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfFree>;

absl::StatusOr<PktPtr> ParseMessage(std::span<const uint8_t> wire);
absl::StatusOr<std::vector<uint8_t>> EncodeMessage(const ldns_pkt* pkt);
// One record in zone-file syntax ("name TTL IN CNAME target"); names are
// taken as absolute and a missing TTL reads as 3600 (as miekg/dns does).
absl::StatusOr<RrPtr> ParseRecord(absl::string_view text);

// "A", "AAAA", … or "TYPE65280" for a type without a mnemonic (RFC 3597).
std::string TypeMnemonic(uint16_t type);
// The type's mnemonic ("AAAA"), or null when ldns has none; static storage.
const char* TypeName(uint16_t type);
// "IN", "CH", … or "CLASS65280" likewise.
std::string ClassMnemonic(uint16_t qclass);
// The ldns library's version, for `meshdns version`.
const char* LdnsVersion();

RdfPtr NameToRdf(const DnsName& name);
bool RdfToName(const ldns_rdf* rdf, DnsName& out);

// A reply skeleton: ID 0, QR and the given flags and rcode, one question.
PktPtr NewReply(const DnsName& qname, uint16_t qtype, uint16_t qclass, uint16_t flags, uint8_t rcode);
void AppendRecord(ldns_pkt* pkt, ldns_pkt_section section, const ldns_rr* rr);

}  // namespace meshdns
