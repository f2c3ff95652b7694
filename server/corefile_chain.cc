// `serve --corefile`: the query path through a Corefile's server blocks.
//   dispatch (longest zone) → rewrite → cache → template → hosts → forward
//   → rewrite reverted → cache insert (loadbalance and rewrite ttl ride along
//   with the stored reply and act each time it is served)
// CoreDNS's plugin.cfg order, whatever order the Corefile wrote. The cache
// sits in front of the whole chain (admission looks there first), keyed by
// the client's question and holding the reply as the client gets it; each
// block decides with its own `cache` whether and how long a reply is kept.
#include <cstdlib>

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

}  // namespace

void QueryEngine::CheckLoopProbe(const Runtime& rt, const Question& q) {
  if (const std::optional<LoopProbe>& loop = rt.corefile->loop();
      loop && q.qtype == kTypeHINFO && q.name.Equals(loop->name) &&
      loop->seen->fetch_add(1, std::memory_order_relaxed) + 1 > LoopProbe::kMaxSeen) {
    // CoreDNS's loop plugin stops the process: a forwarding loop would
    // otherwise multiply every query until the resolvers give up.
    Log(LogLevel::kError, "loop detected: the probe HINFO ", loop->name.ToText(),
        " came back more than twice; a forward leads back to this server (see CoreDNS's loop plugin "
        "troubleshooting: point forward at a resolver that is not this one)");
    std::_Exit(1);
  }
}

std::optional<Resolved> QueryEngine::PlanBlock(const Runtime& rt, const CorefileBlock& block, const Question& q,
                                               BlockPlan& plan) {
  plan.block = &block;
  absl::StatusOr<RewriteOutcome> rewritten = block.rewrite.Apply(q.name);
  if (!rewritten.ok()) {
    Log(LogLevel::kDebug, "block ", block.name, ": ", rewritten.status().message());
    return Resolved{};
  }
  plan.rewritten = *std::move(rewritten);
  plan.cache = block.CacheFor(plan.rewritten.name);
  const CorefileBlock::Forward* forward = block.ForwardFor(plan.rewritten.name);
  plan.pool = forward ? &rt.pools[forward->pool] : nullptr;
  return std::nullopt;
}

asio::awaitable<Resolved> QueryEngine::ResolveCorefile(std::shared_ptr<const Generation> g, const Question& q,
                                                       int depth, bool look_in_cache) {
  const Runtime& rt = *g->runtime;
  CheckLoopProbe(rt, q);
  const CorefileBlock* block = rt.corefile->Dispatch(q.name);
  if (!block) co_return Resolved{.refused = true};  // no block for the name, and no root block
  const CacheKey key(q.name, q.qtype, q.qclass, q.dnssec_ok, q.checking_disabled);
  if (look_in_cache) {
    if (std::optional<CachedReply> hit = g->cache->Find(key, NowMillis())) co_return Resolved{hit->reply, hit->ttl};
  }
  BlockPlan plan;
  if (std::optional<Resolved> now = PlanBlock(rt, *block, q, plan)) co_return *now;

  const Question asked = Renamed(q, plan.rewritten.name);
  // The usual block only forwards: then no coroutine frame for the local plugins.
  if (!block->templates.empty() || block->hosts) {
    std::optional<Chained> local = co_await AnswerInBlock(g, *block, asked, depth);
    if (local) {
      co_return AfterBlock(g, q, key, plan,
                           local->wire.ok() ? absl::StatusOr<std::span<const uint8_t>>(*local->wire)
                                            : local->wire.status(),
                           local->overloaded);
    }
  }
  if (!plan.pool) co_return AfterBlock(g, q, key, plan, NoPluginAnswered(), false);  // CoreDNS's "no next plugin found"
  Forwarded forwarded = co_await Forward(g->runtime, *plan.pool, asked, asked.name);
  co_return AfterBlock(g, q, key, plan,
                       forwarded.reply ? absl::StatusOr<std::span<const uint8_t>>(*forwarded.reply)
                                       : NoPluginAnswered(),
                       forwarded.overloaded);
}

