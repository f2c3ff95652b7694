// bind ADDRESS|IFACE… [{ except ADDRESS|IFACE… }] (CoreDNS plugin/bind):
// read as written; what the names mean on this machine is decided where the
// listeners are planned (config/corefile_listen.cc). Several `bind` lines in a
// block add up; each `except` applies to its own line.
#include "config/plugins/registry.h"

namespace meshdns {

void PlanBind(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  if (d.args.empty()) {
    context.Error(d.name.pos, "bind: at least one address or interface name is expected");
    return;
  }
  BindPlan bind{.to = d.args};
  for (const CorefileDirective& option : d.block) {
    if (option.name.text != "except") {
      context.Error(option.name.pos, absl::StrCat("bind: invalid option '", option.name.text, "'"));
      continue;
    }
    if (option.args.empty() || option.has_block) {
      context.Error(option.name.pos, "bind: except needs at least one address or interface name, and no block");
      continue;
    }
    // CoreDNS keeps only the last except line; every one is taken here, so
    // what a line excludes is never listened on.
    bind.except.insert(bind.except.end(), option.args.begin(), option.args.end());
  }
  plan.binds.push_back(std::move(bind));
}

}  // namespace meshdns
