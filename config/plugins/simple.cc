// The directives with little to read: errors, log, loop, loadbalance, reload, bufsize.
#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "config/plugins/registry.h"
#include "dnscore/acl.h"

namespace meshdns {

// errors [stdout] { stacktrace; consolidate DURATION REGEXP [LEVEL] [show_first] },
// read as CoreDNS's setup reads it (plugin/errors/setup.go). meshdns logs to
// stderr and recovers from no panic (a crash ends the process), so
// stacktrace has nothing to add.
void PlanErrors(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  if (plan.errors) context.Error(d.name.pos, "errors can only be used once per server block");
  context.MaxArgs(d, 1);
  if (!d.args.empty() && d.args[0].text != "stdout") {
    context.Error(d.args[0].pos, absl::StrCat("errors: '", d.args[0].text, "' is not stdout, the only place errors go"));
  }
  for (const CorefileDirective& line : d.block) {
    const std::string& o = line.name.text;
    if (o == "stacktrace") {
      context.MaxArgs(line, 0);
    } else if (o == "consolidate") {
      if (line.args.size() < 2 || line.args.size() > 4) {
        context.Error(line.name.pos, "errors: consolidate takes DURATION REGEXP [LEVEL] [show_first]");
        continue;
      }
      ConsolidateRule rule;
      context.Duration(line.args[0], "consolidate", rule.period);
      context.Regex(line.args[1]);
      rule.pattern = line.args[1].text;
      bool level = false;
      for (size_t i = 2; i < line.args.size(); ++i) {
        const std::string& a = line.args[i].text;
        if (a == "show_first" && i + 1 == line.args.size()) {
          rule.show_first = true;
          continue;
        }
        if (!level && (a == "warning" || a == "error" || a == "info" || a == "debug")) {
          level = true;
          rule.level = a == "warning" ? ErrorLevel::kWarning
                       : a == "info"  ? ErrorLevel::kInfo
                       : a == "debug" ? ErrorLevel::kDebug
                                      : ErrorLevel::kError;
          continue;
        }
        context.Error(line.args[i].pos,
                      absl::StrCat("errors: consolidate: unexpected '", a, "' (one LEVEL, then show_first last)"));
      }
      plan.consolidate.push_back(std::move(rule));
    } else {
      context.Error(line.name.pos, absl::StrCat("errors: unknown option ", o));
    }
  }
  plan.errors = true;
}

// log [NAMES…] [FORMAT] { class all|denial|error|success… }: read as
// CoreDNS's setup reads it (plugin/log/setup.go): one rule per name, each
// with the block's classes and format.
void PlanLog(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  std::vector<const CorefileToken*> names;
  for (const CorefileToken& a : d.args) names.push_back(&a);
  std::string format;
  // With two or more arguments, a last one holding `{` is the format.
  if (names.size() >= 2 && names.back()->text.find('{') != std::string::npos) {
    format = absl::StrReplaceAll(names.back()->text, {{"{common}", kDefaultLogFormat}, {"{combined}", kCombinedLogFormat}});
    if (format.find("{local}") != std::string::npos) {
      context.Unsupported(names.back()->pos, "log: {local} (the server's address) is not supported in a format");
    }
    names.pop_back();
  }
  uint8_t classes = 0;
  for (const CorefileDirective& line : d.block) {
    if (line.name.text != "class") {
      context.Error(line.name.pos, absl::StrCat("log: unknown option ", line.name.text));
      continue;
    }
    if (line.args.empty()) context.Error(line.name.pos, "log: class needs all, denial, error or success");
    for (const CorefileToken& c : line.args) {
      const std::string lower = absl::AsciiStrToLower(c.text);
      if (lower == "all") {
        classes |= kLogAll;
      } else if (lower == "denial") {
        classes |= kLogDenial;
      } else if (lower == "error") {
        classes |= kLogError;
      } else if (lower == "success") {
        classes |= kLogSuccess;
      } else {
        context.Error(c.pos, absl::StrCat("log: '", c.text, "' is not a class (all, denial, error, success)"));
      }
    }
  }
  if (classes == 0) classes = kLogAll;
  if (names.empty()) {
    plan.log.push_back(LogRule{.scope = DnsName(), .classes = classes, .format = format});
    return;
  }
  for (const CorefileToken* n : names) {
    absl::StatusOr<DnsName> scope = DnsName::FromText(n->text);
    if (!scope.ok()) {
      context.Error(n->pos, absl::StrCat("log: ", scope.status().message()));
      continue;
    }
    plan.log.push_back(LogRule{.scope = *std::move(scope), .classes = classes, .format = format});
  }
}

void PlanLoop(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 0);
  plan.loop = true;
}

// loadbalance [round_robin] { prefer CIDR… }. `weighted FILE` needs its
// weights file read and re-read, which meshdns does not do: refused by name.
void PlanLoadbalance(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  if (!d.args.empty() && d.args[0].text == "weighted") {
    context.Unsupported(d.args[0].pos, "loadbalance: only round_robin is supported, not weighted (meshdns does not "
                                       "read weight files)");
    plan.loadbalance = true;
    return;
  }
  if (!d.args.empty() && d.args[0].text != "round_robin") {
    return context.Error(d.args[0].pos, absl::StrCat("loadbalance: unknown policy ", d.args[0].text));
  }
  if (d.args.size() > 1) return context.Error(d.args[1].pos, "loadbalance: unknown property for round_robin");
  plan.loadbalance = true;
  for (const CorefileDirective& line : d.block) {
    if (line.name.text != "prefer") {
      context.Error(line.name.pos, absl::StrCat("loadbalance: unknown property '", line.name.text, "'"));
      continue;
    }
    for (const CorefileToken& cidr : line.args) {
      // As Go's net.ParseCIDR: an address alone is not a subnet.
      absl::StatusOr<Cidr> subnet = cidr.text.find('/') == std::string::npos
                                        ? absl::InvalidArgumentError("no /prefix length")
                                        : Cidr::Parse(cidr.text);
      if (!subnet.ok()) {
        context.Error(cidr.pos, absl::StrCat("loadbalance: invalid CIDR '", cidr.text, "': ", subnet.status().message()));
        continue;
      }
      plan.loadbalance_prefer.push_back(*subnet);
    }
  }
}

// reload [INTERVAL [JITTER]]
void PlanReload(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 2);
  // CoreDNS's bounds (plugin/reload/setup.go): checking more often than every
  // 2 s, or jittering by less than 1 s (other than not at all), is refused.
  Millis interval = 30000;
  if (!d.args.empty() && context.Duration(d.args[0], "reload interval", interval) && interval < 2000) {
    context.Error(d.args[0].pos, absl::StrCat("reload interval must be at least 2s, not ", d.args[0].text));
  }
  if (d.args.size() > 1) {
    Millis jitter = 0;
    if (context.Duration(d.args[1], "reload jitter", jitter) && jitter != 0 && jitter < 1000) {
      context.Error(d.args[1].pos, absl::StrCat("reload jitter must be 0 or at least 1s, not ", d.args[1].text));
    }
  }
  plan.reload = interval;
}

// bufsize [SIZE]: CoreDNS's default and range. meshdns caps UDP replies at
// 1232 bytes without it too (corefile_runtime: one cap per port).
void PlanBufsize(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 1);
  uint16_t size = kAdvertisedUdpSize;
  if (!d.args.empty() && !context.Number(d.args[0], "bufsize", size, 512, kMaxUdpReplySize)) return;
  plan.bufsize = size;
}

}  // namespace meshdns
