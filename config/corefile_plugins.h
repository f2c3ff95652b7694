// What the directives of a Corefile mean: each server block's plugins read
// into typed values through the directive registry (config/plugins/), as
// CoreDNS's plugin READMEs define their syntax, every mistake at
// file:line:col. Execution order is CoreDNS's (plugin.cfg), not the order
// written: a plan holds each plugin in its own slot. Plain values; no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile.h"
#include "dnscore/acl.h"
#include "dnscore/dns_name.h"
#include "dnscore/error_consolidation.h"
#include "dnscore/health_check.h"
#include "dnscore/log_rule.h"
#include "dnscore/policy.h"
#include "dnscore/rewrite.h"
#include "dnscore/template_handler.h"
#include "dnscore/view_expr.h"

namespace meshdns {

// One TO of a forward: an address, or a resolv.conf file and the nameservers
// it lists when planned (`import` carries the file over, not today's contents).
struct ForwardTo {
  std::vector<SocketAddress> addresses;
  std::optional<std::string> resolv_conf;
};

// forward FROM TO… { except … force_tcp prefer_udp expire max_fails health_check
// policy max_concurrent read_timeout max_connect_attempts failover
// failfast_all_unhealthy_upstreams }
struct ForwardPlan {
  DnsName from;
  std::vector<ForwardTo> to;
  std::vector<DnsName> except;
  bool force_tcp = false, prefer_udp = false;
  Millis expire = 10000;
  uint32_t max_fails = 2;
  HealthCheck health_check;         // interval 0.5 s, `. IN NS` with RD, as CoreDNS
  Policy policy = Policy::kRandom;  // CoreDNS's default, unlike meshdns's YAML
  uint32_t max_concurrent = 0;      // 0: no limit
  Millis read_timeout = 2000;       // per attempt
  std::optional<uint32_t> max_connect_attempts;  // unset: 2 per upstream, as CoreDNS; 0: no cap
  uint16_t failover_rcodes = 0;     // bit n: rcode n is asked of the next upstream
  SourcePos pos;

