#include "config/corefile_plugins.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "re2/re2.h"
#include "tests/config/plan_testing.h"

namespace meshdns {
namespace {

CorefilePlan Plan(const std::string& text) { return testing::PlanText(text); }

std::string FirstError(const std::string& text) { return testing::FirstPlanError(text); }

TEST(CorefilePluginsTest, TheMeshPatternPlansEveryPlugin) {
  CorefilePlan p = Plan(R"(cluster2.svc.cluster.local:53 {
    errors
    cache 10
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 172.18.0.5:30053 172.18.0.6:30053 {
        expire 10s
        policy round_robin
    }
}
clusterset.local:53 {
    template IN ANY clusterset.local {
        match "^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$"
        answer "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"
    }
}
)");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  ASSERT_EQ(p.servers.size(), 2u);
  const ServerPlan& peer = p.servers[0];
  EXPECT_TRUE(peer.errors);
  ASSERT_EQ(peer.rewrites.size(), 1u);
  const RewriteRule& r = peer.rewrites[0];
  EXPECT_TRUE(r.stop);
  EXPECT_EQ(r.match, RewriteRule::Match::kSubstring);
  EXPECT_EQ(r.from, "cluster2.svc.cluster.local.");
  EXPECT_EQ(r.to, "svc.cluster.local.");
  EXPECT_TRUE(r.answer_auto);
  ASSERT_TRUE(peer.cache);
  EXPECT_EQ(peer.cache->success_ttl, 10u);
  EXPECT_EQ(peer.cache->denial_ttl, 10u);
  EXPECT_EQ(peer.cache->zones[0].ToText(), "cluster2.svc.cluster.local.") << "zones default to the block's";
  ASSERT_EQ(peer.forwards.size(), 1u);
  EXPECT_EQ(peer.forwards[0].to.size(), 2u);
  EXPECT_EQ(peer.forwards[0].Addresses()[1].ToString(), "172.18.0.6:30053");
  EXPECT_EQ(peer.forwards[0].expire, 10000);
  EXPECT_EQ(peer.forwards[0].policy, Policy::kRoundRobin);

