// QueryEngine: the part of the query path that needs resolvers or synthesis,
// for queries admission could not answer. The order of stages is written once,
// in Resolve():
//   cache → route → (cluster: strip → forward → restore names)
//                 | (clusterset: template / version / NXDOMAIN → chase CNAME)
//                 | (upstream: forward)
//   → cache insert
// ResolveMiss() starts it for a client's query; WriteAnswer() turns the
// outcome into the client's reply.
//
// Worker-local: one per worker thread, with that worker's upstream channels.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "config/corefile_runtime.h"
#include "config/runtime.h"
#include "dnscore/packet_cache.h"
#include "dnscore/query_view.h"
#include "dnscore/service_merge.h"
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

struct Question {
  DnsName name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool recursion_desired = true;
  bool checking_disabled = false;
  bool dnssec_ok = false;
};

struct Resolved {
  std::shared_ptr<const StoredReply> reply;  // null: no answer could be had
  uint32_t ttl = 0;                          // remaining lifetime, if cacheable
  bool overloaded = false;                   // every resolver at its in-flight limit: REFUSED
  bool refused = false;                      // no server block of a Corefile holds the name: REFUSED
};

class QueryEngine {
 public:
  explicit QueryEngine(asio::io_context& io) : io_(io), channels_(io) {}

  void SetGeneration(std::shared_ptr<const Generation> g) { generation_ = std::move(g); }
  const std::shared_ptr<const Generation>& generation() const { return generation_; }

  // Told the answer of a miss StartMiss() took.
  class MissWaiter {
   public:
    virtual void Answer(const Resolved& r) = 0;

   protected:
    ~MissWaiter() = default;
  };
  // The hot path for a client's query that admission found no cache entry
  // for and that is forwarded as it is (to its cluster or upstream): no
  // coroutine, and no allocation but the reply's own. Returns false when the
  // query needs ResolveMiss() (synthesis, clusterset services, a Corefile
  // block with templates or hosts);
  // otherwise `waiter` is told the answer, perhaps before this returns.
  bool StartMiss(const QueryView& view, MissWaiter* waiter);
  // Resolves a client's query that admission found no cache entry for.
  asio::awaitable<Resolved> ResolveMiss(const QueryView& view);
  // The client's reply for `r`: SERVFAIL when nothing came back, REFUSED when
  // overloaded; otherwise the reply patched for the client (ID, case, TTLs,
  // EDNS, TC). Returns its size (0: nothing to send).
  static size_t WriteAnswer(const Resolved& r, std::span<const uint8_t> query, const QueryView& view, size_t limit,
                            std::span<uint8_t> out);
  // The pipeline for one question. Without `look_in_cache` the cache is only
  // written: the caller has just looked, or wants the entry renewed (prefetch).
  asio::awaitable<Resolved> Resolve(std::shared_ptr<const Generation> g, const Question& q, int depth = 0,
                                    bool look_in_cache = true);
  // Resolves `q` again to renew its cache entry; the answer goes nowhere else.
  asio::awaitable<void> Refresh(Question q);

  const EngineCounters& counters() const { return counters_; }
  std::vector<std::pair<std::string, ChannelCounters>> channel_counters() const { return channels_.Counters(); }

