// Listen planning of a Corefile (config/corefile_listen.h): blocks grouped by
// listen address as CoreDNS's register.go groups them, `bind` with addresses,
// interface names and except (CoreDNS plugin/bind), and the configurations
// CoreDNS refuses. The interfaces are the test's, not this machine's.
#include "config/corefile_listen.h"

#include <gtest/gtest.h>

#include <string>

#include "config/corefile_runtime.h"

namespace meshdns {
namespace {

DnsName N(absl::string_view text) { return *DnsName::FromText(text); }

const Interfaces kInterfaces = {
    {"lo", {{"127.0.0.1"}, {"::1"}}},
    {"eth0", {{"192.0.2.10"}, {"fe80::1", 2}}},
    {"down0", {}},
};

struct Planned {
  ListenPlan plan;
  std::string errors;
  // "address server" per listener.
  std::vector<std::string> Listeners() const {
    std::vector<std::string> out;
    for (const ListenAddress& l : plan.listeners) out.push_back(l.ToString() + " " + std::to_string(l.server));
    return out;
  }
};

Planned Plan(const std::string& text) {
  CorefileResult r = ReadCorefileText(text, "Corefile");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  Planned out;
  if (!r.corefile) return out;
  const CorefilePlan plan = PlanCorefile(*r.corefile);
  for (const ConfigError& e : plan.errors) out.errors += e.ToString() + "\n";
  out.plan = PlanListeners(plan, kInterfaces);
  for (const ConfigError& e : out.plan.errors) out.errors += e.ToString() + "\n";
  return out;
}

using Strings = std::vector<std::string>;

TEST(CorefileListenTest, EachPortIsAServerOfItsOwnBlocks) {
  const Planned p = Plan(".:1053 {\n forward . 127.0.0.1\n}\nexample.org:1054 {\n forward . 127.0.0.2\n}\n"
                         "example.org:1053 {\n forward . 127.0.0.3\n}\n");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.Listeners(), (Strings{"0.0.0.0:1053 0", "0.0.0.0:1054 1"}));
  EXPECT_EQ(p.plan.servers, (std::vector<ServerBlocks>{{0, 2}, {1}}));
  EXPECT_EQ(p.plan.listeners[1].origin, "Corefile:4:1") << "the key that asked for the port";
}

TEST(CorefileListenTest, OneBlockWithKeysOnTwoPortsBelongsToBothServers) {
  const Planned p = Plan("a.example:1053 b.example:1054 {\n forward . 127.0.0.1\n}\nc.example:1054 {\n"
                         " forward . 127.0.0.2\n}\n");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.Listeners(), (Strings{"0.0.0.0:1053 0", "0.0.0.0:1054 1"}));
  EXPECT_EQ(p.plan.servers, (std::vector<ServerBlocks>{{0}, {0, 1}}));
}

TEST(CorefileListenTest, BindListensOnEachAddressAndAddressesWithTheSameBlocksShareAServer) {
  // NodeLocal DNSCache's shape: every block binds the same two addresses.
  const Planned p = Plan(
      "cluster.local:53 {\n bind 169.254.20.10 10.96.0.10\n forward . 10.96.0.11\n}\n"
      ".:53 {\n bind 169.254.20.10\n bind 10.96.0.10\n forward . /etc/resolv.conf\n}\n");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.Listeners(), (Strings{"169.254.20.10:53 0", "10.96.0.10:53 0"}));
  EXPECT_EQ(p.plan.servers, (std::vector<ServerBlocks>{{0, 1}}));
  EXPECT_EQ(p.plan.listeners[0].origin, "Corefile:2:7") << "the bind token";
}

TEST(CorefileListenTest, TheSameZoneOnTwoAddressesIsTwoServers) {
  const Planned p = Plan("example.org {\n bind 127.0.0.1\n forward . 192.0.2.1\n}\n"
                         "example.org {\n bind ::1\n forward . 192.0.2.2\n}\n");
  ASSERT_EQ(p.errors, "");
  EXPECT_EQ(p.Listeners(), (Strings{"127.0.0.1:53 0", "[::1]:53 1"}));
  EXPECT_EQ(p.plan.servers, (std::vector<ServerBlocks>{{0}, {1}}));
}

