#include "dnscore/pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

absl::Status NoPluginAnswered() { return absl::UnavailableError("no plugin answered"); }
// Why a forwarded question has no reply, for the errors log (CoreDNS logs the
// transport's error, as an i/o timeout).
absl::Status NoReply(bool overloaded) {
  return overloaded ? absl::ResourceExhaustedError("no resolver of the pool could be asked (all busy or down)")
                    : absl::DeadlineExceededError("no resolver answered in time");
}

Step Answered(Answer answer) { return Step{.kind = Step::Kind::kAnswer, .answer = std::move(answer)}; }

// A reply that is never kept: its TTLs go out as written.
Answer Uncached(const ReplyWire& wire, bool log) {
  if (!wire.ok()) return Answer::ServFail(wire.status(), log);
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(std::span<const uint8_t>(*wire), nullptr);
  if (!stored.ok()) return Answer::ServFail(stored.status(), log);
  return Answer::Reply(std::make_shared<const StoredReply>(*std::move(stored)), 0);
}

}  // namespace

Step Pipeline::Start(const Question& question, int depth, QueryState& s, const Options& options) {
  s.question = question;
  s.depth = depth;
  s.stripped = false;
  s.service.reset();
  s.ede.reset();
  s.retarget.reset();

  // Classes: only IN, unless the server has a block that opens the others.
  if (!program_.AllowsClass(question.server, question.qclass)) {
    return Answered(Answer::Refused(absl::InvalidArgumentError("the server takes no class but IN")));
  }
  // Loop probe: the server's own HINFO question seen too often.
  if (const std::optional<LoopProbe>& loop = program_.loop();
      loop && question.qtype == kTypeHINFO && question.name.Equals(loop->name) &&
      loop->seen->fetch_add(1, std::memory_order_relaxed) + 1 > LoopProbe::kMaxSeen) {
    return Step{.kind = Step::Kind::kLoopDetected};
  }
  // Dispatch.
  if (question.route != 0) {
    s.block = program_.Routed(question.name, question.server, question.route);
  } else {
    const ViewQuery facts = question.ForView();
    s.block = program_.Dispatch(question.name, question.server, &facts);
    s.question.route = program_.RouteOf(s.block);  // its cache entries are the block's
  }
  if (s.block == nullptr) return Answered(Answer::Refused(absl::NotFoundError("no server block holds the name")));
  const Block& block = *s.block;
  if (!block.has_chain) return Answered(Answer::Refused(absl::NotFoundError("the server block has no plugin")));
  // local, any, chaos: ahead of rewrite, acl and cache in CoreDNS's order, so never cached.
  if (block.builtin.AnswersFirst(question.name, question.qtype, question.qclass)) {
    ++counters_.synthesized;
    // authors.bind is shuffled anew each second, as CoreDNS seeds its shuffle.
    const uint64_t shuffle = static_cast<uint64_t>(options.now / 1000);
    return Answered(Uncached(block.builtin.AnswerFirst(question.name, question.qtype, question.qclass, shuffle),
                             block.errors));
  }
  // Cache. It sits before rewrite (CoreDNS's plugin order), so its zones hold
  // the client's name, which is also the entry's key.
  s.cache = block.CacheFor(question.name);
  if (options.look_in_cache) {
    if (std::optional<CachedReply> hit = cache_.Find(s.question.Key(), options.now)) {
      Answer answer = Answer::Reply(hit->reply, hit->ttl);
      answer.from_cache = true;
      return Answered(std::move(answer));
    }
  }
  // Rewrite.
  const EdnsRequest addresses = question.Addresses();
  absl::StatusOr<RewriteOutcome> rewritten =
      block.rewrite.Apply(question.name, question.qtype, question.qclass, &addresses, question.edns_options);
  if (!rewritten.ok()) return Answered(Answer::ServFail(rewritten.status(), block.errors));
  if (rewritten->edns_options && rewritten->edns_options->size() > kMaxUpstreamOptions) {
    return Answered(Answer::ServFail(
        absl::ResourceExhaustedError(absl::StrCat("rewrite edns0: the query's EDNS options (",
                                                  rewritten->edns_options->size(), " bytes) exceed the ",
                                                  kMaxUpstreamOptions, " meshdns sends a resolver")),
        block.errors));
  }
  s.rewritten = *std::move(rewritten);
  s.ask = s.rewritten.name;
  // Cluster strip.
  if (block.cluster) {
    if (!block.cluster->Strip(s.rewritten.name, s.ask)) {
      return Answered(Answer::ServFail(absl::InvalidArgumentError("the cluster label cannot be taken off")));
    }
    s.stripped = true;
  }
  // Template, and the clusterset rules for what no template answers. They,
  // hosts and the resolvers see the type and class rewrite left.
  const uint16_t qtype = s.rewritten.qtype, qclass = s.rewritten.qclass;
  TemplateOutcome t = block.templates.Answer(s.ask, qtype, qclass);
  const MeshRules* mesh = program_.mesh();
  if (mesh != nullptr && s.ask.IsSubdomainOf(mesh->mesh.clusterset())) {
    if (t.kind != TemplateOutcome::Kind::kAnswer) return Clusterset(s, options);
    if (t.cluster && !mesh->mesh.FindCluster(*t.cluster)) {
      // Rule 3: a cluster outside the mesh cannot have hosts; nothing is forwarded for it.
      ++counters_.synthesized;
      std::vector<RrPtr> soa;
      soa.push_back(mesh->zone.Soa());
      return Finished(s, BuildAuthoritativeReply(s.ask, qtype, qclass, kNxDomain, {}, soa),
                      options);
    }
  }
  if (t.kind == TemplateOutcome::Kind::kServFail) {
    return Finished(s, absl::FailedPreconditionError("template: no regex matched, or the record did not render"),
                    options);
  }
  if (t.kind == TemplateOutcome::Kind::kAnswer) {
    ++counters_.synthesized;
    s.ede = std::move(t.ede);
    if (!t.chase) {
      return Finished(s, BuildAuthoritativeReply(s.ask, qtype, qclass, t.rcode, t.answer,
                                                 t.authority, t.additional),
                      options);
    }
    s.chain.answer = std::move(t.answer);
    s.chain.authority = std::move(t.authority);
    s.chain.additional = std::move(t.additional);
    return Chase(s, *t.chase, options);
  }
  // Hosts.
  if (block.hosts) {
    HostsOutcome h = block.hosts->Lookup(s.ask, qtype);
    if (h.kind == HostsOutcome::Kind::kServFail) {
      return Finished(s, absl::NotFoundError("hosts: no such name and no fallthrough"), options);
    }
    if (h.kind == HostsOutcome::Kind::kAnswer) {
      return Finished(s, BuildAuthoritativeReply(s.ask, qtype, qclass, kNoError, h.answer, {}),
                      options);
    }
  }
  // Forward.
  const BlockForward* forward = block.ForwardFor(s.ask);
  if (forward == nullptr) {
    // whoami: last in CoreDNS's order. Its answer is one client's own, so it is never kept.
    if (block.builtin.whoami) {
      ++counters_.synthesized;
      s.cache = nullptr;
      return Finished(s, WhoamiAnswer(s.ask, qtype, qclass, question.client), options);
    }
    return Finish(s, NoPluginAnswered(), false, options);  // CoreDNS's "no next plugin found"
  }
  // A pool with no resolver in rotation is not waited for: its attempts end
  // at once (PlanAttempts) and Forwarded serves stale or SERVFAIL.
  return Step{.kind = Step::Kind::kForward, .pool = forward->pool};
}

