// cache [TTL] [ZONE…] { success … denial … prefetch … serve_stale … serve_stale_policy …
//                      servfail … disable … keepttl }
// Read as CoreDNS's plugin/cache/setup.go reads it: what it refuses is an
// error here too; what meshdns cannot serve the same way is unsupported.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// CoreDNS's cache is 256 shards of max(CAPACITY / 256, 4) entries each.
constexpr int64_t kShards = 256, kMinPerShard = 4;
// RFC 2308 section 7.1 (CoreDNS refuses `servfail` and FAILURE_RECHECK beyond it).
constexpr Millis kFiveMinutes = 5 * 60 * 1000;

size_t EffectiveCapacity(int64_t written) { return static_cast<size_t>(std::max(written / kShards, kMinPerShard) * kShards); }

// Go's strconv.Atoi, which CoreDNS reads the numbers with: signed, decimal.
bool Integer(const CorefileToken& t, absl::string_view what, PlanContext& context, int64_t& out) {
  if (absl::SimpleAtoi(t.text, &out)) return true;
  context.Error(t.pos, absl::StrCat(what, ": '", t.text, "' is not a whole number"));
  return false;
}

// A TTL CoreDNS accepts: above zero (zero and below are reserved), or from zero for a MINTTL.
bool Ttl(const CorefileToken& t, absl::string_view what, int64_t min, PlanContext& context, uint32_t& out) {
  int64_t v = 0;
  if (!Integer(t, what, context, v)) return false;
  if (v < min) {
    context.Error(t.pos, absl::StrCat(what, " can not be ", min == 0 ? "negative" : "zero or negative", ": ", v));
    return false;
  }
  // A DNS TTL has 32 bits, so a larger cap caps nothing more.
  out = static_cast<uint32_t>(std::min<int64_t>(v, std::numeric_limits<uint32_t>::max()));
  return true;
}

bool AtMost(const CorefileToken& t, absl::string_view what, Millis limit, PlanContext& context, Millis& out) {
  if (!context.Duration(t, what, out)) return false;
  if (out <= limit) return true;
  context.Error(t.pos, absl::StrCat(what, ": ", t.text, " is more than 5m (RFC 2308 section 7.1)"));
  return false;
}

// success|denial CAPACITY [TTL [MINTTL]]
void Kind(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  const std::string& o = line.name.text;
  const bool success = o == "success";
  if (line.args.empty() || line.args.size() > 3) {
    return context.Error(line.name.pos, absl::StrCat(o, " needs CAPACITY [TTL [MINTTL]]"));
  }
  int64_t capacity = 0;
  if (Integer(line.args[0], absl::StrCat(o, " capacity"), context, capacity)) {
    (success ? c.success_capacity : c.denial_capacity) = EffectiveCapacity(capacity);
  }
  if (line.args.size() > 1) Ttl(line.args[1], "cache TTL", 1, context, success ? c.success_ttl : c.denial_ttl);
  if (line.args.size() > 2) Ttl(line.args[2], "cache min TTL", 0, context, success ? c.success_min_ttl : c.denial_min_ttl);
}

// prefetch AMOUNT [DURATION [PERCENTAGE%]]
void Prefetch(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  PrefetchPolicy p{.amount = 0, .duration = 60000, .percentage = 10};
  if (line.args.empty() || line.args.size() > 3) {
    return context.Error(line.name.pos, "prefetch needs AMOUNT [DURATION [PERCENTAGE%]]");
  }
  int64_t amount = 0;
  if (Integer(line.args[0], "prefetch amount", context, amount) && amount < 0) {
    context.Error(line.args[0].pos, absl::StrCat("prefetch amount should be positive: ", amount));
  }
  p.amount = static_cast<uint32_t>(std::clamp<int64_t>(amount, 0, std::numeric_limits<uint32_t>::max()));
  if (line.args.size() > 1) context.Duration(line.args[1], "prefetch duration", p.duration);
  if (line.args.size() > 2) {
    const CorefileToken& pct = line.args[2];
    if (!absl::EndsWith(pct.text, "%")) {
      return context.Error(pct.pos, absl::StrCat("prefetch percentage: '", pct.text, "' must end in %"));
    }
    CorefileToken number = pct;
    number.text = std::string(absl::StripSuffix(pct.text, "%"));
    context.Number(number, "prefetch percentage", p.percentage, 10, 90);
  }
  // CoreDNS prefetches only for an AMOUNT above zero.
  if (p.amount > 0) c.prefetch = p;
  else c.prefetch.reset();
}

// RESPONSE_TTL: whole seconds within a DNS TTL.
void StaleTtl(const CorefileToken& t, PlanContext& context, CachePlan& c) {
  int64_t seconds = 0;
  Millis d = 0;
  absl::string_view digits = t.text;
  // Seconds past ParseDuration's range (up to 2^32 - 1) are still a valid TTL.
  if (absl::ConsumeSuffix(&digits, "s") && absl::SimpleAtoi(digits, &seconds) && seconds >= 0) {
    d = seconds * 1000;
  } else if (!context.Duration(t, "serve_stale response TTL", d)) {
    return;
  }
  if (d % 1000 != 0) return context.Error(t.pos, "serve_stale response TTL must be a whole number of seconds");
  if (d / 1000 > std::numeric_limits<uint32_t>::max()) {
    return context.Error(t.pos, "serve_stale response TTL exceeds the DNS TTL range");
  }
  c.stale_ttl = static_cast<uint32_t>(d / 1000);
}

