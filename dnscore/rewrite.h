// Rewrite: CoreDNS's `rewrite` plugin for one server block — `name` rules
// (exact, prefix, suffix, substring, regex) that change the question on the
// way in and map the reply's names back on the way out, and `ttl` rules that
// clamp the reply's TTLs. Rules run in Corefile order; a matching `stop` rule
// ends the list, `continue` rules hand the rewritten name on.
//
// Like contract rule 1, and unlike CoreDNS, `answer auto` after a rewrite
// that changed the end of the name (suffix, or a substring at the end, as in
// the seed's `name substring cluster2.svc.cluster.local svc.cluster.local`)
// maps back every owner and target name with the new ending, not only the
// question's name and its subdomains: an SRV or CNAME target elsewhere in the
// peer's zone then stays in the peer's cluster.
//
// Immutable after construction; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/wire_rename.h"

namespace re2 { class RE2; }

namespace meshdns {

// rewrite [continue|stop] name|ttl [exact|prefix|suffix|substring|regex] FROM TO [answer …]
struct RewriteRule {
  enum class Field { kName, kTtl };
  enum class Match { kExact, kPrefix, kSuffix, kSubstring, kRegex };
  struct AnswerRule {
    bool value = false;  // `answer value` (RDATA names); else `answer name` (owner names)
    std::shared_ptr<const re2::RE2> from;
    std::string to;      // with {n} group references
  };
  bool stop = true;  // CoreDNS's default mode
  Field field = Field::kName;
  Match match = Match::kExact;
  std::string from;  // lower case with a trailing dot, except a regex, kept as written
  std::string to;    // lower case with a trailing dot ({n} references with regex)
  std::shared_ptr<const re2::RE2> regex;
  bool answer_auto = false;  // always on for exact, as in CoreDNS
  std::vector<AnswerRule> answers;
  uint32_t ttl_min = 0, ttl_max = std::numeric_limits<uint32_t>::max();  // Field::kTtl
};

// What the rules did to one question, and so what the reply needs undone.
struct RewriteOutcome {
  struct Step {
    const RewriteRule* rule;
    std::string before, after;  // lower-cased FQDNs, as the rule saw and left them
  };
  DnsName name;                   // the question's name for the rest of the chain
  std::vector<Step> steps;        // the name rules that matched, in order
  std::optional<TtlClamp> ttl;    // from a matching ttl rule
  bool changed() const { return !steps.empty() || ttl.has_value(); }
};

class Rewriter {
 public:
  Rewriter() = default;
  explicit Rewriter(std::vector<RewriteRule> rules) : rules_(std::move(rules)) {}

  bool empty() const { return rules_.empty(); }
  // The rules applied to `qname`. An error when a rule produced something
  // that is not a domain name (CoreDNS answers SERVFAIL then).
  absl::StatusOr<RewriteOutcome> Apply(const DnsName& qname) const;
  // The chain's reply with the client's question and its names mapped back.
  static absl::StatusOr<std::vector<uint8_t>> Revert(const RewriteOutcome& outcome, std::span<const uint8_t> reply,
                                                     const DnsName& client_qname, RenameScratch& scratch);

 private:
  std::vector<RewriteRule> rules_;
};

}  // namespace meshdns
