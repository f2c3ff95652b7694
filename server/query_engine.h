// QueryEngine: carries out the I/O the pipeline (dnscore/pipeline.h) asks
// for, for queries admission could not answer from the cache. The pipeline
// decides; the engine forwards (ForwardJob), resolves a CNAME target or a
// clusterset service's parts through the pipeline again, and hands the
// answer on. A query forwarded as it is costs no coroutine and no allocation
// but the reply's own; chases and fan-outs run as coroutines.
//
// Worker-local: one per worker thread, with that worker's upstream channels.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "config/runtime.h"
#include "dnscore/packet_cache.h"
#include "dnscore/pipeline.h"
#include "dnscore/query_view.h"
#include "server/asio.h"
#include "server/forward_job.h"
#include "server/stats.h"
#include "server/upstream_channel.h"

namespace meshdns {

// What a worker serves with: a compiled configuration and the cache that
// belongs to it. Replaced as a whole on reload.
struct Generation {
  std::shared_ptr<const Runtime> runtime;
  std::shared_ptr<PacketCache> cache;
  // Zones whose entries a carried-over cache must lose (see PlanCacheCarryOver);
  // each worker prunes them again once it serves this generation.
  std::vector<DnsName> forget;
};

class QueryEngine {
 public:
  explicit QueryEngine(asio::io_context& io) : io_(io), channels_(io) {}

  void SetGeneration(std::shared_ptr<const Generation> g) { generation_ = std::move(g); }
  const std::shared_ptr<const Generation>& generation() const { return generation_; }

  // Told the answer of a query Resolve() took.
  class Waiter {
   public:
    virtual void Answered(const Answer& answer) = 0;

   protected:
    ~Waiter() = default;
  };
  // Resolves a client's query that admission found no cache entry for;
  // `waiter` is told the answer, perhaps before this returns.
  // `query`: the bytes `view` was read from, kept by the caller until the
  // answer (rewrite edns0 passes on the client's options from there).
  // `server`: the one of the listener the query came to.
  // `client`: who asked (whoami).
  void Resolve(const QueryView& view, std::span<const uint8_t> query, uint16_t server, const ClientAddress& client,
               Waiter* waiter);
  // The same for a coroutine (TCP connections).
  asio::awaitable<Answer> ResolveMiss(const QueryView& view, std::span<const uint8_t> query, uint16_t server,
                                      ClientAddress client);
  // Resolves `q` again to renew its cache entry; the answer goes nowhere else.
  asio::awaitable<void> Refresh(Question q);
  // The client's reply for `answer`: SERVFAIL or REFUSED as it says, or the
  // reply patched for the client (ID, case, TTLs, EDNS, TC). Returns its
  // size (0: nothing to send).
  size_t WriteAnswer(const Answer& answer, std::span<const uint8_t> query, const QueryView& view, size_t limit,
                     std::span<uint8_t> out);
  // This worker's turn for rotated runs (loadbalance), on hits and misses alike.
  RotationTurn& rotation() { return rotation_; }

  const EngineCounters& counters() const { return counters_; }
  std::vector<std::pair<std::string, ChannelCounters>> channel_counters() const { return channels_.Counters(); }

 private:
  Pipeline PipelineFor(const Generation& g) {
    return Pipeline(g.runtime->program, g.runtime->pool_health, *g.cache, counters_, rename_scratch_);
  }
  // A generation this worker no longer serves does not fill the cache: the
  // new one may have pruned what its answers would put back.
  Pipeline::Options Now(const std::shared_ptr<const Generation>& g, bool look_in_cache = true) const {
    return Pipeline::Options{.now = NowMillis(), .look_in_cache = look_in_cache, .store = g == generation_};
  }
  // The pipeline for one question, from the first stage, in a coroutine.
  asio::awaitable<Answer> Resolve(std::shared_ptr<const Generation> g, Question q, int depth, bool look_in_cache);
  // Carries out `step`'s I/O and finishes the question through the pipeline.
  asio::awaitable<Answer> Continue(std::shared_ptr<const Generation> g, QueryState& state, Step step);
  struct Forwarded {
    std::vector<uint8_t> reply;  // empty: none came
    bool overloaded = false;
  };
  // A ForwardJob for a coroutine.
  asio::awaitable<Forwarded> Forward(std::shared_ptr<const Runtime> rt, const Pool& pool,
                                     const UpstreamQuestion& question);
  // Contract rule 4: the step's parts resolved at once, each through the
  // pipeline, for at most the step's budget.
  asio::awaitable<std::vector<ClusterPart>> FanOut(std::shared_ptr<const Generation> g, Step step, int depth);
  // Logs what the errors plugin would, and stops the process on a loop.
  const Answer& Noted(const QueryState& state, const Answer& answer);
  [[noreturn]] static void StopOnLoop(const Question& q);

  // A forwarded client query without a coroutine: Resolve() → ForwardJob →
  // FinishForward(). Kept for reuse once done.
  struct Job final : ForwardJob::Done {
    explicit Job(QueryEngine& e) : engine(e), forward(e.io_, e.channels_, e.rng_, e.counters_) {}
    void Forwarded(ForwardJob&) override { engine.FinishForward(*this); }
    QueryEngine& engine;
    ForwardJob forward;
    std::shared_ptr<const Generation> g;
    QueryState state;
    Waiter* waiter = nullptr;
  };
  Job& TakeJob();
  void ReturnJob(Job& job);
  void FinishForward(Job& job);

  asio::io_context& io_;
  absl::BitGen rng_;
  ChannelMap channels_;
  std::shared_ptr<const Generation> generation_;
  EngineCounters counters_;
  RotationTurn rotation_;
  RenameScratch rename_scratch_;  // for every pipeline of this worker: used within one call, never across a wait
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Job*> idle_jobs_;
};

}  // namespace meshdns