  const ServerPlan& clusterset = p.servers[1];
  ASSERT_EQ(clusterset.templates.size(), 1u);
  const TemplateRule& t = clusterset.templates[0];
  EXPECT_EQ(t.qclass, 1);
  EXPECT_EQ(t.qtype, 255);
  EXPECT_EQ(t.zones[0].ToText(), "clusterset.local.");
  EXPECT_EQ(t.match.size(), 1u);
  EXPECT_EQ(t.answer.size(), 1u);
}

TEST(CorefilePluginsTest, TheKubernetesDefaultsOperationalPlugins) {
  const std::string resolv = ::testing::TempDir() + "/resolv.conf";
  std::ofstream(resolv) << "nameserver 192.0.2.53\nnameserver 2001:db8::53\n";
  CorefilePlan p = Plan(".:53 {\n  errors\n  health {\n    lameduck 5s\n  }\n  ready\n  prometheus :9153\n"
                        "  forward . " + resolv + " {\n    max_concurrent 1000\n  }\n  cache 30\n  loop\n"
                        "  reload\n  loadbalance\n  bufsize\n}\n");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  ASSERT_EQ(p.servers.size(), 1u);
  const ServerPlan& s = p.servers[0];
  EXPECT_EQ(s.health, "");
  EXPECT_EQ(s.lameduck, 5000);
  EXPECT_EQ(s.ready, "");
  EXPECT_EQ(s.prometheus, ":9153");
  EXPECT_EQ(s.reload, 30000);
  EXPECT_EQ(s.bufsize, 1232) << "bufsize without SIZE: CoreDNS's default";
  EXPECT_TRUE(s.loop && s.loadbalance && s.errors);
  ASSERT_EQ(s.forwards.size(), 1u);
  EXPECT_EQ(s.forwards[0].Addresses().size(), 2u) << "a resolv.conf upstream is its nameservers";
  EXPECT_EQ(s.forwards[0].max_concurrent, 1000u);
  EXPECT_EQ(s.forwards[0].policy, Policy::kRandom) << "CoreDNS's default policy";
  EXPECT_EQ(s.cache->success_ttl, 30u);
  EXPECT_EQ(s.cache->denial_ttl, 30u);
  std::remove(resolv.c_str());
}

TEST(CorefilePluginsTest, RewriteNameMatchTypesAreNormalisedAsCoreDnsDoes) {
  CorefilePlan p = Plan(R"(. {
    rewrite name foo.example.ORG bar.example.org
    rewrite continue name prefix foo bar
    rewrite name suffix .Cluster2.svc.cluster.local .svc.cluster.local answer auto
    rewrite name regex (.*)\.c2\.example {1}.example answer name (.*)\.example {1}.c2.example answer value (.*)\.example {1}.c2.example
    rewrite stop {
        name regex ^(a)-(b)\.x$ {2}.{1}.y
        answer auto
    }
    rewrite ttl exact short.example 30-60
    rewrite ttl long.example -30
}
)");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  ASSERT_EQ(p.servers.size(), 1u);
  const auto& r = p.servers[0].rewrites;
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].match, RewriteRule::Match::kExact);
  EXPECT_EQ(r[0].from, "foo.example.org.");
  EXPECT_TRUE(r[0].answer_auto) << "implicit for exact";
  EXPECT_FALSE(r[1].stop);
  EXPECT_EQ(r[1].from, "foo.") << "prefix gets a trailing dot too";
  EXPECT_EQ(r[1].to, "bar.");
  EXPECT_EQ(r[2].from, ".cluster2.svc.cluster.local.");
  EXPECT_TRUE(r[2].answer_auto);
  ASSERT_EQ(r[3].answers.size(), 2u);
  EXPECT_FALSE(r[3].answers[0].value);
  EXPECT_TRUE(r[3].answers[1].value);
  EXPECT_EQ(r[3].answers[1].to, "{1}.c2.example.");
  EXPECT_EQ(r[3].to, "{1}.example.");
  EXPECT_EQ(r[4].match, RewriteRule::Match::kRegex) << "block form: one rule from the block's tokens";
  EXPECT_EQ(r[4].regex->NumberOfCapturingGroups(), 2);
  EXPECT_TRUE(r[4].answer_auto);
  EXPECT_EQ(r[5].field, RewriteRule::Field::kTtl);
  EXPECT_EQ(r[5].ttl_min, 30u);
  EXPECT_EQ(r[5].ttl_max, 60u);
  EXPECT_EQ(r[6].ttl_min, 0u);
  EXPECT_EQ(r[6].ttl_max, 30u);
}

// plugin/rewrite/cname_target.go newCNAMERule: exact names normalized (#6922),
// the other match types lower-cased and kept as written.
TEST(CorefilePluginsTest, RewriteCnameRulesAreReadAsCoreDnsReadsThem) {
  CorefilePlan p = Plan(". {\n  rewrite stop cname exact NewYork.foo.com vpce-123.amazonaws.com\n"
                        "  rewrite continue cname Suffix .PROD. .staging\n  rewrite cname a.example b.example\n"
                        "  rewrite cname regex (.*)\\.WEB\\. {1}.app.\n}\n");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  const std::vector<RewriteRule>& rules = p.servers.at(0).rewrites;
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].field, RewriteRule::Field::kCname);
  EXPECT_TRUE(rules[0].stop);
  EXPECT_EQ(rules[0].from, "newyork.foo.com.");
  EXPECT_EQ(rules[0].to, "vpce-123.amazonaws.com.");
  EXPECT_FALSE(rules[1].stop);
  EXPECT_EQ(rules[1].match, RewriteRule::Match::kSuffix);
  EXPECT_EQ(rules[1].from, ".prod.");
  EXPECT_EQ(rules[1].to, ".staging");
  EXPECT_EQ(rules[2].match, RewriteRule::Match::kExact);
  EXPECT_EQ(rules[2].from, "a.example.");
  ASSERT_TRUE(rules[3].regex);
  EXPECT_EQ(rules[3].regex->pattern(), "(.*)\\.web\\.") << "compiled lower-cased, as CoreDNS compiles it";
}

