// `serve --corefile`: the query path through a Corefile's server blocks.
//   dispatch (longest zone) → rewrite → cache → template → hosts → forward
//   → cache insert → rewrite reverted → loadbalance
// CoreDNS's plugin.cfg order, whatever order the Corefile wrote. The cache
// sits in front of the whole chain (admission looks there first), keyed by
// the client's question and holding the reply as the client gets it; each
// block decides with its own `cache` whether and how long a reply is kept.
#include <algorithm>

#include "dnscore/clusterset_zone.h"
#include "dnscore/message.h"
#include "dnscore/wire.h"
#include "server/log.h"
#include "server/query_engine.h"

namespace meshdns {
namespace {

Question Renamed(const Question& q, const DnsName& name) {
  Question out = q;
  out.name = name;
  return out;
}

// CoreDNS's loadbalance round_robin: CNAMEs first, then other records, then
// the address records and MX records each shuffled.
absl::StatusOr<std::vector<uint8_t>> Shuffle(const std::vector<uint8_t>& wire, absl::BitGen& rng) {
  absl::StatusOr<PktPtr> pkt = ParseMessage(wire);
  if (!pkt.ok()) return pkt.status();
  if (ldns_pkt_get_rcode(pkt->get()) != LDNS_RCODE_NOERROR) return wire;
  ldns_rr_list* answers = ldns_pkt_answer(pkt->get());
  const size_t n = ldns_rr_list_rr_count(answers);
  if (n < 2) return wire;
  std::vector<ldns_rr*> cname, other, address, mx;
  for (size_t i = 0; i < n; ++i) {
    ldns_rr* rr = ldns_rr_list_rr(answers, i);
    switch (ldns_rr_get_type(rr)) {
      case LDNS_RR_TYPE_CNAME: cname.push_back(rr); break;
      case LDNS_RR_TYPE_A: case LDNS_RR_TYPE_AAAA: address.push_back(rr); break;
      case LDNS_RR_TYPE_MX: mx.push_back(rr); break;
      default: other.push_back(rr); break;
    }
  }
  std::shuffle(address.begin(), address.end(), rng);
  std::shuffle(mx.begin(), mx.end(), rng);
  size_t at = 0;
  for (const auto* group : {&cname, &other, &address, &mx}) {
    for (ldns_rr* rr : *group) ldns_rr_list_set_rr(answers, rr, at++);
  }
  return EncodeMessage(pkt->get());
}

}  // namespace

asio::awaitable<Resolved> QueryEngine::ResolveCorefile(std::shared_ptr<const Generation> g, const Question& q,
                                                       int depth, bool look_in_cache) {
  const Runtime& rt = *g->runtime;
  const CorefileBlock* block = rt.corefile->Dispatch(q.name);
  if (!block) co_return Resolved{.refused = true};  // no block for the name, and no root block
  const CacheKey key(q.name, q.qtype, q.qclass, q.dnssec_ok, q.checking_disabled);
  if (look_in_cache) {
    if (std::optional<CachedReply> hit = g->cache->Find(key, NowMillis())) co_return Resolved{hit->reply, hit->ttl};
  }

  absl::StatusOr<RewriteOutcome> rewritten = block->rewrite.Apply(q.name);
  if (!rewritten.ok()) {
    Log(LogLevel::kDebug, "block ", block->name, ": ", rewritten.status().message());
    co_return Resolved{};
  }
  const CorefileBlock::Cache* cache = block->CacheFor(rewritten->name);
  auto stale = [&]() -> std::optional<Resolved> {
    if (!cache || cache->serve_stale <= 0) return std::nullopt;
    std::optional<CachedReply> old = g->cache->Find(key, NowMillis(), cache->serve_stale);
    if (!old) return std::nullopt;
    ++counters_.stale_answers;
    return Resolved{old->reply, old->ttl};
  };

  Chained chained = co_await RunBlock(g, *block, Renamed(q, rewritten->name), depth);
  absl::StatusOr<std::vector<uint8_t>> wire = std::move(chained.wire);
  if (wire.ok() && rewritten->changed()) wire = Rewriter::Revert(*rewritten, *wire, q.name);
  if (wire.ok() && block->loadbalance) wire = Shuffle(*wire, rng_);
  absl::StatusOr<StoredReply> stored = wire.ok() ? StoredReply::FromMessage(*wire, cache ? &cache->ttl : nullptr)
                                                 : absl::StatusOr<StoredReply>(wire.status());
  if (!stored.ok() || stored->rcode() == kServFail) {
    if (!stored.ok()) Log(LogLevel::kDebug, "no answer for ", q.name.ToText(), ": ", stored.status().message());
    if (std::optional<Resolved> old = stale()) co_return *old;
    if (!stored.ok()) co_return Resolved{.overloaded = chained.overloaded};
  }
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  // As in Resolve: a generation this worker no longer serves does not fill the cache.
  if (cache && shared->cacheable && g == generation_) g->cache->Insert(key, shared, NowMillis());
  co_return Resolved{shared, shared->cacheable ? shared->ttl : 0};
}

asio::awaitable<QueryEngine::Chained> QueryEngine::RunBlock(std::shared_ptr<const Generation> g,
                                                            const CorefileBlock& block, const Question& q, int depth) {
  const Runtime& rt = *g->runtime;
  Chained out{.wire = absl::UnavailableError("no plugin answered")};

  const TemplateOutcome t = block.templates.Answer(q.name, q.qtype, q.qclass);
  if (t.kind == TemplateOutcome::Kind::kServFail) {
    out.wire = absl::FailedPreconditionError("template: no regex matched, or the record did not render");
    co_return out;
  }
  if (t.kind == TemplateOutcome::Kind::kAnswer) {
    ++counters_.synthesized;
    if (t.chase) {
      out.wire = co_await Chase(g, q, *t.chase, t.answer, t.authority, t.additional, depth);
    } else {
      out.wire = BuildAuthoritativeReply(q.name, q.qtype, q.qclass, t.rcode, t.answer, t.authority, t.additional);
    }
    co_return out;
  }

  if (block.hosts) {
    HostsOutcome h = block.hosts->Lookup(q.name, q.qtype);
    if (h.kind == HostsOutcome::Kind::kServFail) {
      out.wire = absl::NotFoundError("hosts: no such name and no fallthrough");
      co_return out;
    }
    if (h.kind == HostsOutcome::Kind::kAnswer) {
      out.wire = BuildAuthoritativeReply(q.name, q.qtype, q.qclass, kNoError, h.answer, {});
      co_return out;
    }
  }

  const CorefileBlock::Forward* forward = block.ForwardFor(q.name);
  if (!forward) co_return out;  // CoreDNS: "no next plugin found", SERVFAIL
  const Pool& pool = rt.pools[forward->pool];
  Forwarded forwarded = co_await Forward(rt, pool, q, q.name);
  out.overloaded = forwarded.overloaded;
  if (forwarded.reply) out.wire = *std::move(forwarded.reply);
  co_return out;
}

}  // namespace meshdns
