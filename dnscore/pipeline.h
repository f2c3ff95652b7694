// Pipeline: the stages a question goes through once admission found no cache
// entry for it, in the one order they run (written in Start and Finish):
//
//   query:  class check → loop probe → dispatch (longest zone; a block
//           without plugins is REFUSED) → local, any, chaos → cache →
//           rewrite → cluster strip → template → clusterset rules
//           (contract 2-4) → hosts → forward → whoami
//   reply:  cluster names restored → rewrite reverted → rewrite cname (each
//           new target looked up) → stored by the block's cache policy
//           (loadbalance, rewrite ttl), or a stale answer instead of none or
//           of SERVFAIL → cache insert
//
// Sans-I/O: Start returns a Step, the verdict of the query direction. An
// answer ends it; forward, chase and fan-out are I/O for the caller to carry
// out, after which Forwarded, Chased or FannedOut finish the question through
// the reply stages; these may ask for a chase again (a rewrite cname rule's
// new target), whose answer goes to Chased. Time is an argument; nothing here reads a clock or a socket.
//
// A Pipeline is a handful of references, made per question; the program and
// cache it reads are shared and thread-safe, the counters and the rename
// scratch buffer are the caller's (one per worker).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dnscore/cname_chain.h"
#include "dnscore/cname_target.h"
#include "dnscore/packet_cache.h"
#include "dnscore/policy.h"
#include "dnscore/program.h"
#include "dnscore/question.h"
#include "dnscore/service_merge.h"
#include "dnscore/wire_rename.h"

namespace meshdns {

// How a question ended.
struct Answer {
  enum class Kind { kReply, kServFail, kRefused };
  Kind kind = Kind::kServFail;
  std::shared_ptr<const StoredReply> reply;  // kReply
  uint32_t ttl = 0;                          // its remaining lifetime, if cacheable
  absl::Status why;                          // kServFail, kRefused: what went wrong, if known;
                                             // kReply: the failure rewrite's rcode rule answered
  bool log = false;                          // the block has `errors`: log `why`
  bool from_cache = false;                   // served from the cache: the reply gets AA, as CoreDNS's

  static Answer Reply(std::shared_ptr<const StoredReply> reply, uint32_t ttl) {
    return Answer{.kind = Kind::kReply, .reply = std::move(reply), .ttl = ttl};
  }
  static Answer ServFail(absl::Status why = absl::OkStatus(), bool log = false) {
    return Answer{.kind = Kind::kServFail, .why = std::move(why), .log = log};
  }
  static Answer Refused(absl::Status why = absl::OkStatus()) {
    return Answer{.kind = Kind::kRefused, .why = std::move(why)};
  }
};

// A question's way through the stages so far, kept by the caller while the
// I/O a Step asked for runs. Reused from question to question: its vectors
// keep their capacity.
struct QueryState {
  Question question;  // as the pipeline was asked it (the client's, a CNAME target, a cluster's part)
  int depth = 0;      // links of a CNAME chain or fan-out above this question
  const Block* block = nullptr;
  RewriteOutcome rewritten;   // what the block's rewrite did, to undo on the reply
  bool stripped = false;      // the block's cluster label was taken off
  DnsName ask;                // the name after rewrite and strip: what templates, hosts and resolvers see
  const BlockCache* cache = nullptr;
  ChainStart chain;                     // kChase: the answer so far
  std::shared_ptr<const std::vector<uint8_t>> ede;  // a template's ederror, for the reply's OPT
  std::optional<ServiceName> service;   // kFanOut: the clusterset service or namespace asked
  // The block's rewrite cname rules at work on the reply: each kChase then
  // looks up a new target. The reply is cached only if every lookup's answer
  // was, and for no longer than the shortest of their lifetimes.
  std::optional<CnameTargetRewrite> retarget;
  bool retarget_cacheable = true;
  uint32_t retarget_ttl = 0;