TEST(CorefilePluginsTest, TemplateCacheAndHostsOptions) {
  CorefilePlan p = Plan(R"(example.org {
    template IN A {
        match ^ip-(?P<a>[0-9]+)\.example\.org\.$ ^host-(?P<a>[0-9]+)\.example\.org\.$
        answer "{{ .Name }} 60 IN A 10.0.0.{{ .Group.a }}"
        authority "example.org. 60 IN NS ns.example.org."
        rcode NOERROR
        fallthrough example.org
    }
    cache 300 example.org {
        success 5000 600 10
        denial 100 30
        prefetch 3 2m 20%
        serve_stale 1h verify
    }
    hosts /etc/hosts.mesh example.org {
        10.0.0.1 a.example.org b.example.org
        2001:db8::1 a.example.org
        ttl 60
        reload 0
        no_reverse
        fallthrough
    }
}
)");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  const ServerPlan& s = p.servers.at(0);
  ASSERT_EQ(s.templates.size(), 1u);
  EXPECT_EQ(s.templates[0].qtype, 1);
  EXPECT_EQ(s.templates[0].match.size(), 2u);
  EXPECT_EQ(s.templates[0].authority.size(), 1u);
  ASSERT_TRUE(s.templates[0].fallthrough);
  EXPECT_EQ(s.templates[0].fallthrough->size(), 1u);
  ASSERT_TRUE(s.cache);
  EXPECT_EQ(s.cache->success_capacity, 4864u) << "whole shards of 256, as CoreDNS sizes 5000";
  EXPECT_EQ(s.cache->success_ttl, 600u);
  EXPECT_EQ(s.cache->success_min_ttl, 10u);
  EXPECT_EQ(s.cache->denial_ttl, 30u);
  ASSERT_TRUE(s.cache->prefetch);
  EXPECT_EQ(s.cache->prefetch->percentage, 20u);
  EXPECT_EQ(s.cache->serve_stale, 3600000);
  ASSERT_TRUE(s.hosts);
  EXPECT_EQ(s.hosts->file, "/etc/hosts.mesh");
  ASSERT_EQ(s.hosts->entries.size(), 2u);
  EXPECT_EQ(s.hosts->entries[0].names.size(), 2u);
  EXPECT_EQ(s.hosts->ttl, 60u);
  EXPECT_EQ(s.hosts->reload, 0);
  EXPECT_TRUE(s.hosts->no_reverse);
  EXPECT_TRUE(s.hosts->fallthrough && s.hosts->fallthrough->empty());
}

// CoreDNS's README examples: template's "Resolve .invalid as NXDOMAIN" with
// ederror, and loadbalance's "Subnet Prioritization" (v1.14.7).
TEST(CorefilePluginsTest, TemplateEderrorAndLoadbalancePrefer) {
  CorefilePlan p = Plan(R"cf(. {
    loadbalance round_robin {
        prefer 10.9.20.0/24 192.168.1.0/24
        prefer 2001:db8::/32
    }
    template ANY ANY invalid {
      rcode NXDOMAIN
      authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
      ederror 21 "Blocked according to RFC2606"
    }
    template IN A example {
      ederror 4
    }
}
)cf");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  const ServerPlan& s = p.servers.at(0);
  EXPECT_TRUE(s.loadbalance);
  ASSERT_EQ(s.loadbalance_prefer.size(), 3u);
  EXPECT_TRUE(s.loadbalance_prefer[0].Contains(Cidr::Parse("10.9.20.7")->base));
  EXPECT_FALSE(s.loadbalance_prefer[0].Contains(Cidr::Parse("10.9.21.7")->base));
  EXPECT_TRUE(s.loadbalance_prefer[2].Contains(Cidr::Parse("2001:db8:abcd::1")->base));
  ASSERT_EQ(s.templates.size(), 2u);
  ASSERT_TRUE(s.templates[0].ederror);
  EXPECT_EQ(s.templates[0].ederror->code, 21);
  EXPECT_EQ(s.templates[0].ederror->reason, "Blocked according to RFC2606");
  ASSERT_TRUE(s.templates[1].ederror);
  EXPECT_EQ(s.templates[1].ederror->code, 4);
  EXPECT_EQ(s.templates[1].ederror->reason, "");
}

