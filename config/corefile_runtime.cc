#include "config/corefile_runtime.h"

#include <algorithm>
#include <set>

#include <unistd.h>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/corefile_listen.h"
#include "config/corefile_plugins.h"
#include "config/imported_mesh.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

std::string NoTrailingDot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

// CoreDNS's `:8080` and `localhost:9153` as addresses meshdns can bind.
absl::StatusOr<std::string> HttpAddress(const std::string& text, const std::string& fallback) {
  std::string a = text.empty() ? fallback : text;
  if (absl::StartsWith(a, ":")) a = "0.0.0.0" + a;
  if (absl::StartsWith(a, "localhost:")) a = "127.0.0.1" + a.substr(9);
  absl::StatusOr<SocketAddress> parsed = SocketAddress::Parse(a);
  if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("'", a, "' is not IP:PORT (host names are not looked up)"));
  return parsed->ToString();
}

// What chaos answers hostname.bind with, read at load as CoreDNS reads it
// per query: localhost when the name cannot be had.
std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

class Compiler {
 public:
  Compiler(const Corefile& corefile, const Interfaces* interfaces, CorefileLoad& out)
      : corefile_(corefile), interfaces_(interfaces), out_(out) {}

  void Run(const CorefilePlan& plan) {
    Config config;
    config.file = corefile_.blocks.empty() ? "" : corefile_.blocks.front().pos.file;
    // CoreDNS answers whoever asks unless an `acl` says otherwise.
    config.acl_allow = {*Cidr::Parse("0.0.0.0/0"), *Cidr::Parse("::/0")};
    config.cache.capacity = 0;
    std::vector<ServerBlocks> servers = Listen(plan, config);
    std::vector<Block> blocks;
    std::optional<LoopProbe> loop;
    for (size_t b = 0; b < plan.servers.size(); ++b) {
      first_pool_.push_back(out_.serving.pools.size());
      blocks.push_back(CompileBlock(plan.servers[b], config));
      if (const std::optional<uint16_t> size = plan.servers[b].bufsize) UdpReplySize(*size, config);
      if (plan.servers[b].loop && !loop && !blocks.back().zones.empty()) loop = Probe(blocks.back().zones.front());
    }
    config.cache.capacity = std::max<size_t>(config.cache.capacity, 1024);
    if (!out_.errors.empty()) return;
    out_.serving.program = Program(std::move(blocks), std::move(servers), std::move(loop), nullptr);
    ReadMesh(plan, config);
    out_.config = std::move(config);
  }

  // CoreDNS's bufsize is per server block; meshdns has one UDP reply cap per
  // port, so the smallest any block sets applies to all (1232 when none does).
  void UdpReplySize(uint16_t size, Config& config) {
    config.limits.udp_reply_size = bufsize_seen_ ? std::min(config.limits.udp_reply_size, size) : size;
    bufsize_seen_ = true;
  }

  // A Corefile in the mesh pattern (what `import` understands) names the
  // clusters; with them the contract's clusterset rules 3 and 4 apply here
  // too (coredns-semantics.md: "the same improvements apply"). Each
  // cluster's pool is the one compiled from the forward it was read from.
  void ReadMesh(const CorefilePlan& plan, Config& config) {
    MeshImport imported = ImportMesh(plan);
    if (!imported.mesh) return;
    const ImportedMesh& mesh = *imported.mesh;
    config.cluster = mesh.cluster;
    config.domain = mesh.domain;
    config.clusterset_domain = mesh.clusterset_domain.value_or(*DnsName::FromText("clusterset.local"));
    std::vector<int> cluster_pools;
    for (const ImportedCluster& c : mesh.clusters) {
      ClusterConfig cluster{.name = c.name, .policy = c.policy};
      for (const ForwardTo& to : c.resolvers) {
        cluster.resolvers.insert(cluster.resolvers.end(), to.addresses.begin(), to.addresses.end());
      }
      config.clusters.push_back(std::move(cluster));
      cluster_pools.push_back(c.origin ? static_cast<int>(first_pool_[c.origin->server] + c.origin->forward) : -1);
    }
    // The Corefile's own templates answer first; the rules give the rest of the zone.
    out_.serving.program.set_mesh(CompileMeshRules(config, {}, std::move(cluster_pools)));
  }

