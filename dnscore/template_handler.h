// TemplateHandler: CoreDNS's `template` plugin for one server block — every
// `template` line of the block, in Corefile order, as one handler. A question
// outside a template's zones, class or type passes on to the next template
// and then to the next plugin; a name in its zones that no regex matches
// passes on only with `fallthrough`, else the answer is SERVFAIL. A match
// renders the answer, additional and authority records with the template's
// rcode, and the template's Extended DNS Error if it has one. A CNAME answer names a target for the caller to chase through the
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

inline constexpr uint16_t kOptionEde = 15;  // RFC 8914
// The longest EXTRA-TEXT kept: with the OPT around it, the option must leave
// room for an answer in a 512-byte reply.
inline constexpr size_t kMaxExtendedErrorText = 255;

// RFC 8914 Extended DNS Error: `ederror CODE [REASON]`.
struct ExtendedError {
  uint16_t code = 0;
  std::string reason;  // EXTRA-TEXT; may be empty
};

// template CLASS TYPE [ZONE…] { match … answer … additional … authority … rcode … ederror … fallthrough … }
struct TemplateRule {
  uint16_t qclass = 0;  // 255: ANY
  uint16_t qtype = 0;   // 255: ANY
  std::vector<DnsName> zones;
  std::vector<std::string> match;  // RE2 patterns; none means every name
  std::vector<std::string> answer, additional, authority;
  uint8_t rcode = 0;
  std::optional<ExtendedError> ederror;
  std::optional<std::vector<DnsName>> fallthrough;  // empty list: every zone
};

// The EDNS option (code, length, INFO-CODE, EXTRA-TEXT) that carries `e`.
std::vector<uint8_t> EncodeExtendedError(const ExtendedError& e);

struct TemplateOutcome {
  enum class Kind { kNext, kServFail, kAnswer };
  Kind kind = Kind::kNext;
  uint8_t rcode = 0;
  std::vector<RrPtr> answer, additional, authority;
  std::optional<DnsName> chase;  // a CNAME target whose records complete the answer
  std::optional<std::string> cluster;  // what the matching regex's `cluster` group took, if it has one
  // The template's ederror as an EDNS option, for the reply's OPT (written
  // only to clients whose query had one); shared with the compiled rule.
  std::shared_ptr<const std::vector<uint8_t>> ede;
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
    std::shared_ptr<const std::vector<uint8_t>> ede;  // rule.ederror encoded
  };
  std::vector<Compiled> templates_;
};

}  // namespace meshdns