TEST(CorefilePluginsTest, EachMistakeNamesItsPosition) {
  const struct {
    const char* corefile;
    const char* error;  // line:col: start of the message
  } cases[] = {
      {". {\n  rewrite name regex ^(a)$ {2}.x\n}\n", "2:28: rewrite: '{2}.x' refers to a group"},
      {". {\n  rewrite cname wildcard a.example. b.example.\n}\n", "2:17: rewrite cname: unknown match type 'wildcard'"},
      {". {\n  rewrite cname exact a.x b.x c.x\n}\n", "2:31: rewrite cname: expected [MATCH] FROM TO"},
      {". {\n  rewrite cname regex (bad x\n}\n", "2:23: bad regex"},
      {". {\n  rewrite edns0 local set 0xffee 0xabcdefg\n}\n", "2:34: rewrite edns0: '0xabcdefg' is not valid hex data"},
      {". {\n  rewrite edns0 subnet set 24 129\n}\n", "2:31: rewrite edns0: invalid IPv6 bit mask length"},
      {". {\n  rewrite type A\n}\n", "2:16: rewrite type: expected exactly FROM and TO"},
      {". {\n  rewrite type XY WV\n}\n", "2:16: rewrite type: invalid type 'XY'"},
      {". {\n  rewrite class IN WV\n}\n", "2:20: rewrite class: invalid class 'WV'"},
      {". {\n  rewrite rcode a.x BADVERS NOERROR\n}\n", "2:21: rewrite rcode: extended RCODE 'BADVERS'"},
      {". {\n  rewrite unknown-action name a.x b.x\n}\n", "2:11: rewrite: invalid rule type 'unknown-action'"},
      {". {\n  rewrite name exact a.x b.x answer name (bad c\n}\n", "2:42: bad regex"},
      {". {\n  rewrite name a.x b.x answer auto\n}\n", "2:24: rewrite: answer options need an explicit match type"},
      {". {\n  rewrite ttl a.x 60-30\n}\n", "2:19: rewrite ttl: '60-30' is not SECONDS or MIN-MAX"},
      {". {\n  forward . 192.0.2.1 {\n    policy fastest\n  }\n}\n", "3:12: policy: 'fastest' is not random"},
      {". {\n  forward . tls://192.0.2.1\n}\n", "2:13: forward: tls://192.0.2.1: only plain DNS"},
      {". {\n  forward . 192.0.2.1 {\n    max_fails many\n  }\n}\n", "3:15: max_fails: 'many' is not a whole number"},
      {". {\n  forward . 192.0.2.1 {\n    expire\n  }\n}\n", "3:5: forward: expire takes one argument"},
      {". {\n  forward .\n}\n", "2:3: forward needs FROM and at least one TO"},
      {". {\n  cache 10\n  cache 20\n}\n", "3:3: cache can only be used once per server block"},
      {". {\n  cache 0\n}\n", "2:9: cache TTL can not be zero or negative: 0"},
      {". {\n  cache {\n    prefetch 2 1m 95%\n  }\n}\n", "3:19: prefetch percentage: '95' is not a whole number from 10 to 90"},
      {". {\n  cache {\n    disable sometimes\n  }\n}\n", "3:13: cache type for disable must be success or denial"},
      {". {\n  template XX A\n}\n", "2:12: template: 'XX' is not a class"},
      {". {\n  template IN NOTATYPE\n}\n", "2:15: template: 'NOTATYPE' is not a type"},
      {". {\n  template IN A {\n    rcode MAYBE\n  }\n}\n", "3:11: rcode: 'MAYBE' is not a response code"},
      {". {\n  template IN A {\n    match ^(?P<a>x)$\n    answer \"{{ .Group.b }} 60 IN A 10.0.0.1\"\n  }\n}\n",
       "2:3: template: "},
      {". {\n  hosts {\n    not-an-ip a.example\n  }\n}\n", "3:5: hosts: 'not-an-ip' is neither an option"},
      {". {\n  prometheus localhost\n}\n", "2:14: prometheus: 'localhost' is not HOST:PORT"},
      // CoreDNS's TestPrometheusParse: `prometheus /foo` and `prometheus a b c` fail.
      {". {\n  prometheus /foo\n}\n", "2:14: prometheus: '/foo' is not HOST:PORT"},
      {". {\n  prometheus a b c\n}\n", "2:16: prometheus: unexpected argument b"},
      {". {\n  prometheus localhost:\n}\n", "2:14: prometheus: 'localhost:' names no port"},
      {". {\n  loadbalance weighted\n}\n", "2:15: loadbalance: only round_robin"},
      {". {\n  loadbalance random\n}\n", "2:15: loadbalance: unknown policy random"},
      {". {\n  loadbalance round_robin x\n}\n", "2:27: loadbalance: unknown property for round_robin"},
      {". {\n  loadbalance {\n    prefer 10.0.0.0/8 10.0.0.1\n  }\n}\n", "3:23: loadbalance: invalid CIDR '10.0.0.1'"},
      {". {\n  loadbalance {\n    prefer 10.0.0.0/33\n  }\n}\n", "3:12: loadbalance: invalid CIDR '10.0.0.0/33'"},
      {". {\n  loadbalance round_robin {\n    weight 1\n  }\n}\n", "3:5: loadbalance: unknown property 'weight'"},
      {". {\n  template IN A {\n    ederror x\n  }\n}\n", "3:13: ederror: 'x' is not an extended error code"},
      {". {\n  template IN A {\n    ederror 65536\n  }\n}\n", "3:13: ederror: '65536' is not an extended error code"},
      {". {\n  template IN A {\n    ederror -1\n  }\n}\n", "3:13: ederror: '-1' is not an extended error code"},
      {". {\n  template IN A {\n    ederror\n  }\n}\n", "3:5: ederror needs CODE [REASON]"},
      {". {\n  template IN A {\n    ederror 1 a b\n  }\n}\n", "3:5: ederror needs CODE [REASON]"},
      {". {\n  reload soon\n}\n", "2:10: reload interval: 'soon' is not a duration"},
      // CoreDNS's plugin/reload/setup_test.go: below 2 s, or a jitter under 1 s other than 0.
      {". {\n  reload 1s\n}\n", "2:10: reload interval must be at least 2s, not 1s"},
      {". {\n  reload 3s 0.5s\n}\n", "2:13: reload jitter must be 0 or at least 1s, not 0.5s"},
      // plugin/ready/setup_test.go: monitor takes one of two values.
      {". {\n  ready {\n    monitor 404\n  }\n}\n", "3:5: ready: monitor takes until-ready or continuously"},
      // plugin/errors/setup_test.go TestErrorsParse: only stdout, once per block, consolidate's shape.
      {". {\n  errors errors.txt\n}\n", "2:10: errors: 'errors.txt' is not stdout"},
      {". {\n  errors\n  errors\n}\n", "3:3: errors can only be used once per server block"},
      {". {\n  errors {\n    consolidate 1m\n  }\n}\n", "3:5: errors: consolidate takes DURATION REGEXP"},
      {". {\n  errors {\n    consolidate 1m error show_first warning\n  }\n}\n",
       "3:26: errors: consolidate: unexpected 'show_first'"},
      {". {\n  errors {\n    log visible\n  }\n}\n", "3:5: errors: unknown option log"},
      // plugin/log/setup_test.go TestLogParse: class values and options.
      {". {\n  log {\n    class abracadabra\n  }\n}\n", "3:11: log: 'abracadabra' is not a class"},
      {". {\n  log {\n    class\n  }\n}\n", "3:5: log: class needs all, denial, error or success"},
      {". {\n  log {\n    unknown\n  }\n}\n", "3:5: log: unknown option unknown"},
      // plugin/hosts/setup_test.go TestHostsInlineParse: no entry after fallthrough.
      {". {\n  hosts {\n    fallthrough\n    10.0.0.1 example.org\n  }\n}\n",
       "4:5: hosts: inline entry 10.0.0.1 after fallthrough"},
      // plugin/rewrite/name_test.go TestNewNameRule: an answer rule's groups come from its own regex.
      {". {\n  rewrite name regex a(.*) b{1} answer name (.*)c {1}.{2}.d\n}\n",
       "2:51: rewrite: '{1}.{2}.d' refers to a group the answer regex does not have"},
      {". {\n  bufsize 65535\n}\n", "2:11: bufsize: '65535' is not a whole number from 512 to 4096"},
      {". {\n  bufsize 1232\n  bufsize 1400\n}\n", "3:3: bufsize can only be used once per server block"},
  };
  for (const auto& c : cases) {
    const std::string got = FirstError(c.corefile);
    EXPECT_EQ(got.rfind(c.error, 0), 0u) << c.corefile << "\n  got: " << got << "\n  want: " << c.error;
  }
}