Step Pipeline::Clusterset(QueryState& s, const Options& options) {
  const MeshRules& mesh = *program_.mesh();
  const Question& q = s.question;
  ++counters_.synthesized;
  absl::StatusOr<ClustersetOutcome> outcome = mesh.zone.Answer(s.ask, s.rewritten.qtype, s.rewritten.qclass);
  if (!outcome.ok()) return Finished(s, outcome.status(), options);
  if (!outcome->matched && (q.qclass == kClassIN || q.qclass == kClassANY)) {
    // Rule 4: every cluster asked at once, merged by affinity. A namespace is
    // asked even without service names: the template's host names lie below it.
    if (std::optional<ServiceName> service = ParseServiceName(mesh.mesh, s.ask);
        service && (mesh.services || service->IsNamespace())) {
      Step step{.kind = Step::Kind::kFanOut, .budget = mesh.fanout_timeout};
      for (size_t c = 0; c < mesh.mesh.clusters().size(); ++c) {
        const int pool = mesh.cluster_pools[c];
        if (pool >= 0 && PoolDown(pools_[pool])) {
          ++counters_.fanout_left_out;  // a cluster known to be down is not waited for
          continue;
        }
        step.parts.push_back(ClusterPart{c, std::nullopt});
        step.part_questions.push_back(q.Renamed(service->ClusterName(mesh.mesh, c)));
      }
      s.service = *std::move(service);
      return step;
    }
  }
  if (!outcome->chase) {
    return Finished(s, BuildAuthoritativeReply(s.ask, s.rewritten.qtype, s.rewritten.qclass, outcome->rcode, outcome->answer,
                                               outcome->authority),
                    options);
  }
  s.chain.answer = std::move(outcome->answer);
  s.chain.authority.clear();
  s.chain.additional.clear();
  return Chase(s, *outcome->chase, options);
}

