// The plugins that answer by themselves: local, any, chaos, whoami, read as
// their setup.go files read them.
#include <algorithm>

#include "config/plugins/registry.h"

namespace meshdns {
namespace {

#ifndef MESHDNS_VERSION
#error "MESHDNS_VERSION must be defined (config/CMakeLists.txt)"
#endif
// CoreDNS answers CoreDNS-<version>; meshdns names itself.
constexpr char kChaosVersion[] = "meshdns-" MESHDNS_VERSION;

void UnknownProperties(const CorefileDirective& d, PlanContext& context) {
  for (const CorefileDirective& line : d.block) {
    context.Error(line.name.pos, absl::StrCat(d.name.text, ": unknown property '", line.name.text, "'"));
  }
}

}  // namespace

// local { localhost_prefix on|off }
void PlanLocal(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.MaxArgs(d, 0);
  bool prefix = plan.local.value_or(true);
  for (const CorefileDirective& line : d.block) {
    if (line.name.text != "localhost_prefix") {
      context.Error(line.name.pos, absl::StrCat("local: unknown property '", line.name.text, "'"));
    } else if (line.args.size() != 1) {
      context.Error(line.name.pos, "local: localhost_prefix takes one argument, on or off");
    } else if (line.args[0].text == "on" || line.args[0].text == "off") {
      prefix = line.args[0].text == "on";
    } else {
      context.Error(line.args[0].pos,
                    absl::StrCat("local: localhost_prefix expects 'on' or 'off', got '", line.args[0].text, "'"));
    }
  }
  plan.local = prefix;
}

void PlanAny(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.MaxArgs(d, 0);
  UnknownProperties(d, context);
  plan.any = true;
}

// chaos [VERSION [AUTHORS…]]
void PlanChaos(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  UnknownProperties(d, context);
  ChaosPlan chaos{.version = d.args.empty() ? kChaosVersion : d.args[0].text};
  for (size_t i = 1; i < d.args.size(); ++i) chaos.authors.push_back(d.args[i].text);
  std::sort(chaos.authors.begin(), chaos.authors.end());
  chaos.authors.erase(std::unique(chaos.authors.begin(), chaos.authors.end()), chaos.authors.end());
  plan.chaos = std::move(chaos);
}

void PlanWhoami(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 0);
  plan.whoami = true;
}

}  // namespace meshdns
