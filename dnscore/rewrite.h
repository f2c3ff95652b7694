// Rewrite: CoreDNS's `rewrite` plugin for one server block — `name` rules
// (exact, prefix, suffix, substring, regex) that change the question on the
// way in and map the reply's names back on the way out, `type` and `class`
// rules that change the question's type or class, `ttl` rules that clamp the
// reply's TTLs, `rcode` rules that change the reply's RCODE, `edns0` rules
// that edit the EDNS options the resolver is sent (edns_rewrite.h) and `cname`
// rules that send a reply's CNAME targets elsewhere (cname_target.h). Rules run in
// Corefile order, each seeing the question as the rules before it left it; a
// matching `stop` rule ends the list, `continue` rules hand the question on.
//
// The client always gets its own question back (the reply writer echoes it).
// CoreDNS restores it only when a `stop` rule matched or a matching rule left
// something to undo on the reply: after a lone `continue type` rule its reply
// carries the rewritten question. That is a difference on purpose: clients
// drop a reply whose question is not theirs.
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
#include "dnscore/edns_rewrite.h"
#include "dnscore/wire_rename.h"

namespace re2 { class RE2; }

namespace meshdns {

// rewrite [continue|stop] name|ttl [exact|prefix|suffix|substring|regex] FROM TO [answer …]
// rewrite [continue|stop] type|class FROM TO
// rewrite [continue|stop] rcode [exact|prefix|suffix|substring|regex] NAME FROM TO
// rewrite [continue|stop] edns0 local|nsid|subnet set|append|replace|unset … [revert]
// rewrite [continue|stop] cname [exact|prefix|suffix|substring|regex] FROM TO
struct RewriteRule {
  enum class Field { kName, kTtl, kType, kClass, kRcode, kEdns0, kCname };
  enum class Match { kExact, kPrefix, kSuffix, kSubstring, kRegex };
  struct AnswerRule {
    bool value = false;  // `answer value` (RDATA names); else `answer name` (owner names)
    std::shared_ptr<const re2::RE2> from;
    std::string to;      // with {n} group references
  };
  bool stop = true;  // CoreDNS's default mode
  Field field = Field::kName;
  Match match = Match::kExact;
  // Lower case with a trailing dot, except a regex, kept as written, and a
  // cname rule's FROM and TO other than exact, lower case as written (CoreDNS).
  std::string from;
  std::string to;    // lower case with a trailing dot ({n} references with regex)
  std::shared_ptr<const re2::RE2> regex;
  bool answer_auto = false;  // always on for exact, as in CoreDNS
  std::vector<AnswerRule> answers;
  uint32_t ttl_min = 0, ttl_max = std::numeric_limits<uint32_t>::max();  // Field::kTtl
  // kType, kClass: the question's type or class, FROM and TO; kRcode: the
  // reply's RCODE (0-15), FROM and TO.
  uint16_t code_from = 0, code_to = 0;
  Edns0Rule edns0;  // Field::kEdns0
};

// What the rules did to one question, and so what the reply needs undone.
struct RewriteOutcome {
  struct Step {
    const RewriteRule* rule;
    std::string before, after;  // lower-cased FQDNs, as the rule saw and left them
  };
  DnsName name;                   // the question's name for the rest of the chain
  uint16_t qtype = 0, qclass = 0;  // and its type and class
  std::vector<Step> steps;        // the name rules that matched, in order
  std::optional<TtlClamp> ttl;    // from a matching ttl rule
  std::vector<const RewriteRule*> rcodes;  // the rcode rules that matched, in order
  // The cname rules reached, in order. CoreDNS counts a cname rule as
  // matching every question (its work is on the reply), so a `stop` one ends
  // the list.
  std::vector<const RewriteRule*> cnames;
  // Once an edns0 rule was reached: the EDNS options (OPT RDATA) the resolver
  // is sent, the client's as the rules left them. Otherwise meshdns sends none.
  std::optional<std::vector<uint8_t>> edns_options;
  // Whether the reply needs more than the client's question back.
  bool changed() const { return !steps.empty() || ttl.has_value() || !rcodes.empty(); }
  // The reply's RCODE once the matching rcode rules have acted on it.
  // CoreDNS runs them, last rule first, once for each record of the reply
  // (OPT included) and once when there is none; `records` is that count.
  uint8_t Rcode(uint8_t rcode, size_t records) const;
};

// What a name, prefix, suffix, substring or regex rule makes of `name` (a
// lower-case FQDN, or any text for a cname rule), if it matches; a regex's
// result is made a lower-case FQDN.
std::optional<std::string> RewriteText(const RewriteRule& rule, const std::string& name);

class Rewriter {
 public:
  Rewriter() = default;
  explicit Rewriter(std::vector<RewriteRule> rules) : rules_(std::move(rules)) {}

  bool empty() const { return rules_.empty(); }
  // The rules applied to a question. An error when a rule produced something
  // that is not a domain name (CoreDNS answers SERVFAIL then). edns0 rules
  // edit `client_options` (the client's OPT RDATA) and read `request`'s
  // addresses (without one, they see no client).
  absl::StatusOr<RewriteOutcome> Apply(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                       const EdnsRequest* request = nullptr,
                                       std::span<const uint8_t> client_options = {}) const;
  // The chain's reply with the client's question, its names mapped back and
  // its RCODE rewritten.
  static absl::StatusOr<std::vector<uint8_t>> Revert(const RewriteOutcome& outcome, std::span<const uint8_t> reply,
                                                     const DnsName& client_qname, RenameScratch& scratch);
  // When nothing in the chain answered (`rcode`: SERVFAIL, or REFUSED when
  // no resolver could be asked), CoreDNS's rewrite writes a reply of its own
  // with that RCODE, header and question only, through its rcode rules. That
  // reply, if a rule changed its RCODE; otherwise nothing, and the failure
  // stands.
  static std::optional<std::vector<uint8_t>> FailureReply(const RewriteOutcome& outcome, const DnsName& client_qname,
                                                          uint16_t qtype, uint16_t qclass, bool recursion_desired,
                                                          bool checking_disabled, uint8_t rcode);

 private:
  std::vector<RewriteRule> rules_;
};

}  // namespace meshdns