Step Pipeline::Chase(QueryState& s, const DnsName& target, const Options& options) {
  if (s.depth >= kMaxChainLinks) {
    return Finished(s, absl::FailedPreconditionError("CNAME chain too long or looping"), options);
  }
  // The target goes through the whole pipeline again (cache, dispatch,
  // forwarding), as CoreDNS's template resolves it through the server itself.
  return Step{.kind = Step::Kind::kChase, .target = s.question.Renamed(target)};
}

Step Pipeline::Forwarded(QueryState& s, std::span<const uint8_t> reply, bool overloaded, const Options& options) {
  if (reply.empty()) return Finish(s, NoReply(overloaded), overloaded, options);
  return Finish(s, reply, overloaded, options);
}

Step Pipeline::Chased(QueryState& s, const Answer& target, const Options& options) {
  if (s.retarget) return Retargeted(s, target, options);
  if (target.kind != Answer::Kind::kReply) {
    return Finish(s, absl::StatusOr<std::vector<uint8_t>>(absl::UnavailableError("CNAME target could not be resolved")),
                  options);
  }
  const Question& q = s.question;
  return Finish(s, CompleteChain(s.ask, q.qtype, q.qclass, s.chain, *target.reply, target.ttl), options);
}

Step Pipeline::FannedOut(QueryState& s, std::span<const ClusterPart> parts, const Options& options) {
  const MeshRules& mesh = *program_.mesh();
  const MergeOptions merge{.affinity = mesh.affinity ? mesh.affinity(s.service->service, s.service->ns) : Affinity::kAll,
                           .local = mesh.mesh.local(),
                           .ttl_cap = mesh.ttl};
  const RrPtr soa = mesh.zone.Soa();
  return Finish(s, MergeServiceAnswers(mesh.mesh, *s.service, s.ask, s.question.qtype, parts, merge, soa.get()),
                options);
}

Step Pipeline::Finish(QueryState& s, const absl::StatusOr<std::vector<uint8_t>>& wire, const Options& options) {
  if (!wire.ok()) return Finish(s, absl::StatusOr<std::span<const uint8_t>>(wire.status()), false, options);
  return Finish(s, std::span<const uint8_t>(*wire), false, options);
}

Step Pipeline::Finish(QueryState& s, absl::StatusOr<std::span<const uint8_t>> reply, bool overloaded,
                      const Options& options) {
  const Block& block = *s.block;
  const TtlPolicy* policy = s.cache ? &s.cache->ttl : nullptr;
  if (!reply.ok()) {
    // CoreDNS's rewrite answers a failure itself, through its rcode rules.
    const Question& q = s.question;
    if (std::optional<std::vector<uint8_t>> own = Rewriter::FailureReply(
            s.rewritten, q.name, q.qtype, q.qclass, q.recursion_desired, q.checking_disabled,
            overloaded ? kRefused : kServFail)) {
      return Answered(Store(s, StoredReply::FromMessage(*std::move(own), policy), overloaded, reply.status(), options));
    }
    return Answered(Store(s, reply.status(), overloaded, absl::OkStatus(), options));
  }
  const bool retarget = !s.rewritten.cnames.empty();
  if (!s.stripped && !s.rewritten.changed() && !retarget) {
    return Answered(Store(s, StoredReply::FromMessage(*reply, policy), overloaded, absl::OkStatus(), options));
  }
  // Cluster names restored: the reply gets back the name it had before the strip.
  absl::StatusOr<std::vector<uint8_t>> renamed = s.stripped ? block.cluster->RestoreReply(*reply, s.rewritten.name, scratch_)
                                                            : std::vector<uint8_t>(reply->begin(), reply->end());
  // Rewrite reverted: the client's question and names.
  if (renamed.ok() && s.rewritten.changed()) renamed = Rewriter::Revert(s.rewritten, *renamed, s.question.name, scratch_);
  if (!renamed.ok()) return Answered(Store(s, renamed.status(), overloaded, absl::OkStatus(), options));
  if (!retarget) {
    return Answered(Store(s, StoredReply::FromMessage(*std::move(renamed), policy), overloaded, absl::OkStatus(), options));
  }
  // rewrite cname, on the reply as the block's other rules left it (as if
  // its rules came first in the block: CoreDNS runs the reply rules last
  // rule first).
  absl::StatusOr<CnameTargetRewrite> r = CnameTargetRewrite::Begin(s.rewritten.cnames, *renamed);
  if (!r.ok()) return Answered(Store(s, r.status(), overloaded, absl::OkStatus(), options));
  s.retarget.emplace(*std::move(r));
  s.retarget_cacheable = true;
  s.retarget_ttl = UINT32_MAX;
  return Retarget(s, options);
}