  // The question a resolver is asked for kForward: name, type and class as
  // rewrite and strip left them, the client's flags.
  UpstreamQuestion Upstream() const {
    UpstreamQuestion u = question.Upstream(ask);
    u.qtype = rewritten.qtype;
    u.qclass = rewritten.qclass;
    if (rewritten.edns_options) u.options = *rewritten.edns_options;
    return u;
  }
};

// The verdict of the query direction.
struct Step {
  enum class Kind {
    kAnswer,        // `answer` is final
    kForward,       // ask pool `pool` for state.ask, then Forwarded()
    kChase,         // resolve `target` through the whole pipeline, then Chased()
                    // (a CNAME's target, or a rewrite cname rule's new target)
    kFanOut,        // resolve each of `parts` within `budget`, then FannedOut()
    kLoopDetected,  // CoreDNS's loop plugin: the process must stop
  };
  Kind kind = Kind::kAnswer;
  Answer answer;
  size_t pool = 0;
  Question target;
  std::vector<ClusterPart> parts;   // cluster indexes; replies to be filled in
  std::vector<Question> part_questions;
  Millis budget = 0;
};

struct PipelineCounters {
  uint64_t synthesized = 0;
  uint64_t stale_answers = 0;
  uint64_t fanout_left_out = 0;  // clusters down or too slow for a clusterset service answer
};

// Whether a pool has a resolver in rotation, by pool index.
using PoolHealth = std::span<ResolverHealth* const>;

class Pipeline {
 public:
  // Contract rule 2: a CNAME chain longer than this, or one that loops (which
  // ends up longer than this), gives SERVFAIL.
  static constexpr int kMaxChainLinks = 8;

  struct Options {
    Millis now = 0;
    bool look_in_cache = true;  // false: the caller has just looked, or renews the entry (prefetch)
    bool store = true;          // false: the cache belongs to a configuration no longer served
  };

  Pipeline(const Program& program, std::span<const PoolHealth> pools, PacketCache& cache,
           PipelineCounters& counters, RenameScratch& scratch)
      : program_(program), pools_(pools), cache_(cache), counters_(counters), scratch_(scratch) {}

  [[nodiscard]] Step Start(const Question& question, int depth, QueryState& state, const Options& options);
  // The resolver's reply (empty: none came; `overloaded`: none could be asked).
  // The step is an answer, or a chase for the block's rewrite cname rules.
  [[nodiscard]] Step Forwarded(QueryState& state, std::span<const uint8_t> reply, bool overloaded,
                               const Options& options);
  [[nodiscard]] Step Chased(QueryState& state, const Answer& target, const Options& options);
  // `parts` as Step gave them, each reply filled in if it came within the budget.
  [[nodiscard]] Step FannedOut(QueryState& state, std::span<const ClusterPart> parts, const Options& options);

 private:
  // The reply stages for a reply the block produced (forwarded or synthesized).
  Step Finish(QueryState& state, absl::StatusOr<std::span<const uint8_t>> reply, bool overloaded,
              const Options& options);
  Step Finish(QueryState& state, const absl::StatusOr<std::vector<uint8_t>>& wire, const Options& options);
  Step Finished(QueryState& state, const absl::StatusOr<std::vector<uint8_t>>& wire, const Options& options) {
    return Finish(state, wire, options);
  }
  // rewrite cname: the next new target to look up, or the reply once done.
  Step Retarget(QueryState& state, const Options& options);
  Step Retargeted(QueryState& state, const Answer& target, const Options& options);
  // The last reply stages: a stale answer for a failure, loadbalance, rewrite
  // ttl, cache insert. `answered_failure`: a failure rewrite's rcode rule answered.
  Answer Store(QueryState& state, absl::StatusOr<StoredReply> stored, bool overloaded,
               absl::Status answered_failure, const Options& options);
  // The clusterset zone's own answers (contract rules 2-4).
  Step Clusterset(QueryState& state, const Options& options);
  Step Chase(QueryState& state, const DnsName& target, const Options& options);
  // RFC 8767: an answer that expired at most the block's serve_stale ago.
  std::optional<Answer> Stale(const QueryState& state, Millis now);

  const Program& program_;
  std::span<const PoolHealth> pools_;
  PacketCache& cache_;
  PipelineCounters& counters_;
  RenameScratch& scratch_;
};

}  // namespace meshdns
