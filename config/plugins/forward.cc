// forward FROM TO… { except … force_tcp prefer_udp expire max_fails
// health_check policy max_concurrent }: plain DNS resolvers only.
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// CoreDNS's limit on upstreams per forward, after expansion.
constexpr size_t kMaxUpstreams = 15;

void Upstream(const CorefileToken& t, PlanContext& context, std::vector<ForwardTo>& out) {
  absl::string_view text = t.text;
  if (absl::StartsWith(text, "tls://") || absl::StartsWith(text, "https://")) {
    return context.Unsupported(t.pos, absl::StrCat("forward: ", text, ": only plain DNS upstreams are supported"));
  }
  text = absl::StripPrefix(text, "dns://");
  if (absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text); a.ok()) {
    out.push_back(ForwardTo{.addresses = {*a}});
    return;
  }
  // Not an address: a resolv.conf-style file, as in CoreDNS.
  absl::StatusOr<std::vector<SocketAddress>> servers = ReadResolvConf(std::string(text));
  if (!servers.ok()) {
    return context.Error(t.pos, absl::StrCat("forward: '", text, "' is neither an address nor a readable resolv.conf: ",
                                             servers.status().message()));
  }
  out.push_back(ForwardTo{.addresses = *std::move(servers), .resolv_conf = std::string(text)});
}

void Option(const CorefileDirective& line, PlanContext& context, ForwardPlan& f) {
  const std::string& o = line.name.text;
  const bool one_arg = line.args.size() == 1;
  if (o == "except") {
    f.except = context.Zones(line.args);
  } else if (o == "force_tcp" || o == "prefer_udp") {
    context.MaxArgs(line, 0);
    (o == "force_tcp" ? f.force_tcp : f.prefer_udp) = true;
  } else if (o == "expire" && one_arg) {
    context.Duration(line.args[0], "expire", f.expire);
  } else if (o == "max_fails" && one_arg) {
    context.Number(line.args[0], "max_fails", f.max_fails);
  } else if (o == "health_check" && !line.args.empty()) {
    // health_check DURATION [no_rec] [domain FQDN]: meshdns probes with its own name.
    context.Duration(line.args[0], "health_check", f.health_check);
  } else if (o == "policy" && one_arg) {
    const std::string& p = line.args[0].text;
    if (p == "random") f.policy = Policy::kRandom;
    else if (p == "round_robin") f.policy = Policy::kRoundRobin;
    else if (p == "sequential") f.policy = Policy::kSequential;
    else context.Error(line.args[0].pos, absl::StrCat("policy: '", p, "' is not random, round_robin or sequential"));
  } else if (o == "max_concurrent" && one_arg) {
    context.Number(line.args[0], "max_concurrent", f.max_concurrent);
  } else if (o == "tls" || o == "tls_servername") {
    context.Unsupported(line.name.pos, absl::StrCat("forward: ", o, " is not supported (plain DNS upstreams only)"));
  } else if (o == "except" || o == "expire" || o == "max_fails" || o == "health_check" || o == "policy" ||
             o == "max_concurrent") {
    context.Error(line.name.pos, absl::StrCat("forward: ", o, " takes one argument"));
  } else {
    context.Unsupported(line.name.pos, absl::StrCat("forward: option ", o, " is not supported"));
  }
}

}  // namespace

std::vector<SocketAddress> ForwardPlan::Addresses() const {
  std::vector<SocketAddress> out;
  for (const ForwardTo& t : to) out.insert(out.end(), t.addresses.begin(), t.addresses.end());
  return out;
}

void PlanForward(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  ForwardPlan f;
  f.pos = d.name.pos;
  if (d.args.size() < 2) return context.Error(d.name.pos, "forward needs FROM and at least one TO");
  std::optional<DnsName> from = context.Zone(d.args[0]);
  if (!from) return;
  f.from = *from;
  for (const CorefileToken& to : Tokens(d.args).subspan(1)) Upstream(to, context, f.to);
  if (f.Addresses().size() > kMaxUpstreams) {
    context.Error(d.args[1].pos, absl::StrCat("forward: more than ", kMaxUpstreams, " upstreams"));
  }
  for (const CorefileDirective& line : d.block) Option(line, context, f);
  plan.forwards.push_back(std::move(f));
}

}  // namespace meshdns