  // <random>.<random>.<zone>, as CoreDNS's loop plugin asks.
  static std::optional<LoopProbe> Probe(const DnsName& zone) {
    absl::BitGen rng;
    DnsName labels;
    const std::string a = absl::StrCat(absl::Uniform<uint64_t>(rng)), b = absl::StrCat(absl::Uniform<uint64_t>(rng));
    DnsName name;
    if (!labels.AppendLabel(a) || !labels.AppendLabel(b) || !labels.ReplaceSuffix(2, zone, name)) return std::nullopt;
    return LoopProbe{name};
  }

 private:
  void Error(const SourcePos& pos, std::string message) {
    out_.errors.push_back(ConfigError{pos.file, pos.line, pos.column, std::move(message)});
  }

  // Every block key's port on its bind addresses, grouped into servers
  // (corefile_listen.h). `listen` keeps the addresses alone, for what
  // needs no server (the metrics' server label, the loop probe's target).
  std::vector<ServerBlocks> Listen(const CorefilePlan& plan, Config& config) {
    ListenPlan listen = PlanListeners(plan, interfaces_ ? *interfaces_ : MachineInterfaces());
    out_.errors.insert(out_.errors.end(), listen.errors.begin(), listen.errors.end());
    for (const ListenAddress& l : listen.listeners) config.listen.push_back(l.address);
    config.listeners = std::move(listen.listeners);
    return std::move(listen.servers);
  }

  // Where a directive is, for its error.
  static SourcePos DirectivePos(const ServerPlan& plan, absl::string_view name) {
    for (const DirectiveSite& site : plan.sites) {
      if (site.name.text == name) return site.name.pos;
    }
    return plan.pos;
  }

  void SideServices(const ServerPlan& plan, Config& config) {
    const std::tuple<const std::optional<std::string>&, std::string&, const char*, const char*> services[] = {
        {plan.health, config.health, "health", ":8080"},
        {plan.ready, config.ready, "ready", ":8181"},
        {plan.prometheus, config.metrics, "prometheus", "localhost:9153"}};
    for (const auto& [wanted, slot, name, fallback] : services) {
      if (!wanted) continue;
      absl::StatusOr<std::string> address = HttpAddress(*wanted, fallback);
      if (!address.ok()) {
        Error(DirectivePos(plan, name), absl::StrCat(name, ": ", address.status().message()));
      } else if (slot.empty()) {
        slot = *address;
      } else if (slot != *address) {
        // CoreDNS would open one more endpoint; meshdns serves one of each,
        // and dropping the second would leave its scraper or probe failing.
        Error(DirectivePos(plan, name),
              absl::StrCat(name, ": a second address ", *address, "; meshdns serves one ", name,
                           " endpoint per process, already at ", slot, " (use the same address in every block)"));
      }
    }
    config.lameduck = std::max(config.lameduck, plan.lameduck);
  }

