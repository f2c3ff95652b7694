#include "config/corefile_stanza.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/corefile.h"
#include "config/corefile_plugins.h"

namespace meshdns {
namespace {

// A mesh of two clusters whose meshdns listens on a wildcard address, as the
// DaemonSet does: only --to can say where CoreDNS reaches it.
Config TwoClusters() {
  LoadResult loaded = LoadConfigText(
      "cluster: cluster1\nlisten: ['0.0.0.0:30053']\nclusters:\n  cluster1:\n    resolvers: ['10.96.0.10']\n"
      "  cluster2:\n    resolvers: ['172.18.0.5:30053']\n",
      "mesh.yaml");
  EXPECT_TRUE(loaded.config);
  return *loaded.config;
}

std::vector<std::string> Keys(const CorefileServerBlock& block) {
  std::vector<std::string> keys;
  for (const CorefileKey& k : block.keys) keys.push_back(k.zone.ToText() + ":" + std::to_string(k.port));
  return keys;
}

const std::vector<std::string> kMeshKeys{"clusterset.local.:53", "cluster1.svc.cluster.local.:53",
                                         "cluster2.svc.cluster.local.:53"};

TEST(CorednsStanzaTest, HandsTheClustersetAndEveryClusterZoneToMeshdns) {
  const Config config = TwoClusters();
  EXPECT_FALSE(CorednsStanza(config, std::nullopt).ok()) << "a wildcard listen address says nothing";
  absl::StatusOr<std::string> stanza = CorednsStanza(config, *SocketAddress::Parse("10.96.100.53"));
  ASSERT_TRUE(stanza.ok()) << stanza.status();

  // It must read as a Corefile whose every directive meshdns (and CoreDNS) knows.
  CorefileResult read = ReadCorefileText(*stanza, "stanza");
  ASSERT_TRUE(read.corefile) << *stanza;
  EXPECT_TRUE(CheckCorefileDirectives(*read.corefile, false).errors.empty());
  ASSERT_EQ(read.corefile->blocks.size(), 1u);
  EXPECT_EQ(Keys(read.corefile->blocks[0]), kMeshKeys);
  const CorefileDirective& forward = read.corefile->blocks[0].directives[1];
  EXPECT_EQ(forward.name.text, "forward");
  ASSERT_EQ(forward.args.size(), 2u);
  EXPECT_EQ(forward.args[1].text, "10.96.100.53:53");

  LoadResult specific = LoadConfigText(
      "cluster: c1\nlisten: ['127.10.9.2:30053']\nclusters:\n  c1:\n    resolvers: ['127.10.9.1']\n", "m.yaml");
  ASSERT_TRUE(specific.config);
  absl::StatusOr<std::string> local = CorednsStanza(*specific.config, std::nullopt);
  ASSERT_TRUE(local.ok());
  EXPECT_NE(local->find("forward . 127.10.9.2:30053"), std::string::npos) << *local;
}

TEST(NodeLocalStanzaTest, ForwardsTheMeshLikeTheCachesClusterLocalBlock) {
  absl::StatusOr<std::string> stanza =
      NodeLocalStanza(TwoClusters(), *SocketAddress::Parse("10.233.0.53"), {"169.254.25.10"});
  ASSERT_TRUE(stanza.ok()) << stanza.status();
  CorefileResult read = ReadCorefileText(*stanza, "node-local");
  ASSERT_TRUE(read.corefile) << *stanza;
  ASSERT_EQ(read.corefile->blocks.size(), 1u);
  const CorefileServerBlock& block = read.corefile->blocks[0];
  EXPECT_EQ(Keys(block), kMeshKeys);
  std::vector<std::string> directives;
  for (const CorefileDirective& d : block.directives) directives.push_back(d.name.text);
  EXPECT_EQ(directives,
            (std::vector<std::string>{"errors", "cache", "reload", "loop", "bind", "forward", "prometheus"}));
  const CorefileDirective& bind = block.directives[4];
  ASSERT_EQ(bind.args.size(), 1u);
  EXPECT_EQ(bind.args[0].text, "169.254.25.10");

  // What each plugin means, read by the same code `serve --corefile` runs.
  CorefilePlan plan = PlanCorefile(*read.corefile);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].ToString();
  ASSERT_EQ(plan.servers.size(), 1u);
  const ServerPlan& server = plan.servers[0];
  EXPECT_TRUE(server.errors);
  EXPECT_TRUE(server.loop);
  EXPECT_TRUE(server.reload.has_value());
  EXPECT_EQ(server.prometheus, ":9253");
  ASSERT_TRUE(server.cache);
  EXPECT_EQ(server.cache->success_capacity, 9984u);
  EXPECT_EQ(server.cache->success_ttl, 30u);
  EXPECT_EQ(server.cache->denial_capacity, 9984u);
  EXPECT_EQ(server.cache->denial_ttl, 5u);
  ASSERT_EQ(server.forwards.size(), 1u);
  EXPECT_TRUE(server.forwards[0].from.IsRoot());
  ASSERT_EQ(server.forwards[0].to.size(), 1u);
  EXPECT_EQ(server.forwards[0].Addresses()[0].ToString(), "10.233.0.53:53");
  EXPECT_TRUE(server.forwards[0].force_tcp);