absl::Status QueryEngine::NoPluginAnswered() { return absl::UnavailableError("no plugin answered"); }

Resolved QueryEngine::AfterBlock(const std::shared_ptr<const Generation>& g, const Question& q, const CacheKey& key,
                                 const BlockPlan& plan, absl::StatusOr<std::span<const uint8_t>> reply,
                                 bool overloaded) {
  const CorefileBlock& block = *plan.block;
  const CorefileBlock::Cache* cache = plan.cache;
  auto stale = [&]() -> std::optional<Resolved> {
    if (!cache || cache->serve_stale <= 0) return std::nullopt;
    std::optional<CachedReply> old = g->cache->Find(key, NowMillis(), cache->serve_stale);
    if (!old) return std::nullopt;
    ++counters_.stale_answers;
    return Resolved{old->reply, old->ttl};
  };
  const TtlPolicy* policy = cache ? &cache->ttl : nullptr;
  auto store = [&]() -> absl::StatusOr<StoredReply> {
    if (!reply.ok()) return reply.status();
    if (!plan.rewritten.changed()) return StoredReply::FromMessage(*reply, policy);
    absl::StatusOr<std::vector<uint8_t>> reverted = Rewriter::Revert(plan.rewritten, *reply, q.name);
    if (!reverted.ok()) return reverted.status();
    return StoredReply::FromMessage(*reverted, policy);
  };
  absl::StatusOr<StoredReply> stored = store();
  if (!stored.ok() || stored->rcode() == kServFail) {
    if (!stored.ok()) {
      // The errors plugin's line: rcode, question, why.
      Log(block.errors ? LogLevel::kError : LogLevel::kDebug, "plugin/errors: 2 ", q.name.ToText(), " ",
          TypeMnemonic(q.qtype), ": ", stored.status().message());
    }
    if (std::optional<Resolved> old = stale()) return *old;
    if (!stored.ok()) return Resolved{.overloaded = overloaded};
  }
  // loadbalance and rewrite ttl act on every reply served, cache hits
  // included (both wrap the cache in CoreDNS's plugin order).
  if (block.loadbalance) stored->MarkAddressRotation();
  if (plan.rewritten.ttl) {
    stored->ttl_floor = plan.rewritten.ttl->min;
    stored->ttl_ceiling = plan.rewritten.ttl->max;
  }
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  // As in Resolve: a generation this worker no longer serves does not fill the cache.
  if (cache && shared->cacheable && g == generation_) g->cache->Insert(key, shared, NowMillis());
  return Resolved{shared, shared->cacheable ? shared->ttl : 0};
}

asio::awaitable<std::optional<QueryEngine::Chained>> QueryEngine::AnswerInBlock(std::shared_ptr<const Generation> g,
                                                                                const CorefileBlock& block,
                                                                                const Question& q, int depth) {
  const Runtime& rt = *g->runtime;
  Chained out{.wire = absl::UnavailableError("no plugin answered")};

  const TemplateOutcome t = block.templates.Answer(q.name, q.qtype, q.qclass);
  // With a mesh the Corefile names, the contract's clusterset rules hold here
  // as they do for a meshdns YAML.
  if (rt.mesh && q.name.IsSubdomainOf(rt.mesh->clusterset())) {
    if (t.kind == TemplateOutcome::Kind::kServFail) {
      // Rule 4: the rest of the zone is the MCS service answer, the schema
      // version or NXDOMAIN with an SOA, not SERVFAIL.
      out.wire = co_await Synthesize(g, q, depth);
      co_return out;
    }
    if (t.kind == TemplateOutcome::Kind::kAnswer && t.cluster && !rt.mesh->FindCluster(*t.cluster)) {
      // Rule 3: a cluster outside the mesh cannot have hosts; nothing is forwarded for it.
      ++counters_.synthesized;
      std::vector<RrPtr> soa;
      soa.push_back(rt.clusterset->Soa());
      out.wire = BuildAuthoritativeReply(q.name, q.qtype, q.qclass, kNxDomain, {}, soa);
      co_return out;
    }
  }
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
  co_return std::nullopt;  // on to forward
}

}  // namespace meshdns
