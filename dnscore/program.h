// Program: what a configuration compiles into, whichever front-end read it.
// Server blocks, each with its zones and its stages (rewrite, cluster strip,
// cache policy, template, hosts, forward); the mesh's rules for the clusterset
// zone (contract rules 2-4) when the configuration names a mesh; CoreDNS's
// loop probe. A meshdns YAML compiles into the blocks its Corefile twin would
// have: one per cluster (strip its label, forward to its pool), the clusterset
// zone, and the root (forward upstream). Pools are named by index; their
// resolvers and health belong to the runtime around the program.
//
// Servers: CoreDNS groups a Corefile's blocks by listen address (key port and
// `bind`), and each group dispatches among its own blocks only, so one zone
// may go to different blocks on different ports. A server here is one such
// set of blocks; listeners carry the index of theirs (config/corefile_listen.h).
// A program without server sets is one server of all its blocks (the YAML).
//
// Immutable once built; shared by every worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "dnscore/acl.h"
#include "dnscore/builtin_answers.h"
#include "dnscore/clock.h"
#include "dnscore/cluster_rewrite.h"
#include "dnscore/clusterset_zone.h"
#include "dnscore/dns_name.h"
#include "dnscore/error_consolidation.h"
#include "dnscore/hosts_table.h"
#include "dnscore/log_rule.h"
#include "dnscore/mesh.h"
#include "dnscore/rewrite.h"
#include "dnscore/service_merge.h"
#include "dnscore/stored_reply.h"
#include "dnscore/template_handler.h"
#include "dnscore/view_expr.h"

namespace meshdns {

// A block's `cache`: which names it keeps, how long, and how long past
// expiry they may still be served (RFC 8767).
struct BlockCache {
  std::vector<DnsName> zones;
  TtlPolicy ttl;
  Millis serve_stale = 0;
  uint32_t stale_ttl = kStaleTtl;  // the TTL of an answer served stale
  bool keep_ttl = false;           // hits carry the whole lifetime, not what is left
  // `disable success|denial ZONE…`: names under these are answered with the
  // policy's TTLs but not kept.
  std::vector<DnsName> success_off, denial_off;

  // Whether `reply`, the answer for `name`, is kept.
  bool Keeps(const DnsName& name, const StoredReply& reply) const;
};

// One `forward FROM [EXCEPT…]` of a block.
struct BlockForward {
  DnsName from;
  std::vector<DnsName> except;
  size_t pool = 0;  // index into the runtime's pools
};

// view NAME { expr … }: the block is tried only for the queries every
// expression holds for (none: all of them), and NAME labels its metrics.
struct BlockView {
  std::string name;
  std::vector<ViewExpression> exprs;
  bool Matches(const ViewQuery& query) const;
};

// One server block. Its stages run in the pipeline's order (pipeline.h),
// whatever order the file wrote them in; a stage that is absent is skipped.
struct Block {
  std::vector<DnsName> zones;  // the block's keys
  std::string name;            // its first key, for logs and pool names
  BuiltinAnswers builtin;      // local, any, chaos, whoami
  ZoneAcl acl;                 // decided at admission, before the cache (Program::Admit)
  Rewriter rewrite;
  // A meshdns cluster's block: <cluster>.svc.<domain> is asked as
  // svc.<domain> and the reply's names get the label back (contract rule 1).
  std::optional<ClusterRewrite> cluster;
  std::optional<BlockCache> cache;
  TemplateHandler templates;
  std::optional<HostsTable> hosts;
  std::vector<BlockForward> forwards;  // in file order; the first whose FROM holds the name
  bool loadbalance = false;
  // loadbalance { prefer … }: rotated addresses in these subnets go first.
  std::shared_ptr<const std::vector<Cidr>> prefer;
  bool errors = false;  // log why a query got no answer, as CoreDNS's errors plugin
  std::vector<LogRule> log;  // which replies its `log` writes
  std::vector<std::string> plugins;  // the directives it runs, once each (coredns_plugin_enabled)
  // errors { consolidate … }: shared by every worker; null without.
  std::shared_ptr<ErrorConsolidation> consolidate;
  // CoreDNS gives a block a plugin chain only when a directive adds a DNS
  // handler (not reload, bind, health, ready); without one its names are
  // REFUSED (server.go), where a chain nobody answers in gives SERVFAIL.
  bool has_chain = true;
  // CoreDNS refuses classes other than IN on a server unless one of its
  // blocks has chaos or forward (server.go's EnableChaos).
  bool opens_classes = true;
  std::optional<BlockView> view;

  const BlockForward* ForwardFor(const DnsName& name) const;
  const BlockCache* CacheFor(const DnsName& name) const;
};

// CoreDNS's `loop`: at start the server asks itself an HINFO question for a
// random name in the block's zone; seeing that question more than twice
// means forwarding comes back to this server, and the process must stop.
struct LoopProbe {
  DnsName name;
  // How often the question has arrived, over all workers and reloads of this program.
  std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>(0);
  static constexpr int kMaxSeen = 2;
};

// The mesh a configuration names, and how its clusterset zone answers what
// no block's template does: the schema version, MCS service names merged
// over the clusters, NXDOMAIN with an SOA for the rest and for clusters
// outside the mesh.
struct MeshRules {
  MeshRules(Mesh m, std::vector<std::shared_ptr<const Template>> templates, uint32_t negative_ttl)
      : mesh(std::move(m)), zone(mesh, std::move(templates), negative_ttl) {}
  MeshRules(const MeshRules&) = delete;
  MeshRules& operator=(const MeshRules&) = delete;

