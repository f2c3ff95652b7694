// hosts [FILE [ZONE…]] { IP NAME… ttl reload no_reverse fallthrough }
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

// A bare IPv4 or IPv6 address (no port, no brackets).
bool IsIp(const std::string& text) {
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text);
  return a.ok() && text.find('[') == std::string::npos && (a->v6 || text.find(':') == std::string::npos);
}

}  // namespace

void PlanHosts(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  HostsPlan h;
  h.pos = d.name.pos;
  if (!d.args.empty()) h.file = d.args[0].text;
  h.zones = d.args.size() > 1 ? context.Zones(Tokens(d.args).subspan(1)) : context.block_zones();
  for (const CorefileDirective& line : d.block) {
    const std::string& o = line.name.text;
    if (o == "ttl" && line.args.size() == 1) {
      context.Number(line.args[0], "ttl", h.ttl, 1, 65535);  // CoreDNS: 0 < ttl <= 65535
    } else if (o == "reload" && line.args.size() == 1) {
      context.Duration(line.args[0], "reload", h.reload);
    } else if (o == "no_reverse") {
      context.MaxArgs(line, 0);
      h.no_reverse = true;
    } else if (o == "fallthrough") {
      h.fallthrough = context.Zones(line.args);
    } else if (IsIp(o) && h.fallthrough) {  // CoreDNS's setup.go takes no entry after fallthrough
      context.Error(line.name.pos, absl::StrCat("hosts: inline entry ", o, " after fallthrough; write entries first"));
    } else if (IsIp(o)) {  // an inline entry: IP NAME…
      if (line.args.empty()) context.Error(line.name.pos, absl::StrCat("hosts: ", o, " needs at least one name"));
      h.entries.push_back(HostsPlan::Entry{o, context.Zones(line.args), line.name.pos});
    } else {
      context.Error(line.name.pos, absl::StrCat("hosts: '", o, "' is neither an option nor an IP address"));
    }
  }
  plan.hosts = std::move(h);
}

}  // namespace meshdns
