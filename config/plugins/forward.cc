// forward FROM TO… { … }: plain DNS resolvers, with every option of CoreDNS's
// forward README either honoured or refused by name (plugin/forward/setup.go
// is the reference for what CoreDNS itself refuses, and how).
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// CoreDNS's limit on upstreams per forward, after expansion.
constexpr size_t kMaxUpstreams = 15;
// CoreDNS's default max_connect_attempts: two per upstream.
constexpr uint32_t kConnectAttemptsPerUpstream = 2;

// Reads one TO into `out`; true when it was a resolv.conf without nameserver lines.
bool Upstream(const CorefileToken& t, PlanContext& context, std::vector<ForwardTo>& out) {
  absl::string_view text = t.text;
  if (absl::StartsWith(text, "tls://") || absl::StartsWith(text, "https://")) {
    context.Unsupported(t.pos, absl::StrCat("forward: ", text, ": only plain DNS upstreams are supported"));
    return false;
  }
  text = absl::StripPrefix(text, "dns://");
  if (absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text); a.ok()) {
    out.push_back(ForwardTo{.addresses = {*a}});
    return false;
  }
  // Not an address: a resolv.conf-style file, as in CoreDNS.
  absl::StatusOr<std::vector<SocketAddress>> servers = ReadResolvConf(std::string(text));
  if (servers.ok()) {
    out.push_back(ForwardTo{.addresses = *std::move(servers), .resolv_conf = std::string(text)});
    return false;
  }
  // A readable file without nameserver lines adds no upstream, as in CoreDNS
  // (setup_test.go TestSetupResolvconf); PlanForward refuses a forward left with none.
  if (absl::IsFailedPrecondition(servers.status())) return true;
  // CoreDNS (1.14.4 on) looks up any other TO as a host name at startup.
  if (!absl::StrContains(text, '/') && DnsName::FromText(text).ok()) {
    context.Unsupported(t.pos, absl::StrCat("forward: ", text, ": host name upstreams are not supported ",
                                            "(neither an address nor a readable resolv.conf); write its address"));
    return false;
  }
  context.Error(t.pos, absl::StrCat("forward: '", text, "' is neither an address nor a readable resolv.conf: ",
                                    servers.status().message()));
  return false;
}

// `health_check DURATION [no_rec] [domain FQDN]`, refused as setup.go refuses it.
void HealthCheckLine(const CorefileDirective& line, PlanContext& context, HealthCheck& out) {
  if (!context.Duration(line.args[0], "health_check", out.interval)) return;
  for (size_t i = 1; i < line.args.size(); ++i) {
    const CorefileToken& a = line.args[i];
    if (a.text == "no_rec") {
      out.recursion_desired = false;
    } else if (a.text == "domain") {
      if (++i == line.args.size()) return context.Error(a.pos, "health_check: domain needs an FQDN after it");
      absl::StatusOr<DnsName> name = DnsName::FromText(line.args[i].text);
      if (!name.ok()) {
        return context.Error(line.args[i].pos,
                             absl::StrCat("health_check: invalid domain name ", line.args[i].text));
      }
      out.domain = *name;
    } else {
      return context.Error(a.pos, absl::StrCat("health_check: unknown option ", a.text));
    }
  }
}

// CoreDNS reads rcodes by their miekg/dns names, in any case. Those past 15
// live in EDNS and never in a header meshdns reads, so they are refused.
std::optional<uint8_t> Rcode(absl::string_view name) {
  static constexpr absl::string_view kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                                 "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"};
  const std::string upper = absl::AsciiStrToUpper(name);
  for (uint8_t i = 0; i < std::size(kNames); ++i) {
    if (upper == kNames[i]) return i;
  }
  return std::nullopt;
}

void Failover(const CorefileDirective& line, PlanContext& context, uint16_t& out) {
  if (line.args.empty()) return context.Error(line.name.pos, "forward: failover needs at least one RCODE");
  for (const CorefileToken& a : line.args) {
    const std::optional<uint8_t> rcode = Rcode(a.text);
    if (!rcode) return context.Error(a.pos, absl::StrCat("failover: ", a.text, " is not a valid rcode"));
    if (*rcode == 0) return context.Error(a.pos, "failover: NoError cannot be used in failover");
    out |= static_cast<uint16_t>(1u << *rcode);
  }
}

// Options that change what is answered and that meshdns cannot run: refused
// even with --ignore-unsupported, which must never change an answer.
bool AnswerChanging(const std::string& o) { return o == "next" || o == "next_on_nodata"; }

