// The clusterset zone (contract rules 2-4): its apex (SOA, NS), the names
// that exist without records of their own, template answers for per-host
// names, the MCS schema-version TXT, and NXDOMAIN with an SOA for every other
// name. Only synthesis lives here; resolving a template's CNAME target and
// asking the clusters about services and namespaces are the caller's (they go
// through the whole pipeline, as CoreDNS's do). Immutable after construction;
// thread-safe.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dnscore/mesh.h"
#include "dnscore/message.h"
#include "dnscore/template.h"

namespace meshdns {

struct ClustersetOutcome {
  uint8_t rcode = 0;
  std::vector<RrPtr> answer;
  std::vector<RrPtr> authority;
  std::optional<DnsName> chase;  // a CNAME target whose records complete the answer
  // The zone answered from what it holds: its apex, a name it knows to exist
  // (svc.S, the NS target), the version record or a template. When false the
  // outcome is NXDOMAIN, unless the clusters know the name (a service or a
  // namespace, which the caller asks them about).
  bool matched = false;
};

class ClustersetZone {
 public:
  ClustersetZone(const Mesh& mesh, std::vector<std::shared_ptr<const Template>> templates, uint32_t negative_ttl);

  absl::StatusOr<ClustersetOutcome> Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;
  // The zone's SOA (RFC 2308: what makes a negative answer cacheable).
  RrPtr Soa() const;
  // The apex's NS: ns.dns.S, the SOA's MNAME, as CoreDNS's kubernetes plugin
  // names its zones' server.
  RrPtr Ns() const;

 private:
  ClustersetOutcome Apex(uint16_t qtype) const;
  // Names that exist with no records (NODATA, never NXDOMAIN: RFC 8020).
  bool IsEmptyName(const DnsName& qname) const;

  const Mesh& mesh_;
  std::vector<std::shared_ptr<const Template>> templates_;
  std::string zone_text_;
  DnsName version_name_;
  // svc.S holds every service and host name; dns.S and ns.dns.S are there
  // because the NS record names ns.dns.S.
  std::vector<DnsName> empty_names_;
  // The TTL of the apex records and the SOA MINIMUM: how long resolvers keep
  // our denials (the cache's denial_ttl).
  uint32_t negative_ttl_;
};

// `labels` (leftmost first) prepended to `zone`.
DnsName NameUnder(std::initializer_list<absl::string_view> labels, const DnsName& zone);

// A fresh reply for the question with the given sections, AA set.
absl::StatusOr<std::vector<uint8_t>> BuildAuthoritativeReply(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                                             uint8_t rcode, const std::vector<RrPtr>& answer,
                                                             const std::vector<RrPtr>& authority,
                                                             const std::vector<RrPtr>& additional = {});

}  // namespace meshdns
