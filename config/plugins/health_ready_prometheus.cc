// The side services: health [ADDR] { lameduck D }, ready [ADDR] { monitor … },
// prometheus [ADDR]. Each listens apart from the query chain.
#include <optional>
#include <string>

#include "config/plugins/registry.h"

namespace meshdns {
namespace {

void SideService(const CorefileDirective& d, PlanContext& context, std::optional<std::string>& slot, ServerPlan& plan) {
  const std::string& n = d.name.text;
  context.MaxArgs(d, 1);
  slot = d.args.empty() ? std::string() : d.args[0].text;
  if (!d.args.empty()) {
    // What CoreDNS's net.SplitHostPort takes: :8080, host:port, [v6]:port.
    const std::string& a = d.args[0].text;
    const size_t colon = a.rfind(':');
    uint32_t port = 0;
    if (colon != std::string::npos && colon + 1 == a.size()) {
      // CoreDNS then listens on a port the kernel picks, which nobody can scrape without asking it.
      context.Error(d.args[0].pos, absl::StrCat(n, ": '", a, "' names no port (CoreDNS would pick a random one); ",
                                                "write one, as in ", a, n == "prometheus" ? "9153" : "8080"));
    } else if (colon == std::string::npos || !absl::SimpleAtoi(a.substr(colon + 1), &port) || port == 0 ||
               port > 65535) {
      context.Error(d.args[0].pos, absl::StrCat(n, ": '", a, "' is not HOST:PORT"));
    }
  }
  for (const CorefileDirective& line : d.block) {
    if (n == "health" && line.name.text == "lameduck" && line.args.size() == 1) {
      context.Duration(line.args[0], "lameduck", plan.lameduck);
    } else if (n == "ready" && line.name.text == "monitor") {
      // monitor until-ready|continuously: meshdns's readiness is always current,
      // but a value CoreDNS refuses is refused here too.
      if (line.args.size() != 1 || (line.args[0].text != "until-ready" && line.args[0].text != "continuously")) {
        context.Error(line.name.pos, "ready: monitor takes until-ready or continuously");
      }
    } else {
      context.Unsupported(line.name.pos, absl::StrCat(n, ": option ", line.name.text, " is not supported"));
    }
  }
}

}  // namespace

void PlanHealth(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  SideService(d, context, plan.health, plan);
}

void PlanReady(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  SideService(d, context, plan.ready, plan);
}

void PlanPrometheus(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  SideService(d, context, plan.prometheus, plan);
}

}  // namespace meshdns