TEST(CorefilePluginsTest, IgnoringUnsupportedLeavesItOutWithAWarningAtItsPosition) {
  const std::string text =
      ".:53 {\n  kubernetes cluster.local\n  forward . tls://192.0.2.1 192.0.2.2 {\n    tls_servername x\n  }\n"
      "  forward . 192.0.2.9 {\n    policy fastest\n  }\n}\n";
  CorefileResult r = ReadCorefileText(text, "Corefile");
  ASSERT_TRUE(r.corefile);
  CorefilePlan strict = PlanCorefile(*r.corefile);
  ASSERT_EQ(strict.errors.size(), 3u);
  EXPECT_EQ(strict.errors[0].ToString(), "Corefile:3:13: forward: tls://192.0.2.1: only plain DNS upstreams are supported");

  CorefilePlan lenient = PlanCorefile(*r.corefile, {.ignore_unsupported = true});
  ASSERT_EQ(lenient.errors.size(), 1u) << "a mistake CoreDNS refuses too stays an error";
  EXPECT_EQ(lenient.errors[0].line, 7);
  ASSERT_EQ(lenient.warnings.size(), 2u);
  EXPECT_EQ(lenient.warnings[0].ToString(),
            "Corefile:3:13: forward: tls://192.0.2.1: only plain DNS upstreams are supported; left out");
  EXPECT_EQ(lenient.warnings[1].ToString(),
            "Corefile:4:5: forward: tls_servername is not supported (plain DNS upstreams only); left out");
  const ServerPlan& s = lenient.servers.at(0);
  ASSERT_EQ(s.forwards.size(), 2u);
  EXPECT_EQ(s.forwards[0].Addresses().size(), 1u) << "the plain upstream is kept";
}

