#include "server/query_engine.h"

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

UpstreamChannel& QueryEngine::Channel(const SocketAddress& resolver) {
  auto& slot = channels_[{resolver.ip.bytes, resolver.port}];
  if (!slot) slot = std::make_unique<UpstreamChannel>(io_, udp::endpoint(ToAsioAddress(resolver), resolver.port), rng_);
  return *slot;
}

asio::awaitable<size_t> QueryEngine::Answer(std::span<const uint8_t> query, const QueryView& view, size_t limit,
                                            std::span<uint8_t> out) {
  std::shared_ptr<const Generation> g = generation_;
  Question q{view.qname, view.qtype, view.qclass, view.rd(), view.cd(), view.edns.dnssec_ok};
  Resolved r = co_await Resolve(g, q);
  if (r.reply) {
    const StoredReply& s = *r.reply;
    WriteOptions options{.limit = limit};
    if (s.cacheable) options.ttl = r.ttl;
    size_t size = WriteReply(StoredView{s.wire, s.question_end, s.ttl_offsets}, view, query, options, out);
    if (size != 0) co_return size;
  }
  co_return WriteErrorReply(QueryCheck::kOk, kServFail, view, query, out);
}

asio::awaitable<Resolved> QueryEngine::Resolve(std::shared_ptr<const Generation> g, const Question& q, int depth) {
  const Runtime& rt = *g->runtime;
  const CacheKey key(q.name, q.qtype, q.qclass, q.dnssec_ok, q.checking_disabled);
  if (std::optional<CachedReply> hit = g->cache->Find(key, NowMillis())) co_return Resolved{hit->reply, hit->ttl};

  absl::StatusOr<std::vector<uint8_t>> wire = absl::UnavailableError("no answer");
  const Route route = rt.mesh->RouteName(q.name);
  switch (route.kind) {
    case Route::Kind::kCluster: {
      const ClusterRewrite& rewrite = rt.mesh->clusters()[route.cluster].rewrite;
      DnsName ask;
      if (!rewrite.Strip(q.name, ask)) co_return Resolved{};
      std::optional<std::vector<uint8_t>> reply = co_await Forward(rt, rt.ClusterPool(route.cluster), q, ask);
      if (reply) wire = rewrite.RestoreReply(*reply, q.name);
      break;
    }
    case Route::Kind::kClusterset:
      wire = co_await Synthesize(g, q, depth);
      break;
    case Route::Kind::kUpstream: {
      std::optional<std::vector<uint8_t>> reply = co_await Forward(rt, rt.UpstreamPool(), q, q.name);
      if (reply) wire = std::move(*reply);
      break;
    }
  }
  if (!wire.ok()) {
    Log(LogLevel::kDebug, "no answer for ", q.name.ToText(), ": ", wire.status().ToString());
    co_return Resolved{};
  }
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(*wire, rt.config.cache.ttl);
  if (!stored.ok()) {
    Log(LogLevel::kDebug, "unusable reply for ", q.name.ToText(), ": ", stored.status().ToString());
    co_return Resolved{};
  }
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  g->cache->Insert(key, shared, NowMillis());
  co_return Resolved{shared, shared->ttl};
}

