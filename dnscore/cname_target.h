// CnameTargetRewrite: the reply side of `rewrite cname` rules. A reply's CNAME
// whose target a rule matches gets the rule's new target, and what followed
// it in the answer is replaced by the answer of a lookup of the new target,
// which the caller carries out (through the whole server, as CoreDNS's
// upstream lookup does) and hands back. A state machine over one reply: Next
// says what to look up, Looked takes the lookup's answer; no I/O.
//
// The order is CoreDNS's (plugin/rewrite/cname_target.go and reverter.go):
// the records of the reply as it came (authority, answer, additional), each
// offered to the rules last rule first. For a match, the answer becomes its
// CNAME records up to and including the first whose target is the matched
// one (that one now pointing at the new target; other records before it are
// dropped), then the lookup's answer records; the reply takes the lookup's
// TC flag. RCODE, authority and additional stay as they were. A record
// already offered is never offered again, so records a lookup added are only
// ever retargeted, never looked up for.
//
// A value type; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/message.h"
#include "dnscore/rewrite.h"

namespace meshdns {

// What the rewrite needs next.
struct CnameTargetStep {
  enum class Kind {
    kLookup,  // resolve `target` (the question's type as rewrite left it, class IN), then Looked()
    kDone,    // Reply() is final
  };
  Kind kind = Kind::kDone;
  DnsName target;
};

class CnameTargetRewrite {
 public:
  // `rules`: the cname rules the question reached, in Corefile order.
  // `reply`: the reply the block produced, as the block's other rules left it.
  static absl::StatusOr<CnameTargetRewrite> Begin(std::span<const RewriteRule* const> rules,
                                                  std::span<const uint8_t> reply);

  // The next lookup, or done. Calling it again without Looked() means the
  // lookup gave nothing back (CoreDNS: it wrote no reply): the reply stays.
  [[nodiscard]] CnameTargetStep Next();
  // The lookup Next() asked for answered `answer` with TC `truncated`.
  void Looked(std::span<const RrPtr> answer, bool truncated);
  // The same from the lookup's reply as a whole message.
  absl::Status Looked(std::span<const uint8_t> reply);

  // The reply as the rules have left it so far.
  absl::StatusOr<std::vector<uint8_t>> Reply() const;
  // How many lookups were asked for.
  int lookups() const { return lookups_; }

 private:
  CnameTargetRewrite() = default;
  // A record of the reply as it came: an answer record is a slot of
  // `answer_records_` (its target may change), the others are read from `reply_`.
  struct Offered {
    const ldns_rr* fixed = nullptr;
    size_t slot = 0;
  };
  const ldns_rr* Record(const Offered& o) const { return o.fixed ? o.fixed : answer_records_[o.slot].get(); }

  std::vector<const RewriteRule*> rules_;
  PktPtr reply_;
  std::vector<RrPtr> answer_records_;  // the reply's answer records, then the lookups'
  std::vector<size_t> answer_;         // the answer section now, as slots of answer_records_
  std::vector<Offered> offered_;       // authority, answer, additional, as the reply came
  size_t next_record_ = 0, next_rule_ = 0;
  bool truncated_ = false;
  int lookups_ = 0;
  // The lookup under way: the target matched and the new one.
  std::optional<DnsName> from_;
  DnsName to_;
};

}  // namespace meshdns