TEST(CorefilePluginsTest, SitesSayWhereEachDirectiveWasAndWhatItAdded) {
  CorefilePlan p = Plan(".:53 {\n  kubernetes cluster.local in-addr.arpa\n  rewrite name a.x b.x\n"
                        "  forward . 192.0.2.1 {\n    expire 5s\n  }\n  cache 30\n}\n");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  const ServerPlan& s = p.servers.at(0);
  EXPECT_EQ(s.pos.line, 1);
  ASSERT_EQ(s.sites.size(), 4u);
  EXPECT_FALSE(s.sites[0].planned);
  ASSERT_EQ(s.sites[0].args.size(), 2u) << "kubernetes is not planned: its arguments are kept";
  EXPECT_EQ(s.sites[0].args[1].text, "in-addr.arpa");
  EXPECT_TRUE(s.sites[1].planned && s.sites[1].args.empty());
  EXPECT_EQ(s.sites[1].entry, 0u);
  EXPECT_EQ(s.sites[2].entry, 0u);
  ASSERT_EQ(s.sites[2].options.size(), 1u);
  EXPECT_EQ(s.sites[2].options[0].pos.line, 5);
  EXPECT_FALSE(s.sites[3].entry) << "cache fills no list";
  EXPECT_EQ(s.cache->ttl, 30u);
}

