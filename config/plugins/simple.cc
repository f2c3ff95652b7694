// The directives with little to read: errors, log, loop, loadbalance, reload, bufsize.
#include "config/plugins/registry.h"

namespace meshdns {

void PlanErrors(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.MaxArgs(d, 1);  // errors [FILE] { consolidate … }: where CoreDNS logs; meshdns logs to stderr
  plan.errors = true;
}

void PlanLog(const CorefileDirective&, PlanContext&, ServerPlan& plan) {
  plan.log = true;  // log [NAMES…] [FORMAT] { class … }: meshdns logs every query in CoreDNS's format
}

void PlanLoop(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 0);
  plan.loop = true;
}

void PlanLoadbalance(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  context.NoBlock(d);
  context.MaxArgs(d, 1);
  if (!d.args.empty() && d.args[0].text != "round_robin") {
    context.Unsupported(d.args[0].pos, absl::StrCat("loadbalance: only round_robin is supported, not ", d.args[0].text));
  }
  plan.loadbalance = true;
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