asio::awaitable<std::optional<std::vector<uint8_t>>> QueryEngine::Forward(const Runtime& rt, const Pool& pool,
                                                                         const Question& q, const DnsName& ask) {
  std::array<uint8_t, 256> order;
  const uint64_t ticket = pool.policy == Policy::kRandom ? absl::Uniform<uint64_t>(rng_)
                                                         : pool.rotation->fetch_add(1, std::memory_order_relaxed);
  const size_t attempts = PlanAttempts(pool.policy, ticket, pool.health_view, rt.health, NowMillis(), order);
  std::array<uint8_t, kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize> query;
  const size_t size = WriteUpstreamQuery(0, UpstreamQuestion{ask, q.qtype, q.qclass, q.recursion_desired,
                                                              q.checking_disabled, q.dnssec_ok}, query);
  std::optional<std::vector<uint8_t>> refused;  // a SERVFAIL/REFUSED reply, passed on if nothing better comes
  for (size_t a = 0; a < attempts; ++a) {
    const size_t i = order[a];
    UpstreamChannel& channel = Channel(pool.resolvers[i]);
    ResolverHealth& health = *pool.health[i];
    ++counters_.forwarded;
    absl::StatusOr<std::vector<uint8_t>> reply =
        co_await channel.ExchangeUdp(std::span<uint8_t>(query.data(), size), rt.config.forward.timeout);
    // The contract's rule 9: a truncated reply is asked again over TCP at once.
    if (reply.ok() && reply->size() >= kHeaderSize && ((*reply)[2] & (kFlagTC >> 8))) {
      reply = co_await channel.ExchangeTcp(std::span<uint8_t>(query.data(), size), rt.config.forward.timeout,
                                          rt.config.forward.expire);
    }
    if (!reply.ok()) {
      ++counters_.upstream_failures;
      health.RecordFailure(rt.health, NowMillis());
      Log(LogLevel::kDebug, "cluster ", pool.name, ": ", reply.status().message());
      continue;
    }
    health.RecordSuccess();
    const uint8_t rcode = (*reply)[3] & 0xf;
    if (rcode == kServFail || rcode == kRefused) {
      // One broken node should not fail the query: try the next resolver first.
      refused = *std::move(reply);
      continue;
    }
    co_return *std::move(reply);
  }
  co_return refused;
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> QueryEngine::Synthesize(std::shared_ptr<const Generation> g,
                                                                             const Question& q, int depth) {
  const Runtime& rt = *g->runtime;
  ++counters_.synthesized;
  absl::StatusOr<ClustersetOutcome> outcome = rt.clusterset->Answer(q.name, q.qtype, q.qclass);
  if (!outcome.ok()) co_return outcome.status();
  if (!outcome->chase) {
    co_return BuildAuthoritativeReply(q.name, q.qtype, q.qclass, outcome->rcode, outcome->answer, outcome->authority);
  }
  if (depth >= kMaxChainLinks) co_return absl::FailedPreconditionError("CNAME chain too long or looping");

  // The CNAME target goes through the whole pipeline again (cache, routing,
  // forwarding), as CoreDNS's template resolves it through the server itself.
  Resolved target = co_await Resolve(g, SameFlags(q, *outcome->chase), depth + 1);
  if (!target.reply) co_return absl::UnavailableError("CNAME target could not be resolved");
  absl::StatusOr<PktPtr> sub = ParseMessage(target.reply->wire);
  if (!sub.ok()) co_return sub.status();

  PktPtr merged = NewReply(q.name, q.qtype, q.qclass, kFlagAA | (target.reply->flags() & kFlagRA),
                           target.reply->rcode());
  for (const RrPtr& rr : outcome->answer) AppendRecord(merged.get(), LDNS_SECTION_ANSWER, rr.get());
  ldns_rr_list* answers = ldns_pkt_answer(sub->get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(answers, i);
    if (target.reply->cacheable) ldns_rr_set_ttl(rr, target.ttl);
    AppendRecord(merged.get(), LDNS_SECTION_ANSWER, rr);
  }
  // A negative end of the chain keeps its SOA, so the whole answer can be
  // cached negatively (RFC 2308) and the client sees why.
  if (ldns_rr_list_rr_count(answers) == 0) {
    ldns_rr_list* authority = ldns_pkt_authority(sub->get());
    for (size_t i = 0; i < ldns_rr_list_rr_count(authority); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(authority, i);
      if (target.reply->cacheable) ldns_rr_set_ttl(rr, target.ttl);
      AppendRecord(merged.get(), LDNS_SECTION_AUTHORITY, rr);
    }
  }
  co_return EncodeMessage(merged.get());
}

}  // namespace meshdns
