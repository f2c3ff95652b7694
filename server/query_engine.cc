#include "server/query_engine.h"

#include <algorithm>

#include "dnscore/reply_writer.h"
#include "dnscore/upstream_query.h"
#include "server/log.h"

namespace meshdns {
namespace {

// Contract rule 2: a CNAME chain longer than this, or one that loops (which
// ends up longer than this), gives SERVFAIL.
constexpr int kMaxChainLinks = 8;

Question SameFlags(const Question& q, const DnsName& name) {
  Question out = q;
  out.name = name;
  return out;
}

}  // namespace

bool QueryEngine::StartMiss(const QueryView& view, MissWaiter* waiter) {
  const Runtime& rt = *generation_->runtime;
  const Question q{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok};
  // What the coroutine path is for: synthesis, and a block's local plugins.
  const CorefileBlock* block = nullptr;
  Route route;
  if (rt.corefile) {
    block = rt.corefile->Dispatch(q.name);
    if (!block || !block->templates.empty() || block->hosts) return false;
    CheckLoopProbe(rt, q);
  } else {
    route = rt.mesh->RouteName(q.name);
    if (route.kind == Route::Kind::kClusterset) return false;
  }
  Job& job = TakeJob();
  job.g = generation_;
  job.q = q;
  job.key.emplace(q.name, q.qtype, q.qclass, q.dnssec_ok, q.checking_disabled);
  job.waiter = waiter;
  const Pool* pool = nullptr;
  const DnsName* ask = nullptr;
  std::optional<Resolved> now;
  if (block) {
    now = PlanBlock(rt, *block, q, job.block.emplace());
    pool = job.block->pool;
    ask = &job.block->rewritten.name;
    if (!now && !pool) now = AfterBlock(job.g, q, *job.key, *job.block, NoPluginAnswered(), false);
  } else {
    now = PlanForward(*job.g, q, route, *job.key, job.target);
    pool = job.target.pool;
    ask = &job.target.ask;
  }
  if (now) {
    ReturnJob(job);
    waiter->Answer(*now);
    return true;
  }
  job.forward.Start(job.g->runtime, *pool,
                    UpstreamQuestion{*ask, q.qtype, q.qclass, q.recursion_desired, q.checking_disabled, q.dnssec_ok},
                    &job);
  return true;
}

void QueryEngine::FinishMiss(Job& job) {
  MissWaiter* waiter = job.waiter;
  const std::span<const uint8_t> reply = job.forward.reply();
  const Resolved resolved =
      job.block ? AfterBlock(job.g, job.q, *job.key, *job.block,
                             reply.empty() ? absl::StatusOr<std::span<const uint8_t>>(NoPluginAnswered()) : reply,
                             job.forward.overloaded())
                : AfterForward(job.g, job.q, *job.key, job.target, reply, job.forward.overloaded());
  ReturnJob(job);
  waiter->Answer(resolved);
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
  job.block.reset();
  job.waiter = nullptr;
  idle_jobs_.push_back(&job);
}

asio::awaitable<Resolved> QueryEngine::ResolveMiss(const QueryView& view) {
  const Question q{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok};
  // Straight to the Corefile chain: one coroutine frame fewer per miss.
  if (generation_->runtime->corefile) co_return co_await ResolveCorefile(generation_, q, 0, /*look_in_cache=*/false);
  co_return co_await Resolve(generation_, q, 0, /*look_in_cache=*/false);
}

size_t QueryEngine::WriteAnswer(const Resolved& r, std::span<const uint8_t> query, const QueryView& view,
                                size_t limit, std::span<uint8_t> out) {
  if (r.reply) {
    const StoredReply& s = *r.reply;
    WriteOptions options{.limit = limit};
    if (s.cacheable) options.ttl = r.ttl;
    const size_t size = WriteReply(s.View(), view, query, options, out);
    if (size != 0) return size;
  }
  return WriteErrorReply(QueryCheck::kOk, r.overloaded || r.refused ? kRefused : kServFail, view, query, out);
}

asio::awaitable<void> QueryEngine::Refresh(Question q) {
  ++counters_.prefetches;
  (void)co_await Resolve(generation_, q, 0, /*look_in_cache=*/false);
}

asio::awaitable<Resolved> QueryEngine::Resolve(std::shared_ptr<const Generation> g, const Question& q, int depth,
                                               bool look_in_cache) {
  const Runtime& rt = *g->runtime;
  if (rt.corefile) co_return co_await ResolveCorefile(std::move(g), q, depth, look_in_cache);
  const CacheKey key(q.name, q.qtype, q.qclass, q.dnssec_ok, q.checking_disabled);
  if (look_in_cache) {
    if (std::optional<CachedReply> hit = g->cache->Find(key, NowMillis())) co_return Resolved{hit->reply, hit->ttl};
  }

  const Route route = rt.mesh->RouteName(q.name);
  if (route.kind == Route::Kind::kClusterset) {
    absl::StatusOr<std::vector<uint8_t>> wire = co_await Synthesize(g, q, depth);
    co_return Keep(g, q, key, wire.ok() ? StoredReply::FromMessage(*std::move(wire), rt.config.cache.ttl)
                                        : absl::StatusOr<StoredReply>(wire.status()),
                   false);
  }
  ForwardTarget target;
  if (std::optional<Resolved> now = PlanForward(*g, q, route, key, target)) co_return *now;
  Forwarded forwarded = co_await Forward(g->runtime, *target.pool, q, target.ask);
  co_return AfterForward(g, q, key, target, forwarded.reply ? std::span<const uint8_t>(*forwarded.reply)
                                                            : std::span<const uint8_t>(),
                         forwarded.overloaded);
}

std::optional<Resolved> QueryEngine::Stale(const Generation& g, const CacheKey& key) {
  const Millis window = g.runtime->config.cache.serve_stale;
  if (window <= 0) return std::nullopt;
  std::optional<CachedReply> old = g.cache->Find(key, NowMillis(), window);
  if (!old) return std::nullopt;
  ++counters_.stale_answers;
  return Resolved{old->reply, old->ttl};
}

std::optional<Resolved> QueryEngine::PlanForward(const Generation& g, const Question& q, const Route& route,
                                                 const CacheKey& key, ForwardTarget& target) {
  const Runtime& rt = *g.runtime;
  const bool to_cluster = route.kind == Route::Kind::kCluster;
  target.pool = to_cluster ? &rt.ClusterPool(route.cluster) : &rt.UpstreamPool();
  target.cluster = to_cluster ? static_cast<int>(route.cluster) : -1;
  target.ask = q.name;
  if (to_cluster && !rt.mesh->clusters()[route.cluster].rewrite.Strip(q.name, target.ask)) return Resolved{};
  // With the whole pool down, a stale answer now beats a wait for a resolver that is known to be gone.
  const auto& health = target.pool->health_view;
  if (std::none_of(health.begin(), health.end(), [](const ResolverHealth* h) { return h->IsUp(); })) {
    if (std::optional<Resolved> old = Stale(g, key)) return old;
  }
  return std::nullopt;
}

Resolved QueryEngine::AfterForward(const std::shared_ptr<const Generation>& g, const Question& q,
                                   const CacheKey& key, const ForwardTarget& target, std::span<const uint8_t> reply,
                                   bool overloaded) {
  if (reply.empty()) {
    if (std::optional<Resolved> old = Stale(*g, key)) return *old;
    return Resolved{.overloaded = overloaded};
  }
  const Runtime& rt = *g->runtime;
  if (target.cluster < 0) return Keep(g, q, key, StoredReply::FromMessage(reply, rt.config.cache.ttl), overloaded);
  absl::StatusOr<std::vector<uint8_t>> restored = rt.mesh->clusters()[target.cluster].rewrite.RestoreReply(reply, q.name);
  return Keep(g, q, key,
              restored.ok() ? StoredReply::FromMessage(*std::move(restored), rt.config.cache.ttl)
                            : absl::StatusOr<StoredReply>(restored.status()),
              overloaded);
}

Resolved QueryEngine::Keep(const std::shared_ptr<const Generation>& g, const Question& q, const CacheKey& key,
                           absl::StatusOr<StoredReply> stored, bool overloaded) {
  if (!stored.ok()) {
    Log(LogLevel::kDebug, "no answer for ", q.name.ToText(), ": ", stored.status().ToString());
    if (std::optional<Resolved> old = Stale(*g, key)) return *old;
    return Resolved{.overloaded = overloaded};
  }
  if (stored->rcode() == kServFail) {
    if (std::optional<Resolved> old = Stale(*g, key)) return *old;
  }
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  // An answer of a generation this worker no longer serves is not cached: the
  // new one may have pruned what it would put back.
  if (g == generation_) g->cache->Insert(key, shared, NowMillis());
  return Resolved{shared, shared->ttl};
}

asio::awaitable<QueryEngine::Forwarded> QueryEngine::Forward(std::shared_ptr<const Runtime> rt, const Pool& pool,
                                                             const Question& q, const DnsName& ask) {
  struct Wake final : ForwardJob::Done {
    explicit Wake(asio::io_context& io) : wakeup(io) {}
    void Forwarded(ForwardJob&) override { wakeup.Wake(); }
    Wakeup wakeup;
  } wake(io_);
  Job& job = TakeJob();
  job.forward.Start(std::move(rt), pool,
                    UpstreamQuestion{ask, q.qtype, q.qclass, q.recursion_desired, q.checking_disabled, q.dnssec_ok},
                    &wake);
  co_await wake.wakeup.Wait();
  Forwarded out{.overloaded = job.forward.overloaded()};
  if (!job.forward.reply().empty()) out.reply.emplace(job.forward.reply().begin(), job.forward.reply().end());
  ReturnJob(job);
  co_return out;
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> QueryEngine::Synthesize(std::shared_ptr<const Generation> g,
                                                                             const Question& q, int depth) {
  const Runtime& rt = *g->runtime;
  ++counters_.synthesized;
  absl::StatusOr<ClustersetOutcome> outcome = rt.clusterset->Answer(q.name, q.qtype, q.qclass);
  if (!outcome.ok()) co_return outcome.status();
  if (!outcome->matched && rt.config.clusterset.services && (q.qclass == kClassIN || q.qclass == kClassANY)) {
    if (std::optional<ServiceName> service = ParseServiceName(*rt.mesh, q.name)) {
      co_return co_await ResolveService(g, q, *service, depth);
    }
  }
  if (!outcome->chase) {
    co_return BuildAuthoritativeReply(q.name, q.qtype, q.qclass, outcome->rcode, outcome->answer, outcome->authority);
  }
  const std::vector<RrPtr> none;
  co_return co_await Chase(g, q, *outcome->chase, outcome->answer, none, none, depth);
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> QueryEngine::Chase(std::shared_ptr<const Generation> g,
                                                                        const Question& q, const DnsName& target_name,
                                                                        const std::vector<RrPtr>& answer,
                                                                        const std::vector<RrPtr>& authority,
                                                                        const std::vector<RrPtr>& additional,
                                                                        int depth) {
  if (depth >= kMaxChainLinks) co_return absl::FailedPreconditionError("CNAME chain too long or looping");
  // The CNAME target goes through the whole pipeline again (cache, routing,
  // forwarding), as CoreDNS's template resolves it through the server itself.
  Resolved target = co_await Resolve(g, SameFlags(q, target_name), depth + 1);
  if (!target.reply) co_return absl::UnavailableError("CNAME target could not be resolved");
  absl::StatusOr<PktPtr> sub = ParseMessage(target.reply->wire);
  if (!sub.ok()) co_return sub.status();

  PktPtr merged = NewReply(q.name, q.qtype, q.qclass, kFlagAA | (target.reply->flags() & kFlagRA),
                           target.reply->rcode());
  for (const RrPtr& rr : answer) AppendRecord(merged.get(), LDNS_SECTION_ANSWER, rr.get());
  ldns_rr_list* answers = ldns_pkt_answer(sub->get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (target.reply->cacheable) ldns_rr_set_ttl(rr, target.ttl);
    AppendRecord(merged.get(), LDNS_SECTION_ANSWER, rr);
  }
  for (const RrPtr& rr : authority) AppendRecord(merged.get(), LDNS_SECTION_AUTHORITY, rr.get());
  // A negative end of the chain keeps its SOA, so the whole answer can be
  // cached negatively (RFC 2308) and the client sees why.
  if (ldns_rr_list_rr_count(answers) == 0) {
    ldns_rr_list* sub_authority = ldns_pkt_authority(sub->get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(sub_authority); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(sub_authority, i);
      if (target.reply->cacheable) ldns_rr_set_ttl(rr, target.ttl);
      AppendRecord(merged.get(), LDNS_SECTION_AUTHORITY, rr);
    }
  }
  for (const RrPtr& rr : additional) AppendRecord(merged.get(), LDNS_SECTION_ADDITIONAL, rr.get());
  co_return EncodeMessage(merged.get());
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> QueryEngine::ResolveService(
    std::shared_ptr<const Generation> g, const Question& q, const ServiceName& name, int depth) {
  const Runtime& rt = *g->runtime;
  const ClustersetConfig& config = rt.config.clusterset;
  // Shared with the per-cluster lookups, which may finish after the merge
  // has gone ahead without them (their answers still land in the cache).
  struct FanOut {
    explicit FanOut(asio::io_context& io) : all_in(io) {}
    asio::steady_timer all_in;  // cancelled when the last part arrives
    std::vector<ClusterPart> parts;
    size_t pending = 0;
  };
  auto fan = std::make_shared<FanOut>(io_);
  for (size_t c = 0; c < rt.mesh->clusters().size(); ++c) {
    const Pool* pool = rt.PoolOfCluster(c);
    if (pool && std::none_of(pool->health_view.begin(), pool->health_view.end(), [](auto* h) { return h->IsUp(); })) {
      ++counters_.fanout_left_out;  // a cluster known to be down is not waited for
      continue;
    }
    fan->parts.push_back(ClusterPart{c, std::nullopt});
  }
  fan->pending = fan->parts.size();
  fan->all_in.expires_after(std::chrono::milliseconds(config.fanout_timeout));
  for (size_t i = 0; i < fan->parts.size(); ++i) {
    Question part = SameFlags(q, name.ClusterName(*rt.mesh, fan->parts[i].cluster));
    asio::co_spawn(io_, [this, g, fan, i, part, depth]() -> asio::awaitable<void> {
      Resolved r = co_await Resolve(g, part, depth + 1);
      if (r.reply) fan->parts[i].reply = r.reply->WireWithTtl(r.ttl);
      if (--fan->pending == 0) fan->all_in.cancel();
    }, LogIfException);
  }
  if (fan->pending > 0) {
    boost::system::error_code ec;
    co_await fan->all_in.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) counters_.fanout_left_out += fan->pending;  // the budget ran out first
  }
  const MergeOptions options{.affinity = config.AffinityFor(name.service, name.ns),
                             .local = rt.mesh->local(),
                             .ttl_cap = config.ttl};
  co_return MergeServiceAnswers(*rt.mesh, name, q.name, q.qtype, fan->parts, options, rt.clusterset->Soa().get());
}

}  // namespace meshdns