Step Pipeline::Retarget(QueryState& s, const Options& options) {
  const CnameTargetStep next = s.retarget->Next();
  if (next.kind == CnameTargetStep::Kind::kLookup) {
    // Each lookup is a link of the chain: a rule that keeps matching its own
    // lookups' replies ends here (CoreDNS has no guard).
    if (s.depth >= kMaxChainLinks) {
      s.retarget.reset();
      return Answered(Store(s, absl::FailedPreconditionError("rewrite cname: CNAME chain too long or looping"), false,
                            absl::OkStatus(), options));
    }
    // CoreDNS looks up the new target through the whole server, with the
    // type rewrite left and class IN.
    Question target = s.question.Renamed(next.target);
    target.qtype = s.rewritten.qtype;
    target.qclass = kClassIN;
    return Step{.kind = Step::Kind::kChase, .target = target};
  }
  absl::StatusOr<std::vector<uint8_t>> wire = s.retarget->Reply();
  s.retarget.reset();
  if (!wire.ok()) return Answered(Store(s, wire.status(), false, absl::OkStatus(), options));
  const TtlPolicy* policy = s.cache && s.retarget_cacheable ? &s.cache->ttl : nullptr;
  absl::StatusOr<StoredReply> stored = StoredReply::FromMessage(*std::move(wire), policy);
  if (stored.ok()) stored->LowerTtl(s.retarget_ttl);
  return Answered(Store(s, std::move(stored), false, absl::OkStatus(), options));
}

Step Pipeline::Retargeted(QueryState& s, const Answer& target, const Options& options) {
  // A new target nothing could resolve fails the question, as a template's
  // CNAME target does; CoreDNS would send the chain cut short, NOERROR.
  if (target.kind == Answer::Kind::kServFail ||
      (target.kind == Answer::Kind::kReply && target.reply->rcode() == kServFail)) {
    s.retarget.reset();
    return Answered(Store(s, absl::UnavailableError("rewrite cname: the new CNAME target could not be resolved"), false,
                          absl::OkStatus(), options));
  }
  if (target.kind == Answer::Kind::kRefused) {
    // No block holds the name: CoreDNS's server wrote a bare REFUSED.
    s.retarget->Looked(std::span<const RrPtr>(), false);
    s.retarget_cacheable = false;
    return Retarget(s, options);
  }
  const StoredReply& reply = *target.reply;
  const absl::Status looked = s.retarget->Looked(reply.cacheable ? reply.WireWithTtl(target.ttl) : reply.wire);
  if (!looked.ok()) {
    s.retarget.reset();
    return Answered(Store(s, looked, false, absl::OkStatus(), options));
  }
  if (reply.cacheable) {
    s.retarget_ttl = std::min(s.retarget_ttl, target.ttl);
  } else {
    s.retarget_cacheable = false;
  }
  return Retarget(s, options);
}

Answer Pipeline::Store(QueryState& s, absl::StatusOr<StoredReply> stored, bool overloaded,
                       absl::Status answered_failure, const Options& options) {
  const Block& block = *s.block;
  if (!stored.ok() || stored->rcode() == kServFail) {
    if (std::optional<Answer> old = Stale(s, options.now)) return *std::move(old);
    if (!stored.ok()) {
      if (overloaded) return Answer::Refused(stored.status());
      return Answer::ServFail(stored.status(), block.errors);
    }
  }
  // loadbalance and rewrite ttl act on every reply served, cache hits
  // included (both wrap the cache in CoreDNS's plugin order).
  if (block.loadbalance && stored->MarkAddressRotation()) stored->prefer = block.prefer;
  if (s.rewritten.ttl) {
    stored->ttl_floor = s.rewritten.ttl->min;
    stored->ttl_ceiling = s.rewritten.ttl->max;
  }
  if (s.cache != nullptr) stored->keep_ttl = s.cache->keep_ttl;
  stored->ede = s.ede;
  auto shared = std::make_shared<const StoredReply>(*std::move(stored));
  if (s.cache != nullptr && options.store && s.cache->Keeps(s.question.name, *shared)) {
    cache_.Insert(s.question.Key(), shared, options.now);
  }
  Answer answer = Answer::Reply(shared, shared->cacheable ? shared->ttl : 0);
  if (!answered_failure.ok()) {
    answer.why = std::move(answered_failure);
    answer.log = block.errors;
  }
  return answer;
}

std::optional<Answer> Pipeline::Stale(const QueryState& s, Millis now) {
  if (s.cache == nullptr || s.cache->serve_stale <= 0) return std::nullopt;
  std::optional<CachedReply> old = cache_.Find(s.question.Key(), now, s.cache->serve_stale);
  if (!old) return std::nullopt;
  ++counters_.stale_answers;
  Answer answer = Answer::Reply(old->reply, old->stale ? s.cache->stale_ttl : old->ttl);
  answer.from_cache = true;
  return answer;
}

}  // namespace meshdns
