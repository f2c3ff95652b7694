#include "dnscore/forward_attempts.h"

#include <algorithm>

#include "dnscore/wire.h"

namespace meshdns {

Action ForwardAttempts::Start(Millis now, const AttemptPool& pool, uint64_t random) {
  pool_ = pool;
  started_ = now;
  // The whole query must end well inside a stub resolver's patience (5 s).
  budget_ = std::max(kQueryBudget, pool.timeout);
  holds_concurrent_ = false;
  attempt_ = 0;
  at_limit_ = 0;
  failed_ = 0;
  answered_ = false;

  // CoreDNS's max_concurrent: beyond it the query is REFUSED at once.
  if (pool.max_concurrent > 0) {
    if (pool.concurrent->fetch_add(1, std::memory_order_relaxed) >= pool.max_concurrent) {
      pool.concurrent->fetch_sub(1, std::memory_order_relaxed);
      return Finish(AttemptOutcome::kOverloaded);
    }
    holds_concurrent_ = true;
  }
  const uint64_t ticket =
      pool.policy == Policy::kRandom ? random : pool.rotation->fetch_add(1, std::memory_order_relaxed);
  planned_ = PlanAttempts(pool.policy, ticket, pool.health, order_);
  // No resolver in rotation: the answer is SERVFAIL (or stale) now, not
  // after the budget spent on a resolver that has already been silent
  // max_fails times. The health prober brings one back.
  if (planned_ == 0) return Finish(AttemptOutcome::kFailed);
  // Cycling through the plan again lets a lossy pool still answer.
  attempts_ = std::max(planned_, kMaxAttempts);
  return Next(now);
}

Action ForwardAttempts::Next(Millis now) {
  for (; attempt_ < attempts_; ++attempt_) {
    const Millis left = Left(now);
    if (left <= 0) break;
    if (pool_.max_failed_attempts > 0 && failed_ >= pool_.max_failed_attempts) break;
    resolver_ = order_[attempt_ % planned_];
    if (!health().TryAcquire(pool_.inflight_limit)) {
      if (++at_limit_ >= planned_) break;  // every resolver is saturated
      continue;
    }
    transport_ = pool_.transport;
    after_truncation_ = false;
    Action send{.kind = Action::Kind::kSend, .resolver = resolver_, .transport = transport_};
    if (transport_ == Transport::kTcp) {
      send.timeout = std::min(pool_.timeout, left);
      return send;
    }
    // The last resolver of a pass may use what is left of the budget,
    // resending every half round trip: on a lossy link each copy is another
    // chance, and a reply to any of them counts. Earlier ones get one timeout
    // each, so a silent resolver costs little before the next is tried.
    send.timeout = std::min(health().AttemptTimeout(pool_.timeout), left);
    if (attempt_ % planned_ == planned_ - 1) {
      send.timeout = left;
      send.retransmit_every = health().RetransmitInterval();
    }
    return send;
  }
  if (answered_) return Finish(AttemptOutcome::kAnswered);
  return Finish(at_limit_ > 0 ? AttemptOutcome::kOverloaded : AttemptOutcome::kFailed);
}

Action ForwardAttempts::OnReply(Millis now, const AttemptReply& reply) {
  if (transport_ == Transport::kUdp) {
    // Karn's rule: a reply to a resent query may answer either copy.
    if (!reply.retransmitted) health().RecordRtt(reply.rtt_micros);
    // Contract rule 9: a truncated reply is asked again over TCP at once.
    if (reply.truncated) {
      transport_ = Transport::kTcp;
      after_truncation_ = true;
      return Action{.kind = Action::Kind::kSend,
                    .resolver = resolver_,
                    .transport = Transport::kTcp,
                    .timeout = std::min(pool_.timeout, std::max<Millis>(Left(now), 1)),
                    .same_attempt = true};
    }
  }
  return Answered(now, reply);
}

Action ForwardAttempts::Answered(Millis now, const AttemptReply& reply) {
  ResolverHealth& h = health();
  h.Release();
  h.RecordSuccess(now);
  answered_ = true;
  Action next;
  // One broken node should not fail the query: SERVFAIL and REFUSED (and
  // the failover rcodes) try the next resolver first, until each has had its
  // say; the last reply is the answer, as CoreDNS's failover returns it.
  if (((pool_.retry_rcodes >> (reply.rcode & 0xf)) & 1) != 0 && attempt_ + 1 < planned_) {
    ++attempt_;
    next = Next(now);
  } else {
    next = Finish(AttemptOutcome::kAnswered);
  }
  next.keep_reply = true;
  return next;
}

Action ForwardAttempts::OnTimeout(Millis now) {
  // A timeout over TCP after a truncated UDP reply says nothing about the
  // resolver's UDP round trip, which the timeout estimate is for.
  const std::optional<size_t> out = Failed(now, after_truncation_ ? Backoff::kNo : Backoff::kYes);
  ++attempt_;
  Action next = Next(now);
  next.out_of_rotation = out;
  return next;
}

Action ForwardAttempts::OnFailure(Millis now) {
  const std::optional<size_t> out = Failed(now, Backoff::kNo);
  ++attempt_;
  Action next = Next(now);
  next.out_of_rotation = out;
  return next;
}

std::optional<size_t> ForwardAttempts::Failed(Millis now, Backoff backoff) {
  ResolverHealth& h = health();
  ++failed_;
  if (backoff == Backoff::kYes) h.RecordTimeout(pool_.timeout);
  h.Release();
  if (h.RecordFailure(pool_.health_options, now)) return resolver_;
  return std::nullopt;
}

Action ForwardAttempts::Finish(AttemptOutcome outcome) {
  if (holds_concurrent_) pool_.concurrent->fetch_sub(1, std::memory_order_relaxed);
  holds_concurrent_ = false;
  return Action{.kind = Action::Kind::kDone, .outcome = outcome};
}

}  // namespace meshdns