// serve_stale [DURATION] [immediate [RESPONSE_TTL [RECHECK]] | verify [TIMEOUT [RESPONSE_TTL [RECHECK]]]]
void ServeStale(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  Tokens args = line.args;
  if (args.size() > 5) return context.Error(args[5].pos, "serve_stale: too many arguments");
  c.serve_stale = 3600000;
  c.stale_ttl.reset();
  if (!args.empty()) context.Duration(args[0], "serve_stale", c.serve_stale);
  if (args.size() < 2) return;
  const std::string mode = absl::AsciiStrToLower(args[1].text);
  if (mode != "immediate" && mode != "verify") {
    return context.Error(args[1].pos, absl::StrCat("serve_stale: invalid refresh mode ", args[1].text,
                                                   " (immediate or verify)"));
  }
  Tokens rest = args.subspan(2);
  if (mode == "immediate" && rest.size() > 2) return context.Error(rest[2].pos, "serve_stale: too many arguments");
  if (mode == "verify" && !rest.empty()) {
    Millis timeout = 0;
    if (context.Duration(rest[0], "serve_stale verify timeout", timeout) && timeout > 0) {
      // meshdns verifies within the forward's own attempts and no shorter.
      context.Unsupported(rest[0].pos, "serve_stale: a verify timeout is not supported (meshdns waits for the "
                                       "forward's attempts, as verify with 0 does)");
    }
    rest = rest.subspan(1);
  }
  if (!rest.empty()) StaleTtl(rest[0], context, c);
  if (rest.size() > 1) {
    Millis recheck = 0;
    if (AtMost(rest[1], "serve_stale failure recheck", kFiveMinutes, context, recheck) && recheck > 0) {
      context.Unsupported(rest[1].pos, "serve_stale: a failure recheck is not supported (meshdns asks again "
                                       "on every query for an expired entry)");
    }
  }
}

// disable success|denial [ZONE…]: a later line for the same kind replaces the earlier one.
void Disable(const CorefileDirective& line, PlanContext& context, CachePlan& c) {
  if (line.args.empty()) return context.Error(line.name.pos, "disable needs success or denial");
  const std::string& kind = line.args[0].text;
  if (kind != "success" && kind != "denial") {
    return context.Error(line.args[0].pos, absl::StrCat("cache type for disable must be success or denial, not ", kind));
  }
  std::vector<DnsName> zones = context.Zones(Tokens(line.args).subspan(1));
  if (line.args.size() == 1) zones.push_back(DnsName());  // no zone: the root, every name
  (kind == "success" ? c.success_off : c.denial_off) = std::move(zones);
}

void Option(const CorefileDirective& line, PlanContext& context, CachePlan& c, bool& policy_seen) {
  const std::string& o = line.name.text;
  if (o == "success" || o == "denial") {
    Kind(line, context, c);
  } else if (o == "prefetch") {
    Prefetch(line, context, c);
  } else if (o == "serve_stale") {
    ServeStale(line, context, c);
  } else if (o == "serve_stale_policy") {
    if (policy_seen) return context.Error(line.name.pos, "serve_stale_policy can only be specified once");
    policy_seen = true;
    if (line.args.size() != 1) return context.Error(line.name.pos, "serve_stale_policy needs one policy");
    if (absl::AsciiStrToLower(line.args[0].text) != "prefer_positive") {
      return context.Error(line.args[0].pos, absl::StrCat("invalid serve_stale_policy: ", line.args[0].text));
    }
    // One entry per question: a denial replaces the answer it would have to keep.
    context.Unsupported(line.name.pos, "serve_stale_policy prefer_positive is not supported (meshdns keeps one "
                                       "entry per question, so a denial replaces the answer)");
  } else if (o == "keepttl") {
    context.MaxArgs(line, 0);
    c.keepttl = true;
  } else if (o == "servfail") {
    if (line.args.size() != 1) return context.Error(line.name.pos, "servfail needs one duration");
    Millis d = 0;
    if (AtMost(line.args[0], "servfail", kFiveMinutes, context, d)) c.servfail = d;
  } else if (o == "disable") {
    Disable(line, context, c);
  } else {
    context.Error(line.name.pos, absl::StrCat("cache: unknown option ", o));
  }
}

}  // namespace

void PlanCache(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  CachePlan c;
  c.pos = d.name.pos;
  Tokens args = d.args;
  // A first argument that reads as a number is the TTL, even a negative one; anything else is a zone.
  if (int64_t n = 0; !args.empty() && absl::SimpleAtoi(args[0].text, &n)) {
    uint32_t ttl = 0;
    if (Ttl(args[0], "cache TTL", 1, context, ttl)) c.ttl = c.success_ttl = c.denial_ttl = ttl;
    args = args.subspan(1);
  }
  c.zones = args.empty() ? context.block_zones() : context.Zones(args);
  bool policy_seen = false, stale_seen = false;
  for (const CorefileDirective& line : d.block) {
    Option(line, context, c, policy_seen);
    stale_seen = stale_seen || line.name.text == "serve_stale";
  }
  if (policy_seen && !stale_seen) context.Error(d.name.pos, "serve_stale_policy requires serve_stale");
  // A MINTTL above its TTL is no mistake: the TTL caps last (`cache 3` means 3 s).
  plan.cache = std::move(c);
}

}  // namespace meshdns
