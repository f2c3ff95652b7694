// ForwardAttempts: the failover decisions for one question sent to one pool,
// as a state machine with no sockets and no clock. The caller feeds it events
// (a reply, a timeout, a failure), each with the time it happened, and
// carries out the Action it returns: send to a resolver, or stop. The rules:
//   - an attempt plan by the pool's policy, of the resolvers in rotation;
//     none in rotation: the query fails at once;
//   - one adaptive timeout per resolver, and for the last of a pass the rest
//     of the budget with resends, so a lossy link still answers;
//   - SERVFAIL and REFUSED (and CoreDNS's `failover` rcodes) retried on the
//     next resolver before they count;
//   - at most max_connect_attempts failed attempts (CoreDNS's cap);
//   - a truncated reply asked again over TCP at once (contract rule 9);
//   - CoreDNS's max_concurrent and the per-resolver in-flight limit (REFUSED).
// Resolver health (round trips, timeouts, failures) is recorded here too.
//
// One object per query in flight, reused from query to query; allocation-free.
// Worker-local; the health and counters it points at are shared (atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "dnscore/clock.h"
#include "dnscore/policy.h"

namespace meshdns {

enum class Transport { kUdp, kTcp };

// What the attempts need to know of a pool. The pointers outlive the query.
struct AttemptPool {
  Policy policy = Policy::kRoundRobin;
  std::span<ResolverHealth* const> health;  // one per resolver
  HealthOptions health_options;
  Millis timeout = 2000;                  // per attempt, the most it may back off to
  Transport transport = Transport::kUdp;  // kTcp: force_tcp
  uint32_t inflight_limit = 0;            // queries in flight per resolver, over all workers
  uint32_t max_concurrent = 0;            // queries in flight over the pool; 0: no limit
  std::atomic<uint32_t>* concurrent = nullptr;  // the pool's count, for max_concurrent
  std::atomic<uint64_t>* rotation = nullptr;    // the pool's round-robin position
  // Rcodes asked again of the next resolver, bit n for rcode n: SERVFAIL and
  // REFUSED always (coredns-semantics.md: one broken node should not fail
  // queries), plus those of CoreDNS's `failover RCODE…`.
  uint16_t retry_rcodes = kDefaultRetryRcodes;
  // CoreDNS's max_connect_attempts: the query ends after this many failed
  // attempts (no reply, or nothing sent); 0: only the budget bounds them.
  uint32_t max_failed_attempts = 0;

  static constexpr uint16_t kDefaultRetryRcodes = (1u << 2) | (1u << 5);  // SERVFAIL, REFUSED
};

// How the attempts ended.
enum class AttemptOutcome {
  kAnswered,    // the last reply kept (Action::keep_reply) is the answer
  kFailed,      // no reply came, or no resolver was in rotation: the caller's stale-or-SERVFAIL decision
  kOverloaded,  // nobody could be asked (max_concurrent, in-flight limits): REFUSED
};

struct Action {
  enum class Kind { kSend, kDone };
  Kind kind = Kind::kDone;
  // kSend: ask resolver `resolver` (an index into the pool) over `transport`
  // and wait at most `timeout`, resending the same datagram every
  // `retransmit_every` (UDP; 0: never). Then OnReply, OnTimeout or OnFailure.
  size_t resolver = 0;
  Transport transport = Transport::kUdp;
  Millis timeout = 0;
  Millis retransmit_every = 0;
  // kSend: not a new attempt but the one in flight, asked again over TCP
  // after a truncated reply (same resolver, same clock for its round trip).
  bool same_attempt = false;
  // kDone: the query is over.
  AttemptOutcome outcome = AttemptOutcome::kFailed;
  // Either kind: the reply just given to OnReply is the best so far; keep it
  // (and count it) for when the query ends kAnswered.
  bool keep_reply = false;
  // Either kind: the failure just recorded took this resolver out of rotation
  // (worth a warning in the log).
  std::optional<size_t> out_of_rotation;
};

// A reply to the attempt in flight, as the caller read it.
struct AttemptReply {
  uint8_t rcode = 0;
  bool truncated = false;      // TC set (UDP)
  bool retransmitted = false;  // a second copy went out: no round-trip sample (Karn)
  int64_t rtt_micros = 0;      // since the attempt was sent
};

class ForwardAttempts {
 public:
  // A forwarded query's whole time, over all attempts: well inside the 5 s a
  // stub resolver waits before it asks again.
  static constexpr Millis kQueryBudget = 2500;
  // Attempts per query: a pool is gone through more than once if it must, so
  // a lossy link still answers within the budget.
  static constexpr size_t kMaxAttempts = 8;

  // `random` picks the first resolver under Policy::kRandom.
  [[nodiscard]] Action Start(Millis now, const AttemptPool& pool, uint64_t random);
  [[nodiscard]] Action OnReply(Millis now, const AttemptReply& reply);
  // No answer within the attempt's timeout.
  [[nodiscard]] Action OnTimeout(Millis now);
  // The attempt failed without a timeout: nothing could be sent, the socket
  // or the TCP connection failed.
  [[nodiscard]] Action OnFailure(Millis now);

  // The resolver of the attempt in flight (or of the last one).
  size_t resolver() const { return resolver_; }

 private:
  // Starts the next attempt that can be started, or ends the query.
  Action Next(Millis now);
  Action Answered(Millis now, const AttemptReply& reply);
  // Whether a failure also backs the resolver's timeout off.
  enum class Backoff { kYes, kNo };
  // Records a failed attempt; returns the resolver if it left the rotation.
  std::optional<size_t> Failed(Millis now, Backoff backoff);
  Action Finish(AttemptOutcome outcome);
  Millis Left(Millis now) const { return budget_ - (now - started_); }
  ResolverHealth& health() const { return *pool_.health[resolver_]; }

  AttemptPool pool_;
  Millis started_ = 0;
  Millis budget_ = 0;
  bool holds_concurrent_ = false;  // one of the pool's max_concurrent places is ours
  std::array<uint8_t, 256> order_;
  size_t planned_ = 0;
  size_t attempts_ = 0;
  size_t attempt_ = 0;
  size_t at_limit_ = 0;
  uint32_t failed_ = 0;  // attempts that got no reply, for max_failed_attempts
  // The attempt in flight.
  size_t resolver_ = 0;
  Transport transport_ = Transport::kUdp;
  bool after_truncation_ = false;
  bool answered_ = false;
};

}  // namespace meshdns
