// The one list of Corefile directives meshdns knows: those it runs, each with
// the parser that reads it into its slot of a ServerPlan, and those it does
// not, each with what to do instead. `check`, `serve` and `import` all ask it
// (corefile_plugins.cc walks it). Immutable static data; safe from any thread.
#pragma once

#include "absl/strings/string_view.h"
#include "config/corefile.h"
#include "config/corefile_plugins.h"
#include "config/plugins/plan_context.h"

namespace meshdns {

// Reads one directive (its arguments and block) into the block's plan.
using PlanDirective = void (*)(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);

struct DirectiveEntry {
  absl::string_view name;
  PlanDirective plan = nullptr;  // null: meshdns does not run this directive
  bool once_per_block = false;   // as CoreDNS: a second one in a server block is an error
  // Adds a DNS handler to the block's chain, as all but CoreDNS's side
  // services (reload, bind, health, ready) do: a block with none is REFUSED.
  bool handler = true;
  absl::string_view instead;     // not run: what to do instead
  // Not run, and leaving it out would change who may ask or what is
  // answered: refused even with --ignore-unsupported.
  bool never_left_out = false;
};

// The entry for a directive name, or null for a name meshdns does not know.
const DirectiveEntry* FindDirective(absl::string_view name);

// The parsers, one file each under config/plugins/ (the small ones share simple.cc).
void PlanRewrite(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanAcl(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanTemplate(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanForward(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanCache(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanHosts(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanHealth(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanReady(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanPrometheus(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanReload(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanBind(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanBufsize(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanErrors(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanLog(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanLoop(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanLoadbalance(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanLocal(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanAny(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanChaos(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanWhoami(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);
void PlanView(const CorefileDirective& d, PlanContext& context, ServerPlan& plan);

}  // namespace meshdns
