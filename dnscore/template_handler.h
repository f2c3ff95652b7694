// TemplateHandler: CoreDNS's `template` plugin for one server block — every
// `template` line of the block, in Corefile order, as one handler. A question
// outside a template's zones, class or type passes on to the next template
// and then to the next plugin; a name in its zones that no regex matches
// passes on only with `fallthrough`, else the answer is SERVFAIL. A match
// renders the answer, additional and authority records with the template's
// rcode. A CNAME answer names a target for the caller to chase through the
// whole server (meshdns chases every type but CNAME and ANY; see
// coredns-semantics.md, "Where meshdns differs").
//
// Immutable after Compile; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/message.h"
#include "dnscore/template.h"

namespace meshdns {

// template CLASS TYPE [ZONE…] { match … answer … additional … authority … rcode … fallthrough … }
struct TemplateRule {
  uint16_t qclass = 0;  // 255: ANY
  uint16_t qtype = 0;   // 255: ANY
  std::vector<DnsName> zones;
  std::vector<std::string> match;  // RE2 patterns; none means every name
  std::vector<std::string> answer, additional, authority;
  uint8_t rcode = 0;
  std::optional<std::vector<DnsName>> fallthrough;  // empty list: every zone
};

struct TemplateOutcome {
  enum class Kind { kNext, kServFail, kAnswer };
  Kind kind = Kind::kNext;
  uint8_t rcode = 0;
  std::vector<RrPtr> answer, additional, authority;
  std::optional<DnsName> chase;  // a CNAME target whose records complete the answer
  std::optional<std::string> cluster;  // what the matching regex's `cluster` group took, if it has one
};

class TemplateHandler {
 public:
  TemplateHandler() = default;
  static absl::StatusOr<TemplateHandler> Compile(std::vector<TemplateRule> rules);

  bool empty() const { return templates_.empty(); }
  TemplateOutcome Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;

 private:
  struct Compiled {
    TemplateRule rule;
    // One per regex: answer, additional and authority lines, in that order.
    std::vector<std::shared_ptr<const Template>> regexes;
  };
  std::vector<Compiled> templates_;
};

}  // namespace meshdns
