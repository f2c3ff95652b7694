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
// A forwarded query's whole time, over all attempts: well inside the 5 s a
// stub resolver waits before it asks again.
constexpr Millis kQueryBudget = 2500;
// Attempts per query: a pool is gone through more than once if it must, so a
// lossy link still answers within the budget.
constexpr size_t kMaxAttempts = 8;

Question SameFlags(const Question& q, const DnsName& name) {
  Question out = q;
  out.name = name;
  return out;
}

}  // namespace

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

  // RFC 8767: when a cluster cannot answer, an answer that expired at most
  // `serve_stale` ago beats SERVFAIL.
  auto stale = [&]() -> std::optional<Resolved> {
    const Millis window = rt.config.cache.serve_stale;
    if (window <= 0) return std::nullopt;
    std::optional<CachedReply> old = g->cache->Find(key, NowMillis(), window);
    if (!old) return std::nullopt;
    ++counters_.stale_answers;
    return Resolved{old->reply, old->ttl};
  };
  auto pool_down = [](const Pool& pool) {
    for (const ResolverHealth* h : pool.health_view) {
      if (h->IsUp()) return false;
    }
    return true;
  };

  // Not an error status up front: that would allocate for every query.
  absl::StatusOr<std::vector<uint8_t>> wire = std::vector<uint8_t>();
  bool answered = false;
  bool overloaded = false;
  const Route route = rt.mesh->RouteName(q.name);
  if (route.kind == Route::Kind::kClusterset) {
    wire = co_await Synthesize(g, q, depth);
    answered = true;
  } else {
    const bool to_cluster = route.kind == Route::Kind::kCluster;
    const Pool& pool = to_cluster ? rt.ClusterPool(route.cluster) : rt.UpstreamPool();
    DnsName ask = q.name;
    if (to_cluster && !rt.mesh->clusters()[route.cluster].rewrite.Strip(q.name, ask)) co_return Resolved{};
    // With the whole pool down, a stale answer now beats a wait for a resolver that is known to be gone.
    if (pool_down(pool)) {
      if (std::optional<Resolved> old = stale()) co_return *old;
    }
    Forwarded forwarded = co_await Forward(rt, pool, q, ask);
    overloaded = forwarded.overloaded;
    if (forwarded.reply) {
      answered = true;
      wire = to_cluster ? rt.mesh->clusters()[route.cluster].rewrite.RestoreReply(*forwarded.reply, q.name)
                        : std::move(*forwarded.reply);
    }
  }
  if (!answered) {
    if (std::optional<Resolved> old = stale()) co_return *old;
    co_return Resolved{.overloaded = overloaded};
  }
  absl::StatusOr<StoredReply> stored = wire.ok() ? StoredReply::FromMessage(*wire, rt.config.cache.ttl)
                                                 : absl::StatusOr<StoredReply>(wire.status());
  if (!stored.ok()) {
    Log(LogLevel::kDebug, "no answer for ", q.name.ToText(), ": ", stored.status().ToString());
    if (std::optional<Resolved> old = stale()) co_return *old;
    co_return Resolved{.overloaded = overloaded};
  }
  if (stored->rcode() == kServFail) {
    if (std::optional<Resolved> old = stale()) co_return *old;
  }
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  // An answer of a generation this worker no longer serves is not cached: the
  // new one may have pruned what it would put back.
  if (g == generation_) g->cache->Insert(key, shared, NowMillis());
  co_return Resolved{shared, shared->ttl};
}

