#include "config/corefile.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace meshdns {
namespace {

CorefileReadOptions Env(std::map<std::string, std::string> vars, std::map<std::string, std::string> files = {}) {
  CorefileReadOptions o;
  o.env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  o.read_file = [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  return o;
}

Corefile Read(const std::string& text, const CorefileReadOptions& options = Env({})) {
  CorefileResult r = ReadCorefileText(text, "Corefile", options);
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  return r.corefile.value_or(Corefile{});
}

// The first error, as FILE:LINE:COL: message.
std::string FirstError(const std::string& text, const CorefileReadOptions& options = Env({})) {
  CorefileResult r = ReadCorefileText(text, "Corefile", options);
  EXPECT_FALSE(r.corefile.has_value());
  return r.errors.empty() ? "" : r.errors.front().ToString();
}

std::vector<std::string> Texts(const std::vector<CorefileToken>& tokens) {
  std::vector<std::string> out;
  for (const CorefileToken& t : tokens) out.push_back(t.text);
  return out;
}

// CoreDNS's own default Corefile for Kubernetes (kubeadm's).
TEST(CorefileTest, ReadsTheKubernetesDefault) {
  const Corefile c = Read(R"(.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
)");
  ASSERT_EQ(c.blocks.size(), 1u);
  ASSERT_EQ(c.blocks[0].keys.size(), 1u);
  EXPECT_TRUE(c.blocks[0].keys[0].zone.IsRoot());
  EXPECT_EQ(c.blocks[0].keys[0].port, 53);
  const auto& d = c.blocks[0].directives;
  ASSERT_EQ(d.size(), 10u);
  EXPECT_EQ(d[1].name.text, "health");
  ASSERT_TRUE(d[1].has_block);
  EXPECT_EQ(d[1].block[0].name.text, "lameduck");
  EXPECT_EQ(Texts(d[3].args), (std::vector<std::string>{"cluster.local", "in-addr.arpa", "ip6.arpa"}));
  EXPECT_EQ(Texts(d[3].block[1].args), (std::vector<std::string>{"in-addr.arpa", "ip6.arpa"}));
  EXPECT_EQ(d[5].name.text, "forward");
  EXPECT_EQ(Texts(d[5].args), (std::vector<std::string>{".", "/etc/resolv.conf"}));
  EXPECT_EQ(d[6].name.text, "cache");
  EXPECT_EQ(d[6].name.pos.line, 16);
  EXPECT_EQ(d[6].name.pos.column, 5);
}

// The stretch-cluster pattern: per peer a block that strips the cluster
// label and forwards to the peer's NodePort, plus the clusterset template.
TEST(CorefileTest, ReadsTheMeshPattern) {
  const Corefile c = Read(R"(cluster2.svc.cluster.local.:53 {
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 192.0.2.34:30053 192.0.2.35:30053 {
        expire 10s
        policy round_robin
    }
    cache 10
}
clusterset.local:53 {
    template IN ANY clusterset.local {
        match "^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$"
        answer "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"
    }
}
)");
  ASSERT_EQ(c.blocks.size(), 2u);
  EXPECT_EQ(c.blocks[0].keys[0].zone.ToText(), "cluster2.svc.cluster.local.");
  const CorefileDirective& rewrite = c.blocks[0].directives[0];
  EXPECT_EQ(Texts(rewrite.args), (std::vector<std::string>{"stop"}));
  EXPECT_EQ(Texts(rewrite.block[0].args),
            (std::vector<std::string>{"substring", "cluster2.svc.cluster.local", "svc.cluster.local"}));
  EXPECT_EQ(Texts(c.blocks[0].directives[1].block[1].args), (std::vector<std::string>{"round_robin"}));
  const CorefileDirective& tmpl = c.blocks[1].directives[0];
  EXPECT_EQ(Texts(tmpl.args), (std::vector<std::string>{"IN", "ANY", "clusterset.local"}));
  EXPECT_EQ(tmpl.block[0].args[0].text.substr(0, 10), "^(?P<host>");
  EXPECT_EQ(tmpl.block[1].args[0].text.substr(0, 16), "{{ .Name }} 60 I") << "{{ is not an env placeholder";
}

TEST(CorefileTest, KeysBySpaceCommaAndContinuedLinesWithSchemesAndPorts) {
  const Corefile c = Read("dns://Cluster2.SVC.cluster.local:5300 cluster3.svc.cluster.local.,\n"
                          "  example.org,example.com {\n  log\n}\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  const auto& k = c.blocks[0].keys;
  ASSERT_EQ(k.size(), 4u);
  EXPECT_EQ(k[0].zone.ToText(), "cluster2.svc.cluster.local.");
  EXPECT_EQ(k[0].port, 5300);
  EXPECT_EQ(k[1].zone.ToText(), "cluster3.svc.cluster.local.");
  EXPECT_EQ(k[1].port, 53);
  EXPECT_EQ(k[2].zone.ToText(), "example.org.");
  EXPECT_EQ(k[3].zone.ToText(), "example.com.");
  EXPECT_EQ(k[2].pos.line, 2);
}

TEST(CorefileTest, NetworkKeysAreTheirReverseZonesAndRfc2317NamesStayNames) {
  // CoreDNS's README (Reverse Zones) and plugin/normalize.go.
  const Corefile c = Read("10.0.0.0/23:1053 fd00::/64 32/27.104.21.172.in-addr.arpa {\n  log\n}\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  std::vector<std::string> zones;
  for (const CorefileKey& k : c.blocks[0].keys) zones.push_back(k.zone.ToText() + ":" + std::to_string(k.port));
  EXPECT_EQ(zones, (std::vector<std::string>{"0.0.10.in-addr.arpa.:1053", "1.0.10.in-addr.arpa.:1053",
                                             "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.:53",
                                             "32/27.104.21.172.in-addr.arpa.:53"}));
}

TEST(CorefileTest, SnippetsAndImportedFiles) {
  const CorefileReadOptions o = Env({}, {{"/etc/coredns/peers.conf", "cluster3.svc.cluster.local {\n import common\n}\n"},
                                         {"/etc/coredns/extra/a.conf", "loadbalance\n"}});
  CorefileResult r = ReadCorefileText(R"((common) {
    cache 10
    errors
}
cluster2.svc.cluster.local {
    import common
    import extra/a.conf
    forward . 192.0.2.1
}
import peers.conf
)",
                                      "/etc/coredns/Corefile", o);
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  ASSERT_TRUE(r.corefile);
  ASSERT_EQ(r.corefile->blocks.size(), 2u);
  const auto& d = r.corefile->blocks[0].directives;
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].name.text, "cache");
  EXPECT_EQ(Texts(d[0].args), (std::vector<std::string>{"10"}));
  EXPECT_EQ(d[0].name.pos.line, 2) << "a snippet's tokens keep the snippet's position";
  EXPECT_EQ(d[2].name.text, "loadbalance");
  EXPECT_EQ(d[2].name.pos.file, "/etc/coredns/extra/a.conf");
  EXPECT_EQ(d[3].name.text, "forward");
  const auto& peer = r.corefile->blocks[1];
  EXPECT_EQ(peer.keys[0].zone.ToText(), "cluster3.svc.cluster.local.");
  ASSERT_EQ(peer.directives.size(), 2u) << "the snippet, imported from the imported file";
  EXPECT_EQ(peer.directives[1].name.text, "errors");
}