TEST(CorefileListenTest, InterfaceNamesAreTheirAddressesLessTheExcepted) {
  // plugin/bind/README.md's examples, with this test's interfaces.
  EXPECT_EQ(Plan(". {\n bind lo\n}\n").Listeners(), (Strings{"127.0.0.1:53 0", "[::1]:53 0"}));
  EXPECT_EQ(Plan(". {\n bind lo {\n  except 127.0.0.1\n }\n}\n").Listeners(), (Strings{"[::1]:53 0"}));
  EXPECT_EQ(Plan(". {\n bind eth0 {\n  except 192.0.2.10\n }\n}\n").Listeners(), (Strings{"[fe80::1%2]:53 0"}))
      << "a link-local address keeps its interface";
  EXPECT_EQ(Plan(". {\n bind eth0 {\n  except fe80::1\n }\n}\n").Listeners(), (Strings{"192.0.2.10:53 0"}))
      << "except names an address without its interface";
  EXPECT_EQ(Plan(". {\n bind lo eth0 {\n  except eth0\n }\n}\n").Listeners(), (Strings{"127.0.0.1:53 0", "[::1]:53 0"}));
  // An except applies to its own bind line only.
  EXPECT_EQ(Plan(". {\n bind 127.0.0.1 {\n  except 127.0.0.1 ::1\n }\n bind ::1\n}\n").errors,
            "Corefile:2:7: bind: every address of this line is excepted: the block would listen nowhere\n");
}

TEST(CorefileListenTest, WhatCannotBeHonouredIsAnErrorAtItsPosition) {
  EXPECT_EQ(Plan(". {\n bind eth9\n}\n").errors,
            "Corefile:2:7: bind: 'eth9' is not an IP address or the name of an interface of this machine\n");
  EXPECT_EQ(Plan(". {\n bind down0\n}\n").errors, "Corefile:2:7: bind: interface down0 has no address to listen on\n");
  EXPECT_EQ(Plan(". {\n bind 127.0.0.1:53\n}\n").errors,
            "Corefile:2:7: bind: '127.0.0.1:53' is not an IP address or the name of an interface of this machine\n");
  EXPECT_EQ(Plan(". {\n bind\n}\n").errors, "Corefile:2:2: bind: at least one address or interface name is expected\n");
  EXPECT_EQ(Plan(". {\n bind 127.0.0.1 {\n  only 127.0.0.1\n }\n}\n").errors,
            "Corefile:3:3: bind: invalid option 'only'\n");
}

TEST(CorefileListenTest, ZonesServedTwiceOnAnAddressAreRefusedAsCoreDnsRefusesThem) {
  // core/dnsserver/register.go validateZonesAndListeningAddresses.
  EXPECT_EQ(Plan("example.org {\n forward . 192.0.2.1\n}\nexample.org:53 {\n forward . 192.0.2.2\n}\n").errors,
            "Corefile:4:1: zone example.org.:53 is already defined at line 1 (only blocks with a view may repeat it)\n");
  EXPECT_EQ(Plan(". {\n bind 127.0.0.1 127.0.0.1\n}\n").errors,
            "Corefile:1:1: zone .:53 on 127.0.0.1 is already defined at line 1 (only blocks with a view may repeat it)\n");
  EXPECT_EQ(Plan(". {\n bind 127.0.0.1\n}\n.:53 {\n forward . 192.0.2.1\n}\n").errors,
            "Corefile:4:1: cannot serve .:53: another block serves .:53 on a bound address; bind both blocks or "
            "neither\n");
  EXPECT_EQ(Plan(". {\n forward . 192.0.2.1\n}\n. {\n bind ::1\n}\n").errors,
            "Corefile:4:1: cannot serve .:53 on ::1: another block serves .:53 on every address; bind both blocks "
            "or neither\n");
  // Different zones on one port, one bound and one not: CoreDNS starts (its
  // README's "listener contention"); so does meshdns, where the kernel gives
  // the bound address's queries to the bound listener.
  const Planned contention = Plan("a.example {\n bind 127.0.0.1\n}\nexample {\n forward . 192.0.2.1\n}\n");
  EXPECT_EQ(contention.errors, "");
  EXPECT_EQ(contention.Listeners(), (Strings{"127.0.0.1:53 0", "0.0.0.0:53 1"}));
}