asio::awaitable<QueryEngine::Forwarded> QueryEngine::Forward(const Runtime& rt, const Pool& pool, const Question& q,
                                                             const DnsName& ask) {
  const Millis started = NowMillis();
  // The whole query must end well inside a stub resolver's patience (5 s).
  const Millis budget = std::max(kQueryBudget, pool.timeout);
  Forwarded result;
  // CoreDNS's max_concurrent: beyond it the query is REFUSED at once.
  struct Slot {
    std::atomic<uint32_t>* count = nullptr;
    ~Slot() {
      if (count) count->fetch_sub(1, std::memory_order_relaxed);
    }
  } slot;
  if (pool.max_concurrent > 0) {
    slot.count = pool.concurrent.get();
    if (slot.count->fetch_add(1, std::memory_order_relaxed) >= pool.max_concurrent) {
      ++counters_.overloaded;
      result.overloaded = true;
      co_return result;
    }
  }
  std::array<uint8_t, 256> order;
  bool all_down = false;
  const uint64_t ticket = pool.policy == Policy::kRandom ? absl::Uniform<uint64_t>(rng_)
                                                         : pool.rotation->fetch_add(1, std::memory_order_relaxed);
  const size_t planned = PlanAttempts(pool.policy, ticket, pool.health_view, order, &all_down);
  // Cycling through the plan again lets a lossy pool still answer; a pool
  // that is down altogether gets its one try and no more.
  const size_t attempts = all_down ? 1 : std::max(planned, kMaxAttempts);

  std::array<uint8_t, kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize> query;
  const size_t size = WriteUpstreamQuery(0, UpstreamQuestion{ask, q.qtype, q.qclass, q.recursion_desired,
                                                              q.checking_disabled, q.dnssec_ok}, query);
  const std::span<uint8_t> bytes(query.data(), size);
  size_t at_limit = 0;
  for (size_t a = 0; a < attempts; ++a) {
    const Millis left = budget - (NowMillis() - started);
    if (left <= 0) break;
    const size_t i = order[a % planned];
    ResolverHealth& health = *pool.health[i];
    if (!health.TryAcquire(rt.config.limits.inflight)) {
      if (++at_limit >= planned) break;  // every resolver is saturated
      continue;
    }
    UpstreamChannel& channel = channels_.Get(pool.resolvers[i]);
    channel.CountAttempt();
    // The last resolver of a pass may use what is left of the budget,
    // resending every half round trip: on a lossy link each copy is another
    // chance, and a reply to any of them counts. Earlier ones get one timeout
    // each, so a silent resolver costs little before the next is tried.
    const Millis rto = health.AttemptTimeout(pool.timeout);
    const bool last_of_pass = a % planned == planned - 1;
    UpstreamChannel::UdpOptions udp{.timeout = std::min(rto, left)};
    if (last_of_pass) udp = {.timeout = left, .retransmit_every = health.RetransmitInterval()};
    bool retransmitted = false;
    const auto sent = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<uint8_t>> reply = absl::UnknownError("not sent");
    // One co_await per statement: g++ 12 mishandles them inside larger expressions.
    if (pool.force_tcp) {
      reply = co_await channel.ExchangeTcp(bytes, std::min(pool.timeout, left), pool.expire);
    } else {
      reply = co_await channel.ExchangeUdp(bytes, udp, &retransmitted);
    }
    if (reply.ok() && !pool.force_tcp) {
      if (!retransmitted) {
        health.RecordRtt(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent).count());
      }
      // Contract rule 9: a truncated reply is asked again over TCP at once.
      if (reply->size() >= kHeaderSize && ((*reply)[2] & (kFlagTC >> 8))) {
        const Millis tcp_left = std::max<Millis>(budget - (NowMillis() - started), 1);
        reply = co_await channel.ExchangeTcp(bytes, std::min(pool.timeout, tcp_left), pool.expire);
      }
    } else if (!reply.ok() && absl::IsDeadlineExceeded(reply.status())) {
      health.RecordTimeout(pool.timeout);
    }
    health.Release();
    if (!reply.ok()) {
      ++counters_.upstream_failures;
      if (health.RecordFailure(pool.health_options, NowMillis())) {
        Log(LogLevel::kWarn, "cluster ", pool.name, ": resolver ", pool.resolvers[i].ToString(),
            " taken out of rotation after ", pool.health_options.max_fails, " failures (", reply.status().message(),
            ")");
      }
      continue;
    }
    health.RecordSuccess();
    const uint8_t rcode = (*reply)[3] & 0xf;
    channel.CountResponse(rcode, std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - sent).count());
    if (rcode == kServFail || rcode == kRefused) {
      // One broken node should not fail the query: try the next resolver first.
      result.reply = *std::move(reply);
      if (a + 1 >= planned) break;  // each resolver had its say
      continue;
    }
    result.reply = *std::move(reply);
    co_return result;
  }
  if (!result.reply && at_limit > 0) {
    ++counters_.overloaded;
    result.overloaded = true;
  }
  co_return result;
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