  Block CompileBlock(const ServerPlan& plan, Config& config) {
    Block block;
    for (const CorefileKey& k : plan.keys) block.zones.push_back(k.zone);
    block.name = NoTrailingDot(plan.keys.empty() ? "." : plan.keys.front().zone.ToText());
    SideServices(plan, config);
    block.log = plan.log;
    for (const DirectiveSite& site : plan.sites) {
      const DirectiveEntry* entry = FindDirective(site.name.text);
      if (entry == nullptr || entry->plan == nullptr) continue;
      if (std::find(block.plugins.begin(), block.plugins.end(), entry->name) == block.plugins.end()) {
        block.plugins.emplace_back(entry->name);
      }
    }
    if (!plan.consolidate.empty()) block.consolidate = std::make_shared<ErrorConsolidation>(plan.consolidate);
    config.log_queries = config.log_queries || !plan.log.empty();
    config.log_by_block = true;
    block.loadbalance = plan.loadbalance;
    if (!plan.loadbalance_prefer.empty()) {
      block.prefer = std::make_shared<const std::vector<Cidr>>(plan.loadbalance_prefer);
    }
    block.errors = plan.errors;
    block.has_chain = plan.has_chain;
    block.opens_classes = !plan.forwards.empty() || plan.chaos;
    if (plan.local) block.builtin.local.emplace(*plan.local);
    block.builtin.any = plan.any;
    if (plan.chaos) block.builtin.chaos.emplace(plan.chaos->version, plan.chaos->authors, Hostname());
    block.builtin.whoami = plan.whoami;
    block.rewrite = Rewriter(plan.rewrites);
    block.acl = ZoneAcl(plan.acls);
    if (plan.view) block.view = BlockView{.name = plan.view->name, .exprs = plan.view->exprs};

    if (plan.cache) {
      const CachePlan& c = *plan.cache;
      block.cache = BlockCache{
          .zones = c.zones,
          .ttl = TtlPolicy{.min_ttl = c.success_min_ttl, .max_ttl = c.success_ttl, .denial_ttl = c.denial_ttl,
                           .denial_min_ttl = c.denial_min_ttl,
                           // Whole seconds, as CoreDNS's TTLs: under a second is not kept.
                           .servfail_ttl = static_cast<uint32_t>(c.servfail.value_or(0) / 1000)},
          .serve_stale = c.serve_stale,
          .stale_ttl = c.stale_ttl.value_or(kStaleTtl),
          .keep_ttl = c.keepttl,
          .success_off = c.success_off,
          .denial_off = c.denial_off};
      config.cache.capacity += c.success_capacity + c.denial_capacity;
      if (c.prefetch && !config.cache.prefetch) config.cache.prefetch = c.prefetch;
    }

    absl::StatusOr<TemplateHandler> templates = TemplateHandler::Compile(plan.templates);
    if (templates.ok()) {
      block.templates = *std::move(templates);
    } else {
      Error(DirectivePos(plan, "template"), absl::StrCat("template: ", templates.status().message()));
    }

    if (plan.hosts) Hosts(*plan.hosts, block);

    for (const ForwardPlan& f : plan.forwards) {
      Pool pool;
      pool.name = block.forwards.empty() ? block.name : absl::StrCat(block.name, "#", block.forwards.size() + 1);
      pool.policy = f.policy;
      pool.resolvers = f.Addresses();
      pool.health_options = HealthOptions{.max_fails = f.max_fails};
      pool.health_check = f.health_check;
      pool.timeout = f.read_timeout;
      pool.expire = f.expire;
      pool.force_tcp = f.force_tcp;
      pool.max_concurrent = f.max_concurrent;
      pool.retry_rcodes |= f.failover_rcodes;
      pool.max_failed_attempts = f.FailedAttemptCap();
      // The shutdown grace waits out the slowest pool's attempts.
      config.forward.timeout = std::max(config.forward.timeout, f.read_timeout);
      block.forwards.push_back(BlockForward{f.from, f.except, out_.serving.pools.size()});
      out_.serving.pools.push_back(std::move(pool));
    }
    return block;
  }

  void Hosts(const HostsPlan& h, Block& block) {
    std::vector<HostsEntry> entries;
    for (const HostsPlan::Entry& e : h.entries) entries.push_back(HostsEntry{e.ip, e.names});
    // Like CoreDNS: /etc/hosts when no file is named; a missing file leaves the inline entries.
    const std::string file = h.file.value_or("/etc/hosts");
    out_.watch.push_back(file);
    if (absl::StatusOr<std::string> text = ReadRegularFile(file); text.ok()) {
      std::vector<HostsEntry> from_file = HostsTable::ParseFile(*text);
      entries.insert(entries.end(), from_file.begin(), from_file.end());
    } else {
      out_.warnings.push_back(ConfigError{h.pos.file, h.pos.line, h.pos.column,
                                          absl::StrCat("hosts: ", text.status().message(), "; serving the inline entries")});
    }
    block.hosts.emplace(HostsOptions{h.zones, h.ttl, h.no_reverse, h.fallthrough}, entries);
  }

  const Corefile& corefile_;
  const Interfaces* interfaces_;  // null: this machine's
  CorefileLoad& out_;
  std::vector<size_t> first_pool_;  // by server block: the pool of its first forward
  bool bufsize_seen_ = false;  // a block has set the UDP reply cap
};

}  // namespace

CorefileLoad CompileCorefile(const Corefile& corefile, const CorefileLoadOptions& options) {
  CorefileLoad out;
  DirectiveCheck check = CheckCorefileDirectives(corefile, options.ignore_unsupported);
  out.errors = std::move(check.errors);
  out.warnings = std::move(check.warnings);
  const CorefilePlan plan = PlanCorefile(corefile);
  out.errors.insert(out.errors.end(), plan.errors.begin(), plan.errors.end());
  if (!out.errors.empty()) return out;
  Compiler(corefile, options.interfaces, out).Run(plan);
  return out;
}

CorefileLoad LoadCorefile(const std::string& path, const CorefileLoadOptions& options) {
  CorefileResult r = ReadCorefileFile(path, options.read);
  if (!r.corefile) {
    CorefileLoad out;
    out.errors = std::move(r.errors);
    return out;
  }
  return CompileCorefile(*r.corefile, options);
}

}  // namespace meshdns