// plugin/forward/setup_test.go TestSetupResolvconf: a resolv.conf without nameserver
// lines adds nothing beside another upstream, and is refused alone.
TEST(CorefilePluginsTest, AnEmptyResolvConfAddsNoUpstream) {
  const std::string path = ::testing::TempDir() + "/plugins_test_empty_resolv.conf";
  std::ofstream(path) << "# nameserver 1.1.1.1\n";
  CorefilePlan p = Plan(". {\n  forward . " + path + " 192.0.2.1\n}\n");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  ASSERT_EQ(p.servers.at(0).forwards.at(0).Addresses().size(), 1u);
  EXPECT_EQ(FirstError(". {\n  forward . " + path + "\n}\n").rfind("2:13: forward: no upstream address", 0), 0u);
  std::remove(path.c_str());
}

TEST(CorefilePluginsTest, AResolvConfUpstreamRemembersItsFile) {
  const std::string path = ::testing::TempDir() + "/plugins_test_resolv.conf";
  std::ofstream(path) << "nameserver 192.0.2.53\nnameserver 192.0.2.54\n";
  CorefilePlan p = Plan(". {\n  forward . 192.0.2.1 " + path + "\n}\n");
  for (const ConfigError& e : p.errors) ADD_FAILURE() << e.ToString();
  const ForwardPlan& f = p.servers.at(0).forwards.at(0);
  ASSERT_EQ(f.to.size(), 2u);
  EXPECT_FALSE(f.to[0].resolv_conf);
  EXPECT_EQ(f.to[1].resolv_conf, path);
  EXPECT_EQ(f.Addresses().size(), 3u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace meshdns

namespace meshdns {
namespace {

// Whether `rewrite ARGS` in a server block plans without an error.
bool RewriteLoads(const std::string& args) {
  CorefileResult r = ReadCorefileText(". {\n  rewrite " + args + "\n}\n", "Corefile");
  if (!r.corefile) return false;
  return PlanCorefile(*r.corefile).errors.empty();
}

// CoreDNS's TestNewRule (rewrite_test.go), its type and class rows, and
// TestNewRCodeRule (rcode_test.go).
TEST(CorefilePluginsTest, RewriteTypeClassAndRcodeRulesReadAsCoreDnsReadsThem) {
  const struct {
    const char* args;
    bool loads;
  } cases[] = {
      {"type", false},
      {"type a", false},
      {"type any a a", false},
      {"type any a", true},
      {"type XY WV", false},
      {"type ANY WV", false},
      {"class", false},
      {"class IN", false},
      {"class ch in in", false},
      {"class ch in", true},
      {"class XY WV", false},
      {"class IN WV", false},
      {"unknown-action type any a", false},
      {"stop type any a", true},
      {"continue type any a", true},
      {"unknown-action class ch in", false},
      {"stop class ch in", true},
      {"continue class ch in", true},
      {"CONTINUE Class ch in", true},
      {"Stop TYPE any a", true},
      {"rcode numeric.rcode.coredns.rocks 2 0", true},
      {"rcode too.few.rcode.coredns.rocks 2", false},
      {"rcode exact too.many.rcode.coredns.rocks 2 1 0", false},
      {"rcode exact match.string.rcode.coredns.rocks SERVFAIL NOERROR", true},
      {R"(continue rcode regex (regex)\.rcode\.(coredns)\.(rocks) FORMERR NOERROR)", true},
      {"rcode invalid.rcode.coredns.rocks random nothing", false},
      {"rcode wildcard.rcode.coredns.rocks 24 0", false},
      {"rcode prefix p. NOTIMPL NXDOMAIN", true},
  };
  for (const auto& c : cases) EXPECT_EQ(RewriteLoads(c.args), c.loads) << "rewrite " << c.args;
}

}  // namespace
}  // namespace meshdns
