#include "config/corefile_plugins.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// What meshdns runs, in plugin.cfg order (the order a plan's slots execute
// in), then the ones people bring along that it does not, with what to do instead.
constexpr DirectiveEntry kDirectives[] = {
    {.name = "reload", .plan = PlanReload, .once_per_block = true, .handler = false},
    {.name = "bufsize", .plan = PlanBufsize, .once_per_block = true},
    {.name = "bind", .plan = PlanBind, .handler = false},
    {.name = "health", .plan = PlanHealth, .once_per_block = true, .handler = false},
    {.name = "ready", .plan = PlanReady, .once_per_block = true, .handler = false},
    {.name = "prometheus", .plan = PlanPrometheus, .once_per_block = true},
    {.name = "errors", .plan = PlanErrors},
    {.name = "log", .plan = PlanLog},
    {.name = "local", .plan = PlanLocal},
    {.name = "any", .plan = PlanAny, .once_per_block = true},
    {.name = "chaos", .plan = PlanChaos, .once_per_block = true},
    {.name = "loadbalance", .plan = PlanLoadbalance},
    {.name = "rewrite", .plan = PlanRewrite},
    {.name = "acl", .plan = PlanAcl},
    {.name = "cache", .plan = PlanCache, .once_per_block = true},
    {.name = "template", .plan = PlanTemplate},
    {.name = "hosts", .plan = PlanHosts, .once_per_block = true},
    {.name = "loop", .plan = PlanLoop},
    {.name = "forward", .plan = PlanForward},
    {.name = "whoami", .plan = PlanWhoami, .once_per_block = true},
    // A filter on which block a query goes to (Program::Dispatch); in the
    // chain it passes every query on, so it counts as a handler, as in CoreDNS.
    {.name = "view", .plan = PlanView, .once_per_block = true},

    {.name = "kubernetes",
     .instead = "meshdns does not watch the Kubernetes API: forward this zone to the cluster's kube-dns "
                "(forward . <kube-dns ClusterIP>) and let CoreDNS keep serving it"},
    {.name = "k8s_external", .instead = "forward the zone to the cluster's CoreDNS instead"},
    {.name = "etcd", .instead = "forward the zone to a CoreDNS that runs etcd instead"},
    {.name = "file", .instead = "serve the zone from an authoritative server (CoreDNS, nsd, knot) and forward to it"},
    {.name = "auto", .instead = "serve the zones from an authoritative server and forward to it"},
    {.name = "secondary", .instead = "serve the zone from an authoritative server and forward to it"},
    {.name = "autopath", .instead = "not needed for the mesh's names; drop it"},
    {.name = "dnssec", .instead = "meshdns does not sign answers; drop it"},
    {.name = "grpc", .instead = "use forward over UDP/TCP instead"},
};

void CheckDirective(const CorefileDirective& d, bool ignore_unsupported, DirectiveCheck& check) {
  const DirectiveEntry* entry = FindDirective(d.name.text);
  if (entry && entry->plan) return;
  if (entry) {
    ConfigError e = d.name.pos.Error(absl::StrCat("directive ", d.name.text, " is not supported: ", entry->instead));
    (ignore_unsupported && !entry->never_left_out ? check.warnings : check.errors).push_back(std::move(e));
  } else if (ignore_unsupported) {
    check.warnings.push_back(d.name.pos.Error(absl::StrCat("unknown directive ", d.name.text, " (skipped)")));
  } else {
    check.errors.push_back(d.name.pos.Error(absl::StrCat("unknown directive ", d.name.text)));
  }
}

// The entry a list-filling directive added to its list, if it added one.
// `rewrites`, `templates` and `forwards` are the lists' sizes before it was planned.
std::optional<size_t> AddedEntry(const ServerPlan& plan, size_t rewrites, size_t templates, size_t forwards) {
  if (plan.rewrites.size() > rewrites) return rewrites;
  if (plan.templates.size() > templates) return templates;
  if (plan.forwards.size() > forwards) return forwards;
  return std::nullopt;
}

DirectiveSite Site(const CorefileDirective& d) {
  DirectiveSite site{.name = d.name};
  for (const CorefileDirective& line : d.block) site.options.push_back(line.name);
  return site;
}

ServerPlan PlanBlock(const CorefileServerBlock& block, std::vector<ConfigError>& errors,
                     std::vector<ConfigError>* unsupported) {
  ServerPlan plan;
  plan.keys = block.keys;
  plan.pos = block.pos;
  std::vector<DnsName> zones;
  for (const CorefileKey& k : block.keys) zones.push_back(k.zone);
  PlanContext context(zones, errors, unsupported);
  absl::flat_hash_set<absl::string_view> seen;
  for (const CorefileDirective& d : block.directives) {
    DirectiveSite& site = plan.sites.emplace_back(Site(d));
    const DirectiveEntry* entry = FindDirective(d.name.text);
    if (!entry || !entry->plan) {  // the check's to report
      site.args = d.args;
      continue;
    }
    site.planned = true;
    plan.has_chain = plan.has_chain || entry->handler;
    if (entry->once_per_block && !seen.insert(entry->name).second) {
      context.Error(d.name.pos, absl::StrCat(d.name.text, " can only be used once per server block"));
      continue;
    }
    const size_t rewrites = plan.rewrites.size(), templates = plan.templates.size(), forwards = plan.forwards.size();
    entry->plan(d, context, plan);
    site.entry = AddedEntry(plan, rewrites, templates, forwards);
  }
  return plan;
}

}  // namespace

const DirectiveEntry* FindDirective(absl::string_view name) {
  for (const DirectiveEntry& entry : kDirectives) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

DirectiveCheck CheckCorefileDirectives(const Corefile& corefile, bool ignore_unsupported) {
  DirectiveCheck check;
  for (const CorefileServerBlock& block : corefile.blocks) {
    for (const CorefileDirective& d : block.directives) CheckDirective(d, ignore_unsupported, check);
  }
  return check;
}

CorefilePlan PlanCorefile(const Corefile& corefile, const PlanCorefileOptions& options) {
  CorefilePlan out;
  if (options.check_directives) {
    DirectiveCheck check = CheckCorefileDirectives(corefile, options.ignore_unsupported);
    out.errors = std::move(check.errors);
    out.warnings = std::move(check.warnings);
  }
  std::vector<ConfigError>* unsupported = options.ignore_unsupported ? &out.warnings : nullptr;
  for (const CorefileServerBlock& block : corefile.blocks) {
    out.servers.push_back(PlanBlock(block, out.errors, unsupported));
  }
  return out;
}

}  // namespace meshdns