  std::vector<SocketAddress> Addresses() const;  // every TO's, in order
  // Failed attempts after which a query ends: max_connect_attempts, or
  // CoreDNS's default of two per upstream; 0: no cap but meshdns's budget.
  uint32_t FailedAttemptCap() const;
};

// cache [TTL] [ZONE…] { success … denial … prefetch … serve_stale … servfail … disable … keepttl }
struct CachePlan {
  std::optional<uint32_t> ttl;  // TTL when written (success_ttl and denial_ttl hold it)
  std::vector<DnsName> zones;
  // As CoreDNS sizes them: whole shards, 1024 at least.
  size_t success_capacity = 9984, denial_capacity = 9984;
  // A MINTTL may exceed its TTL: the TTL caps last, as in CoreDNS.
  uint32_t success_ttl = 3600, success_min_ttl = 5;
  uint32_t denial_ttl = 1800, denial_min_ttl = 5;
  std::optional<PrefetchPolicy> prefetch;
  Millis serve_stale = 0;              // 0: off
  std::optional<uint32_t> stale_ttl;   // serve_stale's RESPONSE_TTL
  std::optional<Millis> servfail;      // unset: SERVFAIL is not cached (meshdns's default)
  std::vector<DnsName> success_off, denial_off;  // disable success|denial ZONE…
  bool keepttl = false;
  SourcePos pos;
};

// hosts [FILE [ZONE…]] { IP NAME… ttl reload no_reverse fallthrough }
struct HostsPlan {
  struct Entry {
    std::string ip;  // as written; checked to be an address
    std::vector<DnsName> names;
    SourcePos pos;
  };
  std::optional<std::string> file;
  std::vector<DnsName> zones;
  std::vector<Entry> entries;
  uint32_t ttl = 3600;
  Millis reload = 5000;
  bool no_reverse = false;
  std::optional<std::vector<DnsName>> fallthrough;
  SourcePos pos;
};

// bind ADDRESS|IFACE… { except ADDRESS|IFACE… }, as written: names are
// resolved to addresses where the listeners are planned (corefile_listen.h).
struct BindPlan {
  std::vector<CorefileToken> to;
  std::vector<CorefileToken> except;
};

// chaos [VERSION [AUTHORS…]]: what CH TXT version.bind and authors.bind say.
struct ChaosPlan {
  std::string version;               // meshdns-<version> unless written
  std::vector<std::string> authors;  // sorted and without repeats, as CoreDNS keeps them
};

// Where one directive of a server block was written: a plan's values do not
// remember their lines, and the stages after planning (serve's compiler,
// import) point their problems at them.
struct DirectiveSite {
  CorefileToken name;
  std::vector<CorefileToken> options;  // the first word of each line of its { } block
  // rewrite, template, forward: the index of the entry it added to its list
  // (none when it was not planned, or its planning failed).
  std::optional<size_t> entry;
  bool planned = false;  // false: meshdns does not run it (kubernetes, file, an unknown name)
  // Only when not planned, as no parser read them: `import` takes the
  // cluster domain from kubernetes's zones.
  std::vector<CorefileToken> args;
};

// view NAME { expr EXPRESSION… }: the block takes a query only when every
// expression is true (none: every query).
struct ViewPlan {
  std::string name;
  std::vector<ViewExpression> exprs;
  SourcePos pos;
};

struct ServerPlan {
  std::vector<CorefileKey> keys;
  SourcePos pos;                     // the block's first key
  std::vector<DirectiveSite> sites;  // every directive, in the order written
  bool has_chain = false;  // a directive adds a DNS handler (registry.h); without one, REFUSED
  // In plugin.cfg order: the side services, then the query chain.
  std::optional<std::string> health, ready, prometheus;  // listen addresses, "" for the default
  Millis lameduck = 0;                                   // health { lameduck DURATION }
  std::optional<Millis> reload;
  std::optional<uint16_t> bufsize;  // bufsize [SIZE]: the UDP reply cap
  std::vector<BindPlan> binds;      // every `bind` line; none: the wildcard address
  bool errors = false;
  std::vector<LogRule> log;  // every `log` line's name scopes, in order
  std::vector<ConsolidateRule> consolidate;  // errors { consolidate … }
  std::optional<bool> local;        // local { localhost_prefix on|off }: the prefix rule, on by default
  bool any = false;
  std::optional<ChaosPlan> chaos;
  bool loadbalance = false;
  std::vector<Cidr> loadbalance_prefer;  // loadbalance { prefer … }: in priority order
  std::vector<RewriteRule> rewrites;
  std::vector<AclRule> acls;        // every `acl` line, in order
  std::optional<CachePlan> cache;
  std::vector<TemplateRule> templates;
  std::optional<HostsPlan> hosts;
  bool loop = false;
  std::vector<ForwardPlan> forwards;
  bool whoami = false;
  std::optional<ViewPlan> view;  // a filter on the block, not a stage
};

struct CorefilePlan {
  std::vector<ServerPlan> servers;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // with ignore_unsupported
};

struct PlanCorefileOptions {
  // Also report the directives meshdns does not run (CheckCorefileDirectives),
  // ahead of the plan's own errors.
  bool check_directives = false;
  // What meshdns cannot run is a warning and left out of the plan, not an
  // error: directives (with check_directives), and the upstreams and
  // options of those it runs (a tls:// upstream, cache { serve_stale_policy … }). Mistakes
  // CoreDNS would refuse too stay errors. `import` plans this way.
  bool ignore_unsupported = false;
};

// Reads the options of every directive meshdns runs; directives it does not
// run are CheckCorefileDirectives's to report. Both ask the same registry.
CorefilePlan PlanCorefile(const Corefile& corefile, const PlanCorefileOptions& options = {});

}  // namespace meshdns
