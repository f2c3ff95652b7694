#include "dnscore/program.h"

#include <algorithm>

#include "dnscore/wire.h"

namespace meshdns {
namespace {

bool Under(const DnsName& name, const std::vector<DnsName>& zones) {
  return std::any_of(zones.begin(), zones.end(), [&](const DnsName& z) { return name.IsSubdomainOf(z); });
}

}  // namespace

const BlockForward* Block::ForwardFor(const DnsName& name) const {
  for (const BlockForward& f : forwards) {
    if (!name.IsSubdomainOf(f.from)) continue;
    // The FROM apex itself is never excluded.
    if (!name.Equals(f.from) && Under(name, f.except)) continue;
    return &f;
  }
  return nullptr;
}

bool BlockCache::Keeps(const DnsName& name, const StoredReply& reply) const {
  return reply.cacheable && !Under(name, reply.denial ? denial_off : success_off);
}

const BlockCache* Block::CacheFor(const DnsName& name) const {
  return cache && Under(name, cache->zones) ? &*cache : nullptr;
}

bool BlockView::Matches(const ViewQuery& query) const {
  return std::all_of(exprs.begin(), exprs.end(), [&](const ViewExpression& e) { return e.Matches(query); });
}

const LogRule* Program::LogRuleFor(const DnsName& qname, uint16_t server, std::span<const uint8_t> reply,
                                   uint16_t route) const {
  const Block* block = Routed(qname, server, route);
  return block != nullptr ? meshdns::LogRuleFor(block->log, qname, reply) : nullptr;
}

bool Program::AnyView(const std::vector<Block>& blocks) {
  return std::any_of(blocks.begin(), blocks.end(), [](const Block& b) { return b.view.has_value(); });
}

bool Program::AnyAcl(const std::vector<Block>& blocks) {
  return std::any_of(blocks.begin(), blocks.end(), [](const Block& b) { return !b.acl.empty(); });
}

std::optional<AclAction> Program::Admit(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                        const IpAddress& client, uint16_t server, uint16_t route) const {
  if (!has_acl_) return std::nullopt;
  const Block* block = Routed(qname, server, route);
  if (block == nullptr || block->acl.empty() || !block->has_chain || !AllowsClass(server, qclass) ||
      block->builtin.AnswersFirst(qname, qtype, qclass)) {
    return std::nullopt;
  }
  if (block->rewrite.empty()) return block->acl.Decide(qname, qtype, client);
  // A rewrite that fails answers SERVFAIL in the pipeline; the acl judges the question as asked.
  absl::StatusOr<RewriteOutcome> rewritten = block->rewrite.Apply(qname, qtype, qclass);
  if (!rewritten.ok()) return block->acl.Decide(qname, qtype, client);
  return block->acl.Decide(rewritten->name, rewritten->qtype, client);
}

bool Program::AllowsClass(uint16_t server, uint16_t qclass) const {
  if (qclass == kClassIN) return true;
  auto opens = [&](size_t b) { return blocks_[b].opens_classes; };
  if (servers_.empty()) {
    for (size_t b = 0; b < blocks_.size(); ++b) {
      if (opens(b)) return true;
    }
    return false;
  }
  return server < servers_.size() && std::any_of(servers_[server].begin(), servers_[server].end(), opens);
}

const Block* Program::DispatchByView(const DnsName& qname, uint16_t server, const ViewQuery* query) const {
  const size_t count = servers_.empty() ? (server == 0 ? blocks_.size() : 0)
                                        : server < servers_.size() ? servers_[server].size() : 0;
  auto block_at = [&](size_t i) -> const Block& { return servers_.empty() ? blocks_[i] : blocks_[servers_[server][i]]; };
  // From the name up: at each zone, its blocks in file order. A block
  // without plugins stops the walk (REFUSED), except at the root, where
  // CoreDNS's last resort skips it.
  for (size_t labels = qname.LabelCount() + 1; labels-- > 0;) {
    for (size_t i = 0; i < count; ++i) {
      const Block& b = block_at(i);
      const bool holds = std::any_of(b.zones.begin(), b.zones.end(), [&](const DnsName& z) {
        return z.LabelCount() == labels && qname.IsSubdomainOf(z);
      });
      if (!holds) continue;
      if (!b.has_chain) {
        if (labels == 0) continue;
        return &b;
      }
      if (!b.view || (query != nullptr && b.view->Matches(*query))) return &b;
    }
  }
  return nullptr;
}

const Block* Program::Dispatch(const DnsName& qname, uint16_t server, const ViewQuery* query) const {
  if (has_views_) return DispatchByView(qname, server, query);
  const Block* best = nullptr;
  size_t best_labels = 0;
  auto consider = [&](const Block& b) {
    for (const DnsName& z : b.zones) {
      if (qname.IsSubdomainOf(z) && (!best || z.LabelCount() > best_labels)) {
        best = &b;
        best_labels = z.LabelCount();
      }
    }
  };
  if (servers_.empty()) {
    if (server == 0) {
      for (const Block& b : blocks_) consider(b);
    }
  } else if (server < servers_.size()) {
    for (size_t i : servers_[server]) consider(blocks_[i]);
  }
  return best;
}

}  // namespace meshdns
