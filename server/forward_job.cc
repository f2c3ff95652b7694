#include "server/forward_job.h"

#include <algorithm>

#include "server/log.h"

namespace meshdns {
namespace {

// A forwarded query's whole time, over all attempts: well inside the 5 s a
// stub resolver waits before it asks again.
constexpr Millis kQueryBudget = 2500;
// Attempts per query: a pool is gone through more than once if it must, so a
// lossy link still answers within the budget.
constexpr size_t kMaxAttempts = 8;

}  // namespace

void ForwardJob::Start(std::shared_ptr<const Runtime> runtime, const Pool& pool, const UpstreamQuestion& question,
                       Done* done) {
  runtime_ = std::move(runtime);
  pool_ = &pool;
  done_ = done;
  answered_ = false;
  overloaded_ = false;
  concurrent_ = nullptr;
  attempt_ = 0;
  at_limit_ = 0;
  started_ = NowMillis();
  // The whole query must end well inside a stub resolver's patience (5 s).
  budget_ = std::max(kQueryBudget, pool.timeout);

  // CoreDNS's max_concurrent: beyond it the query is REFUSED at once.
  if (pool.max_concurrent > 0) {
    if (pool.concurrent->fetch_add(1, std::memory_order_relaxed) >= pool.max_concurrent) {
      pool.concurrent->fetch_sub(1, std::memory_order_relaxed);
      ++counters_.overloaded;
      overloaded_ = true;
      Finish();
      return;
    }
    concurrent_ = pool.concurrent.get();
  }
  bool all_down = false;
  const uint64_t ticket = pool.policy == Policy::kRandom ? absl::Uniform<uint64_t>(rng_)
                                                         : pool.rotation->fetch_add(1, std::memory_order_relaxed);
  planned_ = PlanAttempts(pool.policy, ticket, pool.health_view, order_, &all_down);
  // Cycling through the plan again lets a lossy pool still answer; a pool
  // that is down altogether gets its one try and no more.
  attempts_ = all_down ? 1 : std::max(planned_, kMaxAttempts);
  query_size_ = WriteUpstreamQuery(0, question, query_);
  Next();
}

void ForwardJob::Next() {
  for (; attempt_ < attempts_; ++attempt_) {
    const Millis left = Left();
    if (left <= 0) break;
    resolver_ = order_[attempt_ % planned_];
    if (!health().TryAcquire(runtime_->config.limits.inflight)) {
      if (++at_limit_ >= planned_) break;  // every resolver is saturated
      continue;
    }
    channel_ = &channels_.Get(pool_->resolvers[resolver_]);
    channel_->CountAttempt();
    sent_ = std::chrono::steady_clock::now();
    if (pool_->force_tcp) {
      StartTcp(std::min(pool_->timeout, left), /*after_truncation=*/false);
      return;
    }
    // The last resolver of a pass may use what is left of the budget,
    // resending every half round trip: on a lossy link each copy is another
    // chance, and a reply to any of them counts. Earlier ones get one timeout
    // each, so a silent resolver costs little before the next is tried.
    UpstreamChannel::UdpOptions udp{.timeout = std::min(health().AttemptTimeout(pool_->timeout), left)};
    if (attempt_ % planned_ == planned_ - 1) udp = {.timeout = left, .retransmit_every = health().RetransmitInterval()};
    const absl::Status sent = channel_->StartUdp(std::span<uint8_t>(query_.data(), query_size_), udp, this);
    if (sent.ok()) return;  // OnUdpReply or OnUdpFailure goes on from here
    Failed(sent, /*count_timeout=*/false);
  }
  if (!answered_ && at_limit_ > 0) {
    ++counters_.overloaded;
    overloaded_ = true;
  }
  Finish();
}

void ForwardJob::OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) {
  const int64_t micros = Micros(sent_);
  if (!retransmitted) health().RecordRtt(micros);
  // Contract rule 9: a truncated reply is asked again over TCP at once.
  if (reply.size() >= kHeaderSize && (reply[2] & (kFlagTC >> 8))) {
    StartTcp(std::min(pool_->timeout, std::max<Millis>(Left(), 1)), /*after_truncation=*/true);
    return;
  }
  Answered(reply, micros);
}

void ForwardJob::OnUdpFailure(absl::Status status) {
  Failed(status, absl::IsDeadlineExceeded(status));
  ++attempt_;
  Next();
}

void ForwardJob::StartTcp(Millis timeout, bool after_truncation) {
  asio::co_spawn(
      io_, channel_->ExchangeTcp(std::span<uint8_t>(query_.data(), query_size_), timeout, pool_->expire),
      [this, after_truncation](std::exception_ptr error, absl::StatusOr<std::vector<uint8_t>> reply) {
        // An exchange that threw has failed like any other: the job goes on.
        if (error) reply = absl::InternalError("TCP exchange failed");
        if (reply.ok()) {
          Answered(*reply, Micros(sent_));
          return;
        }
        // A timeout over TCP after a truncated UDP reply says nothing about the
        // resolver's UDP round trip, which the timeout estimate is for.
        Failed(reply.status(), !after_truncation && absl::IsDeadlineExceeded(reply.status()));
        ++attempt_;
        Next();
      });
}

void ForwardJob::Answered(std::span<const uint8_t> reply, int64_t micros) {
  ResolverHealth& h = health();
  h.Release();
  h.RecordSuccess(NowMillis());
  const uint8_t rcode = reply[3] & 0xf;
  channel_->CountResponse(rcode, micros);
  reply_.assign(reply.begin(), reply.end());
  answered_ = true;
  // One broken node should not fail the query: SERVFAIL and REFUSED try the
  // next resolver first, until each has had its say.
  if ((rcode == kServFail || rcode == kRefused) && attempt_ + 1 < planned_) {
    ++attempt_;
    Next();
    return;
  }
  Finish();
}

void ForwardJob::Failed(const absl::Status& status, bool count_timeout) {
  ResolverHealth& h = health();
  if (count_timeout) h.RecordTimeout(pool_->timeout);
  h.Release();
  ++counters_.upstream_failures;
  if (h.RecordFailure(pool_->health_options, NowMillis())) {
    Log(LogLevel::kWarn, "cluster ", pool_->name, ": resolver ", pool_->resolvers[resolver_].ToString(),
        " taken out of rotation after ", pool_->health_options.max_fails, " failures (", status.message(), ")");
  }
}

void ForwardJob::Finish() {
  if (concurrent_ != nullptr) concurrent_->fetch_sub(1, std::memory_order_relaxed);
  concurrent_ = nullptr;
  // The runtime is let go now, not at the next Start(): an idle job must not
  // keep a replaced configuration alive. The caller holds its own reference.
  const std::shared_ptr<const Runtime> keep = std::move(runtime_);
  done_->Forwarded(*this);
}

}  // namespace meshdns