TEST(CorefileTest, EnvironmentVariablesWithDefaults) {
  const Corefile c = Read("{$ZONE}:{$PORT:5353} {\n  forward . {$PEER}:30053 \"{$QUOTED}\"\n  cache {$UNSET}\n}\n",
                          Env({{"ZONE", "cluster2.svc.cluster.local"}, {"PEER", "192.0.2.34"}, {"QUOTED", "x y"}}));
  ASSERT_EQ(c.blocks.size(), 1u);
  EXPECT_EQ(c.blocks[0].keys[0].zone.ToText(), "cluster2.svc.cluster.local.");
  EXPECT_EQ(c.blocks[0].keys[0].port, 5353);
  EXPECT_EQ(Texts(c.blocks[0].directives[0].args), (std::vector<std::string>{".", "192.0.2.34:30053", "x y"}));
  EXPECT_EQ(Texts(c.blocks[0].directives[1].args), (std::vector<std::string>{""})) << "unset reads as empty";
}

TEST(CorefileTest, QuotesCommentsAndClosingBraceOnTheLastLine) {
  const Corefile c = Read("# a mesh\n.:53 { # the root\n"
                          "  template IN TXT example.org {\n    answer \"{{ .Name }} 5 IN TXT \\\"a # b\\\"\"  # c\n"
                          "    answer \"two\nlines\" }\n  log }\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  const auto& d = c.blocks[0].directives;
  ASSERT_EQ(d.size(), 2u);
  ASSERT_EQ(d[0].block.size(), 2u);
  EXPECT_EQ(d[0].block[0].args[0].text, "{{ .Name }} 5 IN TXT \"a # b\"");
  EXPECT_EQ(d[0].block[1].args[0].text, "two\nlines");
  EXPECT_EQ(d[1].name.text, "log");
  EXPECT_EQ(d[1].name.pos.line, 7);
}

TEST(CorefileTest, OneBlockMayLeaveOutItsBraces) {
  const Corefile c = Read("example.org:1053\nforward . 192.0.2.1\ncache 10\n");
  ASSERT_EQ(c.blocks.size(), 1u);
  EXPECT_EQ(c.blocks[0].keys[0].port, 1053);
  EXPECT_EQ(c.blocks[0].directives.size(), 2u);
}

TEST(CorefileTest, EachErrorNamesItsPosition) {
  const struct {
    std::string text;
    std::string error;
  } cases[] = {
      {".:53 {\n  template IN A x {\n    answer \"unterminated\n  }\n}\n", "Corefile:3:12: unterminated quoted string"},
      {".:53 {\n  log\n", "Corefile:1:6: this { is never closed"},
      {".:53 {\n  forward . x {\n    expire 1s\n  }\n  cache 5 {\n}\n", "Corefile:1:6: this { is never closed"},
      {".:53 {\n  log\n}\n}\n", "Corefile:4:1: unexpected }"},
      {".:99999 {\n}\n", "Corefile:1:1: server block key .:99999: bad port"},
      {"tls://.:853 {\n}\n", "Corefile:1:1: server block key tls://.:853: only dns:// is served"},
      {"::/0 {\n}\n", "Corefile:1:1: server block key ::/0: invalid CIDR ::/0"},
      {"example.org:dns {\n}\n", "Corefile:1:1: server block key example.org:dns: bad port"},
      {".:53 {\n  import nothere\n}\n", "Corefile:2:10: import: no snippet named nothere and no file nothere"},
      {".:53 {\n  {\n}\n", "Corefile:2:3: unexpected { (a block must follow a directive on its line)"},
      {".:53 {\n}\nexample.org\nlog\n", "Corefile:3:1: expected { after the server block's keys"},
      {"(snip) {\n  log\n", "Corefile:1:1: snippet (snip) has no closing }"},
      {".:53 {\n  import a b\n}\n", "Corefile:2:12: import takes one argument"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(FirstError(c.text).substr(0, c.error.size()), c.error) << c.text;
  }
}

TEST(CorefileTest, ImportCyclesAreStopped) {
  const CorefileReadOptions o = Env({}, {{"/a.conf", "import b.conf\n"}, {"/b.conf", "import a.conf\n"}});
  CorefileResult r = ReadCorefileText("import a.conf\n", "/Corefile", o);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors.front().message.find("nest deeper"), std::string::npos) << r.errors.front().ToString();
}

TEST(CorefileTest, UnsupportedDirectivesAreRefusedWithAdviceOrSkippedOnRequest) {
  const Corefile c = Read(".:53 {\n  errors\n  kubernetes cluster.local\n  erratic\n  forward . 10.96.0.10\n}\n");
  DirectiveCheck strict = CheckCorefileDirectives(c, /*ignore_unsupported=*/false);
  ASSERT_EQ(strict.errors.size(), 2u);
  EXPECT_TRUE(strict.warnings.empty());
  EXPECT_EQ(strict.errors[0].ToString().rfind("Corefile:3:3: directive kubernetes is not supported: ", 0), 0u);
  EXPECT_NE(strict.errors[0].message.find("forward this zone to the cluster's kube-dns"), std::string::npos);
  EXPECT_EQ(strict.errors[1].ToString(), "Corefile:4:3: unknown directive erratic");

  DirectiveCheck lenient = CheckCorefileDirectives(c, /*ignore_unsupported=*/true);
  EXPECT_TRUE(lenient.errors.empty());
  EXPECT_EQ(lenient.warnings.size(), 2u);
}

}  // namespace
}  // namespace meshdns
