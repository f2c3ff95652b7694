#include "dnscore/answers_question.h"

#include "dnscore/wire.h"

namespace meshdns {
namespace {

bool ClassMatches(uint16_t rclass, uint16_t qclass) { return qclass == kClassANY || rclass == qclass; }

// The answer section, walked in place: a cache miss may allocate only what it
// stores (forward_miss_alloc_test), so nothing here goes to the heap.
class AnswerSection {
 public:
  AnswerSection(std::span<const uint8_t> msg, size_t at, size_t count) : msg_(msg), at_(at), count_(count) {}

  // Calls visit(owner, rr) for each record; false if the section is malformed
  // or visit asked to stop.
  template <typename Visit>
  bool Each(Visit&& visit) const {
    WireReader r(msg_, at_);
    DnsName owner;
    for (size_t i = 0; i < count_; ++i) {
      RrFixed rr;
      if (!r.Name(owner) || !ReadRrFixed(r, rr)) return false;
      if (!visit(owner, rr)) return false;
    }
    return true;
  }

  enum class Alias { kNone, kOne, kForked, kMalformed };
  // Whether `owner` is an alias, and of what (RFC 2181 10.1: of one name only).
  Alias CnameOf(const DnsName& owner, uint16_t qclass, DnsName& target) const {
    Alias alias = Alias::kNone;
    DnsName next;
    const bool whole = Each([&](const DnsName& name, const RrFixed& rr) {
      if (rr.type != kTypeCNAME || !ClassMatches(rr.rclass, qclass) || !name.Equals(owner)) return true;
      WireReader t(msg_, rr.rdata_offset);
      if (!t.Name(next)) return false;
      if (alias == Alias::kOne && !next.Equals(target)) {
        alias = Alias::kForked;
        return false;
      }
      target = next;
      alias = Alias::kOne;
      return true;
    });
    if (alias == Alias::kForked) return alias;
    return whole ? alias : Alias::kMalformed;
  }

  // Whether a record of `qtype` in the class sits at `owner` (any type for ANY).
  bool Holds(const DnsName& owner, uint16_t qtype, uint16_t qclass) const {
    bool found = false;
    Each([&](const DnsName& name, const RrFixed& rr) {
      found = (qtype == kTypeANY || rr.type == qtype) && ClassMatches(rr.rclass, qclass) && name.Equals(owner);
      return !found;
    });
    return found;
  }

  size_t count() const { return count_; }

 private:
  std::span<const uint8_t> msg_;
  size_t at_;
  size_t count_;
};

}  // namespace

bool AnswersQuestion(std::span<const uint8_t> msg, size_t answers_at, size_t answers, const QuestionOf& q) {
  if (answers == 0) return false;
  const AnswerSection section(msg, answers_at, answers);
  if (q.qtype == kTypeANY) return section.Holds(q.name, kTypeANY, q.qclass);
  DnsName name = q.name;
  DnsName target;
  if (q.qtype == kTypeCNAME) return section.CnameOf(name, q.qclass, target) == AnswerSection::Alias::kOne;
  // Follow the chain to its terminal owner. Each link is a CNAME record of
  // its own, so a chain with more links than records revisits an owner: a loop.
  for (size_t links = 0;; ++links) {
    const AnswerSection::Alias alias = section.CnameOf(name, q.qclass, target);
    if (alias == AnswerSection::Alias::kNone) break;
    if (alias != AnswerSection::Alias::kOne || links == section.count()) return false;
    name = target;
  }
  return section.Holds(name, q.qtype, q.qclass);
}

}  // namespace meshdns
