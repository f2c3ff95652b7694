#include "server/query_engine.h"

#include <cstdlib>

#include "dnscore/message.h"
#include "dnscore/reply_writer.h"
#include "server/log.h"

namespace meshdns {

void QueryEngine::Resolve(const QueryView& view, std::span<const uint8_t> query, uint16_t server,
                          const ClientAddress& client, Waiter* waiter) {
  Job& job = TakeJob();
  job.g = generation_;
  job.waiter = waiter;
  const Step step = PipelineFor(*job.g).Start(Question::Of(view, query, server, client), 0, job.state, Now(job.g, /*look_in_cache=*/false));
  switch (step.kind) {
    case Step::Kind::kAnswer:
      Noted(job.state, step.answer);
      ReturnJob(job);
      waiter->Answered(step.answer);
      return;
    case Step::Kind::kForward: {
      const Runtime& rt = *job.g->runtime;
      job.forward.Start(job.g->runtime, rt.pools[step.pool], job.state.Upstream(), &job);
      return;  // FinishForward() goes on from here
    }
    case Step::Kind::kLoopDetected:
      StopOnLoop(job.state.question);
    case Step::Kind::kChase:
    case Step::Kind::kFanOut:
      break;
  }
  // Chases and fan-outs wait on several things at once: a coroutine carries on.
  asio::co_spawn(
      io_,
      [this, g = job.g, state = std::move(job.state), step, waiter]() mutable -> asio::awaitable<void> {
        const Answer answer = co_await Continue(std::move(g), state, std::move(step));
        waiter->Answered(answer);
      },
      LogIfException);
  ReturnJob(job);
}

void QueryEngine::FinishForward(Job& job) {
  Step step = PipelineFor(*job.g).Forwarded(job.state, job.forward.reply(), job.forward.overloaded(), Now(job.g));
  Waiter* waiter = job.waiter;
  if (step.kind == Step::Kind::kAnswer) {
    Noted(job.state, step.answer);
    ReturnJob(job);
    waiter->Answered(step.answer);
    return;
  }
  // A rewrite cname rule's new target to look up: a coroutine carries on.
  asio::co_spawn(
      io_,
      [this, g = job.g, state = std::move(job.state), step = std::move(step), waiter]() mutable -> asio::awaitable<void> {
        const Answer answer = co_await Continue(std::move(g), state, std::move(step));
        waiter->Answered(answer);
      },
      LogIfException);
  ReturnJob(job);
}

QueryEngine::Job& QueryEngine::TakeJob() {
  if (idle_jobs_.empty()) {
    jobs_.push_back(std::make_unique<Job>(*this));
    return *jobs_.back();
  }
  Job* job = idle_jobs_.back();
  idle_jobs_.pop_back();
  return *job;
}

void QueryEngine::ReturnJob(Job& job) {
  job.g.reset();  // an idle job keeps no configuration alive
  job.state.block = nullptr;
  job.state.cache = nullptr;
  job.waiter = nullptr;
  idle_jobs_.push_back(&job);
}

asio::awaitable<Answer> QueryEngine::ResolveMiss(const QueryView& view, std::span<const uint8_t> query,
                                                 uint16_t server, ClientAddress client) {
  co_return co_await Resolve(generation_, Question::Of(view, query, server, client), 0, /*look_in_cache=*/false);
}

asio::awaitable<void> QueryEngine::Refresh(Question q) {
  ++counters_.prefetches;
  (void)co_await Resolve(generation_, std::move(q), 0, /*look_in_cache=*/false);
}

size_t QueryEngine::WriteAnswer(const Answer& answer, std::span<const uint8_t> query, const QueryView& view,
                                size_t limit, std::span<uint8_t> out) {
  const uint16_t advertised = generation_->runtime->config.limits.udp_reply_size;
  if (answer.kind == Answer::Kind::kReply) {
    const StoredReply& s = *answer.reply;
    WriteOptions options{
        .limit = limit, .rotation = &rotation_, .advertised = advertised, .authoritative = answer.from_cache};
    if (s.cacheable) options.ttl = answer.ttl;
    const size_t size = WriteReply(s.View(), view, query, options, out);
    if (size != 0) return size;
  }
  return WriteErrorReply(QueryCheck::kOk, answer.kind == Answer::Kind::kRefused ? kRefused : kServFail, view, query,
                         out, advertised);
}

asio::awaitable<Answer> QueryEngine::Resolve(std::shared_ptr<const Generation> g, Question q, int depth,
                                             bool look_in_cache) {
  QueryState state;
  Step step = PipelineFor(*g).Start(q, depth, state, Now(g, look_in_cache));
  co_return co_await Continue(std::move(g), state, std::move(step));
}

asio::awaitable<Answer> QueryEngine::Continue(std::shared_ptr<const Generation> g, QueryState& state, Step step) {
  // Each step's I/O, until the pipeline answers: a reply may need chases of
  // its own (rewrite cname) before it is final.
  for (;;) {
    switch (step.kind) {
      case Step::Kind::kAnswer:
        co_return Noted(state, step.answer);
      case Step::Kind::kLoopDetected:
        StopOnLoop(state.question);
      case Step::Kind::kForward: {
        Forwarded forwarded = co_await Forward(g->runtime, g->runtime->pools[step.pool], state.Upstream());
        step = PipelineFor(*g).Forwarded(state, forwarded.reply, forwarded.overloaded, Now(g));
        break;
      }
      case Step::Kind::kChase: {
        const Answer target = co_await Resolve(g, step.target, state.depth + 1, /*look_in_cache=*/true);
        step = PipelineFor(*g).Chased(state, target, Now(g));
        break;
      }
      case Step::Kind::kFanOut: {
        const std::vector<ClusterPart> parts = co_await FanOut(g, std::move(step), state.depth + 1);
        step = PipelineFor(*g).FannedOut(state, parts, Now(g));
        break;
      }
    }
  }
}

asio::awaitable<QueryEngine::Forwarded> QueryEngine::Forward(std::shared_ptr<const Runtime> rt, const Pool& pool,
                                                             const UpstreamQuestion& question) {
  struct Wake final : ForwardJob::Done {
    explicit Wake(asio::io_context& io) : wakeup(io) {}
    void Forwarded(ForwardJob&) override { wakeup.Wake(); }
    Wakeup wakeup;
  } wake(io_);
  Job& job = TakeJob();
  job.forward.Start(std::move(rt), pool, question, &wake);
  co_await wake.wakeup.Wait();
  Forwarded out{.reply = std::vector<uint8_t>(job.forward.reply().begin(), job.forward.reply().end()),
                .overloaded = job.forward.overloaded()};
  ReturnJob(job);
  co_return out;
}

asio::awaitable<std::vector<ClusterPart>> QueryEngine::FanOut(std::shared_ptr<const Generation> g, Step step,
                                                              int depth) {
  // Shared with the per-cluster lookups, which may finish after the merge
  // has gone ahead without them (their answers still land in the cache).
  struct Parts {
    explicit Parts(asio::io_context& io) : all_in(io) {}
    asio::steady_timer all_in;  // cancelled when the last part arrives
    std::vector<ClusterPart> parts;
    size_t pending = 0;
  };
  auto fan = std::make_shared<Parts>(io_);
  fan->parts = std::move(step.parts);
  fan->pending = fan->parts.size();
  fan->all_in.expires_after(std::chrono::milliseconds(step.budget));
  for (size_t i = 0; i < fan->parts.size(); ++i) {
    asio::co_spawn(io_, [this, g, fan, i, part = step.part_questions[i], depth]() -> asio::awaitable<void> {
      const Answer r = co_await Resolve(g, part, depth, /*look_in_cache=*/true);
      if (r.kind == Answer::Kind::kReply) fan->parts[i].reply = r.reply->WireWithTtl(r.ttl);
      if (--fan->pending == 0) fan->all_in.cancel();
    }, LogIfException);
  }
  if (fan->pending > 0) {
    boost::system::error_code ec;
    co_await fan->all_in.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) counters_.fanout_left_out += fan->pending;  // the budget ran out first
  }
  co_return fan->parts;
}

