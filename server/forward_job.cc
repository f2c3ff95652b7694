#include "server/forward_job.h"

#include "server/log.h"

namespace meshdns {

void ForwardJob::Start(std::shared_ptr<const Runtime> runtime, const Pool& pool, const UpstreamQuestion& question,
                       Done* done) {
  runtime_ = std::move(runtime);
  pool_ = &pool;
  done_ = done;
  answered_ = false;
  overloaded_ = false;
  UpstreamQuestion asked = question;
  asked.udp_size = runtime_->config.limits.udp_reply_size;  // what meshdns sends, it asks for
  query_size_ = WriteUpstreamQuery(0, asked, query_);
  if (query_size_ == 0) {  // the pipeline keeps options within kMaxUpstreamOptions; nothing to send otherwise
    Finish(AttemptOutcome::kFailed);
    return;
  }
  const AttemptPool attempt_pool{
      .policy = pool.policy,
      .health = pool.health_view,
      .health_options = pool.health_options,
      .timeout = pool.timeout,
      .transport = pool.force_tcp ? Transport::kTcp : Transport::kUdp,
      .inflight_limit = runtime_->config.limits.inflight,
      .max_concurrent = pool.max_concurrent,
      .concurrent = pool.concurrent.get(),
      .rotation = pool.rotation.get(),
      .retry_rcodes = pool.retry_rcodes,
      .max_failed_attempts = pool.max_failed_attempts,
  };
  const uint64_t random = pool.policy == Policy::kRandom ? absl::Uniform<uint64_t>(rng_) : 0;
  Do(attempts_.Start(NowMillis(), attempt_pool, random));
}

void ForwardJob::Do(Action action) {
  while (action.kind == Action::Kind::kSend) {
    if (action.same_attempt) {
      StartTcp(action.timeout);
      return;
    }
    channel_ = &channels_.Get(pool_->resolvers[action.resolver]);
    channel_->CountAttempt();
    sent_ = std::chrono::steady_clock::now();
    if (action.transport == Transport::kTcp) {
      StartTcp(action.timeout);
      return;
    }
    const UpstreamChannel::UdpOptions udp{.timeout = action.timeout, .retransmit_every = action.retransmit_every};
    const absl::Status sent = channel_->StartUdp(std::span<uint8_t>(query_.data(), query_size_), udp, this);
    if (sent.ok()) return;  // OnUdpReply or OnUdpFailure goes on from here
    action = Failed(sent);
  }
  Finish(action.outcome);
}

void ForwardJob::OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) {
  const int64_t micros = Micros(sent_);
  Do(Replied(reply, {.truncated = (reply[2] & (kFlagTC >> 8)) != 0,
                     .retransmitted = retransmitted,
                     .rtt_micros = micros}));
}

void ForwardJob::OnUdpFailure(absl::Status status) { Do(Failed(status)); }

void ForwardJob::StartTcp(Millis timeout) {
  asio::co_spawn(io_, channel_->ExchangeTcp(std::span<uint8_t>(query_.data(), query_size_), timeout, pool_->expire),
                 [this](std::exception_ptr error, absl::StatusOr<std::vector<uint8_t>> reply) {
                   // An exchange that threw has failed like any other: the job goes on.
                   if (error) reply = absl::InternalError("TCP exchange failed");
                   Do(reply.ok() ? Replied(*reply, {.rtt_micros = Micros(sent_)}) : Failed(reply.status()));
                 });
}

Action ForwardJob::Replied(std::span<const uint8_t> reply, const AttemptReply& event) {
  AttemptReply read = event;
  read.rcode = reply[3] & 0xf;
  Action next = attempts_.OnReply(NowMillis(), read);
  if (next.keep_reply) {
    channel_->CountResponse(read.rcode, read.rtt_micros);
    reply_.assign(reply.begin(), reply.end());
  }
  return next;
}

Action ForwardJob::Failed(const absl::Status& status) {
  ++counters_.upstream_failures;
  const Millis now = NowMillis();
  const Action next = absl::IsDeadlineExceeded(status) ? attempts_.OnTimeout(now) : attempts_.OnFailure(now);
  if (next.out_of_rotation) {
    Log(LogLevel::kWarn, "cluster ", pool_->name, ": resolver ", pool_->resolvers[*next.out_of_rotation].ToString(),
        " taken out of rotation after ", pool_->health_options.max_fails, " failures (", status.message(), ")");
    if (PoolDown(pool_->health_view)) {
      Log(LogLevel::kWarn, "cluster ", pool_->name,
          ": every resolver out of rotation; its queries are answered at once (SERVFAIL, or stale) until a health "
          "probe finds one back");
    }
  }
  return next;
}

void ForwardJob::Finish(AttemptOutcome outcome) {
  answered_ = outcome == AttemptOutcome::kAnswered;
  overloaded_ = outcome == AttemptOutcome::kOverloaded;
  if (overloaded_) ++counters_.overloaded;
  // The runtime is let go now, not at the next Start(): an idle job must not
  // keep a replaced configuration alive. The caller holds its own reference.
  const std::shared_ptr<const Runtime> keep = std::move(runtime_);
  done_->Forwarded(*this);
}

}  // namespace meshdns
