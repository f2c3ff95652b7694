#include "config/corefile_listen.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

// An address a block listens on; `unbound` (no bind) is the wildcard.
struct Host {
  SocketAddress ip;  // port not set
  uint32_t scope_id = 0;
  SourcePos pos;     // the key or bind token that named it
  bool unbound = false;
  std::string Text() const {
    return unbound ? "" : scope_id ? absl::StrCat(ip.HostString(), "%", scope_id) : ip.HostString();
  }
};

class Planner {
 public:
  Planner(const Interfaces& interfaces, ListenPlan& out) : interfaces_(interfaces), out_(out) {}

  void Run(const CorefilePlan& plan) {
    for (size_t b = 0; b < plan.servers.size(); ++b) {
      const ServerPlan& server = plan.servers[b];
      std::optional<std::vector<Host>> hosts = Hosts(server);
      if (!hosts) continue;
      for (const CorefileKey& key : server.keys) {
        for (const Host& host : *hosts) Serve(b, key, host, server.view.has_value());
      }
    }
    if (!out_.errors.empty()) return;
    // Groups with the same blocks answer alike: one server, several addresses.
    for (const Group& g : groups_) {
      auto same = std::find(out_.servers.begin(), out_.servers.end(), g.blocks);
      const size_t server = same - out_.servers.begin();
      if (same == out_.servers.end()) out_.servers.push_back(g.blocks);
      out_.listeners.push_back(ListenAddress{.address = g.address, .scope_id = g.scope_id,
                                             .server = static_cast<uint16_t>(server), .origin = g.origin});
    }
  }

 private:
  struct Group {
    SocketAddress address;
    uint32_t scope_id = 0;
    std::string origin;
    ServerBlocks blocks;
  };

  void Error(const SourcePos& pos, std::string message) { out_.errors.push_back(pos.Error(std::move(message))); }

  // The block's addresses: its binds' names resolved, minus their excepts;
  // the wildcard without a bind.
  std::optional<std::vector<Host>> Hosts(const ServerPlan& server) {
    if (server.binds.empty()) return std::vector<Host>{Host{.ip = *SocketAddress::Parse("0.0.0.0"), .pos = server.pos,
                                                            .unbound = true}};
    std::vector<Host> all;
    bool ok = true;
    for (const BindPlan& bind : server.binds) {
      std::vector<Host> to, except;
      for (const CorefileToken& t : bind.to) ok = Resolve(t, to) && ok;
      for (const CorefileToken& t : bind.except) ok = Resolve(t, except) && ok;
      if (!ok) continue;
      const size_t before = all.size();
      for (const Host& h : to) {
        // By address alone: `except fe80::1` takes out the interface's fe80::1%eth0 too.
        const bool excepted = std::any_of(except.begin(), except.end(),
                                          [&](const Host& e) { return e.ip.HostString() == h.ip.HostString(); });
        if (!excepted) all.push_back(h);
      }
      if (all.size() == before) {
        // CoreDNS would start without a listener for the block.
        Error(bind.to.front().pos, "bind: every address of this line is excepted: the block would listen nowhere");
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return all;
  }

  // An address as written, or every address of the interface of that name.
  bool Resolve(const CorefileToken& t, std::vector<Host>& out) {
    if (auto it = interfaces_.find(t.text); it != interfaces_.end()) {
      if (it->second.empty()) {
        Error(t.pos, absl::StrCat("bind: interface ", t.text, " has no address to listen on"));
        return false;
      }
      for (const InterfaceAddress& a : it->second) {
        absl::StatusOr<SocketAddress> ip = SocketAddress::Parse(a.ip);
        if (ip.ok()) out.push_back(Host{.ip = *ip, .scope_id = a.scope_id, .pos = t.pos});
      }
      return true;
    }
    absl::StatusOr<SocketAddress> ip = SocketAddress::Parse(t.text);
    if (!ip.ok() || ip->port != 53 || t.text.find_first_of("[]") != std::string::npos ||
        (!ip->v6 && t.text.find(':') != std::string::npos)) {
      Error(t.pos, absl::StrCat("bind: '", t.text, "' is not an IP address or the name of an interface of this machine"));
      return false;
    }
    out.push_back(Host{.ip = *ip, .pos = t.pos});
    return true;
  }

  // CoreDNS's zoneOverlap: a zone once per address and port, and a zone
  // served unbound on a port is served there on every address. A block with
  // a view (`filtered`) may share its zone and address with any number of
  // others (register.go checks it against the unfiltered blocks without
  // registering it): the server tries them in file order.
  void Serve(size_t block, const CorefileKey& key, const Host& host, bool filtered) {
    const std::string zone = key.zone.ToText();
    const auto exact = std::make_tuple(zone, host.Text(), key.port);
    const std::string where = absl::StrCat(zone, ":", key.port, host.unbound ? "" : absl::StrCat(" on ", host.Text()));
    const auto it = served_.find(exact);
    if (it != served_.end() && !filtered) {
      // The same zone and port twice is legal only on different addresses.
      Error(key.pos, absl::StrCat("zone ", zone, ":", key.port, host.unbound ? "" : absl::StrCat(" on ", host.Text()),
                                  " is already defined at line ", it->second, " (only blocks with a view may repeat it)"));
      return;
    }
    const auto unbound = std::make_tuple(zone, std::string(), key.port);
    if (it == served_.end() && ports_.count(std::make_tuple(zone, key.port)) &&
        (host.unbound || served_.count(unbound) > 0)) {
      Error(key.pos, absl::StrCat("cannot serve ", where, ": another block serves ", zone, ":", key.port,
                                  host.unbound ? " on a bound address" : " on every address",
                                  "; bind both blocks or neither"));
      return;
    }
    if (!filtered) {
      served_.emplace(exact, key.pos.line);
      ports_.insert(std::make_tuple(zone, key.port));
    }
    SocketAddress address = host.ip;
    address.port = key.port;
    for (Group& g : groups_) {
      if (g.address.ToString() == address.ToString() && g.scope_id == host.scope_id) {
        if (g.blocks.back() != block) g.blocks.push_back(block);
        return;
      }
    }
    groups_.push_back(Group{address, host.scope_id,
                            absl::StrCat(host.pos.file, ":", host.pos.line, ":", host.pos.column), {block}});
  }

  const Interfaces& interfaces_;
  ListenPlan& out_;
  std::map<std::tuple<std::string, std::string, uint16_t>, int> served_;          // zone, host, port → line
  std::set<std::tuple<std::string, uint16_t>> ports_;                             // zone, port
  std::vector<Group> groups_;
};

}  // namespace

Interfaces MachineInterfaces() {
  Interfaces out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    std::vector<InterfaceAddress>& addresses = out[i->ifa_name];  // listed even without an address
    if (i->ifa_addr == nullptr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof(text));
      addresses.push_back(InterfaceAddress{text});
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      // Only a link-local address needs its interface to be bound.
      addresses.push_back(InterfaceAddress{text, IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ? in6->sin6_scope_id : 0});
    }
  }
  freeifaddrs(list);
  return out;
}

ListenPlan PlanListeners(const CorefilePlan& plan, const Interfaces& interfaces) {
  ListenPlan out;
  Planner(interfaces, out).Run(plan);
  return out;
}

}  // namespace meshdns