  // Every directive the stanza writes, bind included, is one meshdns runs.
  for (const ConfigError& e : CheckCorefileDirectives(*read.corefile, false).errors) ADD_FAILURE() << e.ToString();
}

TEST(NodeLocalStanzaTest, BindsEveryAddressTheCacheListensOn) {
  // Upstream's iptables setup binds the link-local address and the kube-dns
  // ClusterIP it intercepts.
  absl::StatusOr<std::string> stanza = NodeLocalStanza(TwoClusters(), *SocketAddress::Parse("10.96.0.53:5353"),
                                                       {"169.254.20.10", "10.96.0.10", "fd00::10"});
  ASSERT_TRUE(stanza.ok()) << stanza.status();
  EXPECT_NE(stanza->find("\n    bind 169.254.20.10 10.96.0.10 fd00::10\n"), std::string::npos) << *stanza;
  EXPECT_NE(stanza->find("forward . 10.96.0.53:5353 {"), std::string::npos) << *stanza;
}

TEST(NodeLocalStanzaTest, RefusesWhatCoreDnsWouldOnlyRefuseOnEveryNode) {
  const Config config = TwoClusters();
  const SocketAddress to = *SocketAddress::Parse("10.233.0.53");
  EXPECT_FALSE(NodeLocalStanza(config, to, {}).ok());
  EXPECT_FALSE(NodeLocalStanza(config, to, {"169.254.25.10:53"}).ok()) << "bind takes no port";
  EXPECT_FALSE(NodeLocalStanza(config, to, {"nodelocaldns"}).ok());
  EXPECT_FALSE(NodeLocalStanza(config, to, {"169.254.25.10", ""}).ok()) << "a trailing comma";
  EXPECT_FALSE(NodeLocalStanza(config, std::nullopt, {"169.254.25.10"}).ok()) << "wildcard listen, no --to";
}

TEST(KubesprayZonesTest, FillsTheInventoryVariablesKubesprayTemplatesRead) {
  absl::StatusOr<std::string> vars = KubesprayZones(TwoClusters(), *SocketAddress::Parse("10.233.0.53"));
  ASSERT_TRUE(vars.ok()) << vars.status();
  const YAML::Node doc = YAML::Load(*vars);
  const std::vector<std::string> zones{"clusterset.local", "cluster1.svc.cluster.local", "cluster2.svc.cluster.local"};
  for (const auto& [variable, cache] : {std::pair{"nodelocaldns_external_zones", 30}, {"coredns_external_zones", 5}}) {
    SCOPED_TRACE(variable);
    ASSERT_TRUE(doc[variable].IsSequence()) << *vars;
    ASSERT_EQ(doc[variable].size(), 1u);
    const YAML::Node entry = doc[variable][0];
    EXPECT_EQ(entry["zones"].as<std::vector<std::string>>(), zones);
    EXPECT_EQ(entry["nameservers"].as<std::vector<std::string>>(), std::vector<std::string>{"10.233.0.53"});
    EXPECT_EQ(entry["cache"].as<int>(), cache);
    EXPECT_EQ(entry.size(), 3u) << "only keys the templates read";
  }
  absl::StatusOr<std::string> other_port = KubesprayZones(TwoClusters(), *SocketAddress::Parse("10.233.0.53:5353"));
  ASSERT_TRUE(other_port.ok());
  EXPECT_EQ(YAML::Load(*other_port)["coredns_external_zones"][0]["nameservers"][0].as<std::string>(),
            "10.233.0.53:5353");
}

}  // namespace
}  // namespace meshdns