TEST(CorefileListenTest, TheCompiledProgramDispatchesPerServer) {
  CorefileResult r = ReadCorefileText(
      ".:1053 {\n forward . 127.0.0.1\n}\nexample.org:1054 {\n forward . 127.0.0.2\n}\n"
      "example.org:1053 {\n forward . 127.0.0.3\n}\n",
      "Corefile");
  ASSERT_TRUE(r.corefile);
  CorefileLoad c = CompileCorefile(*r.corefile, {.interfaces = &kInterfaces});
  ASSERT_TRUE(c.config);
  const Program& p = c.serving.program;
  ASSERT_EQ(p.server_count(), 2u);
  EXPECT_EQ(c.serving.pools[p.Dispatch(N("www.example.org"), 0)->forwards[0].pool].resolvers[0].ToString(),
            "127.0.0.3:53");
  EXPECT_EQ(c.serving.pools[p.Dispatch(N("www.example.org"), 1)->forwards[0].pool].resolvers[0].ToString(),
            "127.0.0.2:53");
  EXPECT_EQ(p.Dispatch(N("example.com"), 0)->name, ".");
  EXPECT_EQ(p.Dispatch(N("example.com"), 1), nullptr) << "the port 1054 server has no root block: REFUSED";
  EXPECT_EQ(p.Dispatch(N("example.com"), 2), nullptr) << "no such server";
  ASSERT_EQ(c.config->listeners.size(), 2u);
  EXPECT_EQ(c.config->listen.size(), 2u);
}

TEST(CorefileListenTest, SideServicesOnTwoAddressesAreRefusedNotDropped) {
  // CoreDNS opens an endpoint per address; meshdns serves one of each, so a
  // second address would leave its scraper failing: refused, with the reason.
  auto errors = [](const std::string& text) {
    CorefileResult r = ReadCorefileText(text, "Corefile");
    EXPECT_TRUE(r.corefile);
    std::string out;
    if (!r.corefile) return out;
    CorefileLoad c = CompileCorefile(*r.corefile, {.interfaces = &kInterfaces});
    for (const ConfigError& e : c.errors) out += e.ToString() + "\n";
    return out;
  };
  EXPECT_EQ(errors(".:1053 {\n prometheus :9153\n forward . 127.0.0.1\n}\n"
                   ".:1054 {\n prometheus :9253\n forward . 127.0.0.1\n}\n"),
            "Corefile:6:2: prometheus: a second address 0.0.0.0:9253; meshdns serves one prometheus endpoint per process, "
            "already at 0.0.0.0:9153 (use the same address in every block)\n");
  EXPECT_EQ(errors(".:1053 {\n health :8080\n prometheus :9153\n forward . 127.0.0.1\n}\n"
                   ".:1054 {\n health :8080\n prometheus :9153\n forward . 127.0.0.1\n}\n"),
            "")
      << "the same address in every block is one endpoint";
}

TEST(CorefileListenTest, ANetworkKeyServesItsReverseZones) {
  CorefileResult r = ReadCorefileText(
      "10.0.0.0/23:1053 {\n forward . 127.0.0.1\n}\n.:1053 {\n forward . 127.0.0.2\n}\n", "Corefile");
  ASSERT_TRUE(r.corefile);
  CorefileLoad c = CompileCorefile(*r.corefile, {.interfaces = &kInterfaces});
  ASSERT_TRUE(c.config);
  const Program& p = c.serving.program;
  EXPECT_EQ(p.Dispatch(N("5.1.0.10.in-addr.arpa"), 0)->name, "0.0.10.in-addr.arpa");
  EXPECT_EQ(p.Dispatch(N("5.0.0.10.in-addr.arpa"), 0)->name, "0.0.10.in-addr.arpa");
  EXPECT_EQ(p.Dispatch(N("5.2.0.10.in-addr.arpa"), 0)->name, ".") << "outside the /23";
}

}  // namespace
}  // namespace meshdns