 private:
  struct Forwarded {
    std::optional<std::vector<uint8_t>> reply;
    bool overloaded = false;
  };
  // A ForwardJob for a coroutine.
  asio::awaitable<Forwarded> Forward(std::shared_ptr<const Runtime> rt, const Pool& pool, const Question& q,
                                     const DnsName& ask);
  // Where a mesh question is forwarded: the pool, and the name asked there.
  struct ForwardTarget {
    const Pool* pool = nullptr;
    int cluster = -1;  // the cluster whose label was stripped, or -1 (upstream)
    DnsName ask;
  };
  // Strips the cluster label and picks the pool. An answer instead when
  // there is one already: SERVFAIL for a name that cannot be stripped, or a
  // stale one when the whole pool is down.
  std::optional<Resolved> PlanForward(const Generation& g, const Question& q, const Route& route,
                                      const CacheKey& key, ForwardTarget& target);
  // The forwarded reply (empty: none came) made into the question's answer:
  // cluster names restored, then Keep().
  Resolved AfterForward(const std::shared_ptr<const Generation>& g, const Question& q, const CacheKey& key,
                        const ForwardTarget& target, std::span<const uint8_t> reply, bool overloaded);
  // The stored reply for `q`, cached; a stale answer instead of none or of SERVFAIL.
  Resolved Keep(const std::shared_ptr<const Generation>& g, const Question& q, const CacheKey& key,
                absl::StatusOr<StoredReply> stored, bool overloaded);
  // RFC 8767: an answer that expired at most `serve_stale` ago.
  std::optional<Resolved> Stale(const Generation& g, const CacheKey& key);
  // The answer `answer` (ending in a CNAME to `target`) completed with the
  // target's records, resolved through the whole pipeline; the rcode is the
  // chain's end's (contract rule 2).
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Chase(std::shared_ptr<const Generation> g, const Question& q,
                                                             const DnsName& target, const std::vector<RrPtr>& answer,
                                                             const std::vector<RrPtr>& authority,
                                                             const std::vector<RrPtr>& additional, int depth);
  // `serve --corefile` (corefile_chain.cc): dispatch to a server block, then
  // its plugins in CoreDNS's order.
  asio::awaitable<Resolved> ResolveCorefile(std::shared_ptr<const Generation> g, const Question& q, int depth,
                                            bool look_in_cache);
  // A Corefile question's way through its server block (corefile_chain.cc).
  struct BlockPlan {
    const CorefileBlock* block = nullptr;
    RewriteOutcome rewritten;                     // the name the chain asks for, and how to undo it
    const CorefileBlock::Cache* cache = nullptr;  // the block's cache for that name, if any
    const Pool* pool = nullptr;                   // its forward's, if it forwards that name
  };
  // CoreDNS's loop plugin: the server's own probe seen too often ends the process.
  static void CheckLoopProbe(const Runtime& rt, const Question& q);
  // The block's rewrite: SERVFAIL now when it fails, or the plan.
  std::optional<Resolved> PlanBlock(const Runtime& rt, const CorefileBlock& block, const Question& q,
                                    BlockPlan& plan);
  // The chain's reply made the answer: rewrite reverted, stored by the
  // block's cache policy with its loadbalance and ttl marks, cached; or a
  // stale answer (serve_stale) instead of none or of SERVFAIL.
  Resolved AfterBlock(const std::shared_ptr<const Generation>& g, const Question& q, const CacheKey& key,
                      const BlockPlan& plan, absl::StatusOr<std::span<const uint8_t>> reply, bool overloaded);
  static absl::Status NoPluginAnswered();
  struct Chained {
    absl::StatusOr<std::vector<uint8_t>> wire;  // an error: no reply, SERVFAIL
    bool overloaded = false;
  };
  // The block's template and hosts; nothing when the question passes on to forward.
  asio::awaitable<std::optional<Chained>> AnswerInBlock(std::shared_ptr<const Generation> g, const CorefileBlock& block,
                                                        const Question& q, int depth);
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Synthesize(std::shared_ptr<const Generation> g,
                                                                   const Question& q, int depth);
  // Contract rule 4: every cluster asked at once, merged by affinity.
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ResolveService(std::shared_ptr<const Generation> g,
                                                                       const Question& q, const ServiceName& name,
                                                                       int depth);

  // A forwarded question and what it is for: a StartMiss() query, or a
  // coroutine's Forward(). Kept for reuse once done.
  struct Job final : ForwardJob::Done {
    explicit Job(QueryEngine& e) : engine(e), forward(e.io_, e.channels_, e.rng_, e.counters_) {}
    void Forwarded(ForwardJob&) override { engine.FinishMiss(*this); }
    QueryEngine& engine;
    ForwardJob forward;
    // StartMiss() only.
    std::shared_ptr<const Generation> g;
    Question q;
    std::optional<CacheKey> key;
    ForwardTarget target;         // with a meshdns YAML
    std::optional<BlockPlan> block;  // with a Corefile
    MissWaiter* waiter = nullptr;
  };
  Job& TakeJob();
  void ReturnJob(Job& job);
  void FinishMiss(Job& job);

  asio::io_context& io_;
  absl::BitGen rng_;
  ChannelMap channels_;
  std::shared_ptr<const Generation> generation_;
  EngineCounters counters_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Job*> idle_jobs_;
};

}  // namespace meshdns
