// cache [TTL] [ZONE…] { success … denial … prefetch … serve_stale … keepttl servfail }
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// success|denial CAPACITY [TTL [MINTTL]]
void Capacity(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  const std::string& o = line.name.text;
  const bool success = o == "success";
  if (line.args.empty() || line.args.size() > 3) {
    return context.Error(line.name.pos, absl::StrCat(o, " needs CAPACITY [TTL [MINTTL]]"));
  }
  context.Number(line.args[0], absl::StrCat(o, " capacity"), success ? c.success_capacity : c.denial_capacity, 1);
  if (line.args.size() > 1) {
    context.Number(line.args[1], absl::StrCat(o, " TTL"), success ? c.success_ttl : c.denial_ttl, 1);
  }
  if (line.args.size() > 2) {
    context.Number(line.args[2], absl::StrCat(o, " MINTTL"), success ? c.success_min_ttl : c.denial_min_ttl);
  }
}

// prefetch AMOUNT [DURATION [PERCENTAGE%]]
void Prefetch(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  PrefetchPolicy p{.amount = 0, .duration = 60000, .percentage = 10};
  if (line.args.empty() || line.args.size() > 3) {
    return context.Error(line.name.pos, "prefetch needs AMOUNT [DURATION [PERCENTAGE%]]");
  }
  context.Number(line.args[0], "prefetch amount", p.amount, 1);
  if (line.args.size() > 1) context.Duration(line.args[1], "prefetch duration", p.duration);
  if (line.args.size() > 2) {
    const CorefileToken& pct = line.args[2];
    CorefileToken number = pct;
    number.text = std::string(absl::StripSuffix(pct.text, "%"));
    context.Number(number, "prefetch percentage", p.percentage, 10, 90);
  }
  c.prefetch = p;
}

void Option(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  const std::string& o = line.name.text;
  if (o == "success" || o == "denial") {
    Capacity(line, context, c);
  } else if (o == "prefetch") {
    Prefetch(line, context, c);
  } else if (o == "serve_stale") {
    c.serve_stale = 3600000;
    if (!line.args.empty()) context.Duration(line.args[0], "serve_stale", c.serve_stale);
    if (line.args.size() > 1 && line.args[1].text != "immediate" && line.args[1].text != "verify") {
      context.Error(line.args[1].pos, "serve_stale: the mode is immediate or verify");
    }
  } else if (o == "keepttl") {
    context.MaxArgs(line, 0);
    c.keepttl = true;
  } else if (o == "servfail") {
    // meshdns never caches SERVFAIL (see coredns-semantics), so only the syntax is checked.
    Millis ignored = 0;
    if (line.args.size() == 1) context.Duration(line.args[0], "servfail", ignored);
    else context.Error(line.name.pos, "servfail needs one duration");
  } else {
    context.Unsupported(line.name.pos, absl::StrCat("cache: option ", o, " is not supported"));
  }
}

}  // namespace

void PlanCache(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  CachePlan c;
  c.pos = d.name.pos;
  Tokens args = d.args;
  uint32_t ttl = 0;
  if (!args.empty() && absl::ascii_isdigit(static_cast<unsigned char>(args[0].text[0]))) {
    if (context.Number(args[0], "cache TTL", ttl, 1)) c.ttl = c.success_ttl = c.denial_ttl = ttl;
    args = args.subspan(1);
  }
  c.zones = args.empty() ? context.block_zones() : context.Zones(args);
  for (const CorefileDirective& line : d.block) Option(line, context, c);
  if (c.success_min_ttl > c.success_ttl || c.denial_min_ttl > c.denial_ttl) {
    context.Error(d.name.pos, "cache: a MINTTL is larger than its TTL");
  }
  plan.cache = std::move(c);
}

}  // namespace meshdns