// Options meshdns does not run that leave answers alone (where queries leave
// from, how connections are kept, TLS and DoH of upstreams already refused).
bool NotRun(const std::string& o) {
  return o == "doh_method" || o == "source_address" ||
         o == "max_idle_conns" || o == "max_age" || o == "resolver";
}

void Option(const CorefileDirective& line, PlanContext& context, ForwardPlan& f) {
  const std::string& o = line.name.text;
  const bool one_arg = line.args.size() == 1;
  if (o == "except") {
    f.except = context.Zones(line.args);
  } else if (o == "force_tcp" || o == "prefer_udp" || o == "failfast_all_unhealthy_upstreams") {
    // failfast: meshdns never sends to a pool with none in rotation (PlanAttempts), so it always fails fast.
    context.MaxArgs(line, 0);
    if (o == "force_tcp") f.force_tcp = true;
    if (o == "prefer_udp") f.prefer_udp = true;
  } else if (o == "expire" && one_arg) {
    context.Duration(line.args[0], "expire", f.expire);
  } else if (o == "max_fails" && one_arg) {
    context.Number(line.args[0], "max_fails", f.max_fails);
  } else if (o == "max_connect_attempts" && one_arg) {
    uint32_t n = 0;
    if (context.Number(line.args[0], "max_connect_attempts", n)) f.max_connect_attempts = n;
  } else if (o == "health_check" && !line.args.empty()) {
    HealthCheckLine(line, context, f.health_check);
  } else if (o == "read_timeout" && one_arg) {
    if (context.Duration(line.args[0], "read_timeout", f.read_timeout) && f.read_timeout <= 0) {
      context.Error(line.args[0].pos, absl::StrCat("read_timeout must be positive: ", line.args[0].text));
    }
  } else if (o == "failover") {
    Failover(line, context, f.failover_rcodes);
  } else if (o == "policy" && one_arg) {
    const std::string& p = line.args[0].text;
    if (p == "random") f.policy = Policy::kRandom;
    else if (p == "round_robin") f.policy = Policy::kRoundRobin;
    else if (p == "sequential") f.policy = Policy::kSequential;
    else context.Error(line.args[0].pos, absl::StrCat("policy: '", p, "' is not random, round_robin or sequential"));
  } else if (o == "max_concurrent" && one_arg) {
    context.Number(line.args[0], "max_concurrent", f.max_concurrent);
  } else if (o == "except" || o == "expire" || o == "max_fails" || o == "max_connect_attempts" ||
             o == "health_check" || o == "read_timeout" || o == "policy" || o == "max_concurrent") {
    context.Error(line.name.pos, absl::StrCat("forward: ", o, " takes one argument"));
  } else if (AnswerChanging(o)) {
    context.Error(line.name.pos, absl::StrCat("forward: option ", o,
                                              " is not supported (meshdns does not hand a query on to the next "
                                              "forward), and leaving it out would change answers"));
  } else if (o == "tls" || o == "tls_servername") {
    context.Unsupported(line.name.pos, absl::StrCat("forward: ", o, " is not supported (plain DNS upstreams only)"));
  } else if (NotRun(o)) {
    context.Unsupported(line.name.pos, absl::StrCat("forward: option ", o, " is not supported"));
  } else {
    context.Error(line.name.pos, absl::StrCat("forward: unknown property '", o, "'"));
  }
}

}  // namespace

std::vector<SocketAddress> ForwardPlan::Addresses() const {
  std::vector<SocketAddress> out;
  for (const ForwardTo& t : to) out.insert(out.end(), t.addresses.begin(), t.addresses.end());
  return out;
}

uint32_t ForwardPlan::FailedAttemptCap() const {
  return max_connect_attempts.value_or(kConnectAttemptsPerUpstream * static_cast<uint32_t>(Addresses().size()));
}

void PlanForward(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  ForwardPlan f;
  f.pos = d.name.pos;
  if (d.args.size() < 2) return context.Error(d.name.pos, "forward needs FROM and at least one TO");
  std::optional<DnsName> from = context.Zone(d.args[0]);
  if (!from) return;
  f.from = *from;
  bool empty_file = false;
  for (const CorefileToken& to : Tokens(d.args).subspan(1)) empty_file = Upstream(to, context, f.to) || empty_file;
  if (f.to.empty() && empty_file) {
    context.Error(d.args[1].pos, "forward: no upstream address (no nameserver in the files named)");
  }
  if (f.Addresses().size() > kMaxUpstreams) {
    context.Error(d.args[1].pos, absl::StrCat("forward: more than ", kMaxUpstreams, " upstreams"));
  }
  for (const CorefileDirective& line : d.block) Option(line, context, f);
  plan.forwards.push_back(std::move(f));
}

}  // namespace meshdns
