// The clusterset zone (contract rules 2-4): template answers for per-host
// names, the MCS schema-version TXT, and NXDOMAIN with an SOA for every other
// name. Only synthesis lives here; resolving a template's CNAME target is the
// caller's job (it goes through the whole pipeline, as CoreDNS's does).
// Immutable after construction; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/mesh.h"
#include "dnscore/message.h"
#include "dnscore/template.h"

namespace meshdns {

struct ClustersetOutcome {
  uint8_t rcode = 0;
  std::vector<RrPtr> answer;
  std::vector<RrPtr> authority;
  std::optional<DnsName> chase;  // a CNAME target whose records complete the answer
  bool matched = false;          // a template or the version record answered; else NXDOMAIN
};

class ClustersetZone {
 public:
  ClustersetZone(const Mesh& mesh, std::vector<std::shared_ptr<const Template>> templates, uint32_t negative_ttl);

  absl::StatusOr<ClustersetOutcome> Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;
  // The zone's SOA (RFC 2308: what makes a negative answer cacheable).
  RrPtr Soa() const;

 private:
  const Mesh& mesh_;
  std::vector<std::shared_ptr<const Template>> templates_;
  std::string zone_text_;
  DnsName version_name_;
  uint32_t negative_ttl_;
};

// A fresh reply for the question with the given sections, AA set.
absl::StatusOr<std::vector<uint8_t>> BuildAuthoritativeReply(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                                             uint8_t rcode, const std::vector<RrPtr>& answer,
                                                             const std::vector<RrPtr>& authority,
                                                             const std::vector<RrPtr>& additional = {});

}  // namespace meshdns