const Answer& QueryEngine::Noted(const QueryState& state, const Answer& answer) {
  if (!answer.why.ok()) {
    LogLevel level = answer.log ? LogLevel::kError : LogLevel::kDebug;
    if (answer.log && state.block != nullptr && state.block->consolidate) {
      const ErrorConsolidation::Verdict v = state.block->consolidate->Offer(answer.why.message(), NowMillis());
      if (!v.log) return answer;
      level = ToLogLevel(v.level);
    }
    // The errors plugin's line: rcode, question, why. A reply with a why is
    // rewrite's own to a failure, which CoreDNS's rewrite returns as NOERROR.
    Log(level, "plugin/errors: ", answer.kind == Answer::Kind::kReply ? "0 " : "2 ", state.question.name.ToText(), " ",
        TypeMnemonic(state.question.qtype), ": ", answer.why.message());
  }
  return answer;
}

void QueryEngine::StopOnLoop(const Question& q) {
  // CoreDNS's loop plugin stops the process: a forwarding loop would
  // otherwise multiply every query until the resolvers give up.
  Log(LogLevel::kError, "loop detected: the probe HINFO ", q.name.ToText(),
      " came back more than twice; a forward leads back to this server (see CoreDNS's loop plugin "
      "troubleshooting: point forward at a resolver that is not this one)");
  std::_Exit(1);
}

}  // namespace meshdns