  Mesh mesh;
  ClustersetZone zone;  // refers to `mesh`
  // The pool each cluster's names end up in, or -1 when no block forwards them.
  std::vector<int> cluster_pools;
  bool services = true;  // contract rule 4: MCS service names
  Millis fanout_timeout = 1000;
  uint32_t ttl = 5;      // the cap on a merged service answer's TTL
  std::function<Affinity(absl::string_view service, absl::string_view ns)> affinity;
};

// One server's blocks, as indexes into the program's blocks.
using ServerBlocks = std::vector<size_t>;

class Program {
 public:
  Program() = default;
  Program(std::vector<Block> blocks, std::optional<LoopProbe> loop, std::shared_ptr<const MeshRules> mesh)
      : blocks_(std::move(blocks)), loop_(std::move(loop)), mesh_(std::move(mesh)), has_acl_(AnyAcl(blocks_)),
        has_views_(AnyView(blocks_)) {}
  // Several servers: `servers[s]` lists the blocks server s dispatches among.
  Program(std::vector<Block> blocks, std::vector<ServerBlocks> servers, std::optional<LoopProbe> loop,
          std::shared_ptr<const MeshRules> mesh)
      : blocks_(std::move(blocks)), servers_(std::move(servers)), loop_(std::move(loop)), mesh_(std::move(mesh)),
        has_acl_(AnyAcl(blocks_)), has_views_(AnyView(blocks_)) {}

  // CoreDNS's dispatch: the block of `server` with the longest zone holding
  // the name; null when none does (then the answer is REFUSED), or when there
  // is no such server. With views (server.go), the zones holding the name
  // are tried from the longest, each zone's blocks in file order, and the
  // first block whose view holds for `query` (or that has none) takes it;
  // without `query`, no view holds.
  const Block* Dispatch(const DnsName& qname, uint16_t server = 0, const ViewQuery* query = nullptr) const;
  // A query's route: 1 + the index of the block Dispatch chose, when the
  // program has views (then it is part of the cache key, as each block keeps
  // its own entries); 0 without views or without a block.
  uint16_t RouteOf(const Block* block) const {
    return has_views_ && block != nullptr ? static_cast<uint16_t>(block - blocks_.data() + 1) : 0;
  }
  // The block of a route, or Dispatch's by name alone when the route is 0.
  const Block* Routed(const DnsName& qname, uint16_t server, uint16_t route) const {
    return route != 0 && route <= blocks_.size() ? &blocks_[route - 1] : Dispatch(qname, server);
  }
  bool has_views() const { return has_views_; }
  // The `log` rule of the block serving `qname` (by its route) that logs `reply`; null: none.
  const LogRule* LogRuleFor(const DnsName& qname, uint16_t server, std::span<const uint8_t> reply,
                            uint16_t route = 0) const;
  // The acl's verdict on a client's question, taken before the cache looks,
  // as CoreDNS's plugin order has it (rewrite → acl → cache): a blocked
  // client never gets a cached answer. None when no acl is asked: the
  // question's block has none, local, any or chaos answer it first, or the
  // server refuses it anyway (its class, a block without plugins). The acl's
  // zones and types see the question as the block's rewrite leaves it. No allocation
  // unless the block has both acl and rewrite.
  std::optional<AclAction> Admit(const DnsName& qname, uint16_t qtype, uint16_t qclass, const IpAddress& client,
                  uint16_t server, uint16_t route = 0) const;
  // Whether `server` takes questions of class `qclass` at all.
  bool AllowsClass(uint16_t server, uint16_t qclass) const;
  size_t server_count() const { return servers_.empty() ? 1 : servers_.size(); }
  const std::vector<Block>& blocks() const { return blocks_; }
  // Set when a block has `loop`.
  const std::optional<LoopProbe>& loop() const { return loop_; }
  // Null when the configuration names no mesh (a Corefile not in the mesh pattern).
  const MeshRules* mesh() const { return mesh_.get(); }
  // While compiling: a Corefile's mesh is recovered from its blocks once they are built.
  void set_mesh(std::shared_ptr<const MeshRules> mesh) { mesh_ = std::move(mesh); }

 private:
  std::vector<Block> blocks_;
  std::vector<ServerBlocks> servers_;  // empty: one server of every block
  std::optional<LoopProbe> loop_;
  std::shared_ptr<const MeshRules> mesh_;
  bool has_acl_ = false;  // a block has an acl: admission asks Admit
  bool has_views_ = false;  // a block has a view: admission routes each query

  static bool AnyAcl(const std::vector<Block>& blocks);
  static bool AnyView(const std::vector<Block>& blocks);
  const Block* DispatchByView(const DnsName& qname, uint16_t server, const ViewQuery* query) const;
};

}  // namespace meshdns
