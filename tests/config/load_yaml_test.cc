#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/config.h"

namespace meshdns {
namespace {

// The contract's section 3 example, verbatim but for `upstream`, which points
// at a resolv.conf the test writes (so the result does not depend on the host's).
constexpr absl::string_view kContractExample = R"(cluster: cluster1                 # required: the cluster this instance runs in
domain: cluster.local             # default cluster.local
clusterset_domain: clusterset.local   # default clusterset.local
listen: ["0.0.0.0:53"]            # default ["0.0.0.0:53"]; UDP and TCP on each; "[::]:53" for IPv6
clusters:                         # required: every member of the mesh, this one included
  cluster1:
    resolvers: ["10.96.0.10:53"]  # this cluster: its kube-dns
  cluster2:
    resolvers: ["192.0.2.34:30053", "192.0.2.35:30053"]   # a peer: its NodePort resolvers
    policy: round_robin           # optional per-cluster override of forward.policy
  cluster3:
    resolvers: ["192.0.2.149:30053"]
upstream: ["RESOLV_CONF"]    # names outside the mesh; default: this cluster's resolvers
forward:
  policy: round_robin             # round_robin | random | sequential
  timeout: 2s                     # per attempt
  health_check: 500ms             # probe interval for a resolver marked down
  max_fails: 2                    # consecutive failures before a resolver is marked down
  expire: 10s                     # idle upstream connection lifetime
cache:
  max_ttl: 30s                    # cap on cached TTLs (CoreDNS `cache 30`)
  min_ttl: 5s
  denial_ttl: 5s                  # cap for NXDOMAIN/NODATA
  capacity: 100000                # entries
  serve_stale: 0s                 # >0: answer from expired entries for this long while peers are down
templates:                        # optional; replaces the default template below
  - match: '(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<service>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$'
    answer: '{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local'
clusterset:                       # MCS-API service names (section 4, rule 4)
  services: true                  # answer <svc>.<ns>.svc.clusterset.local by merging the clusters' answers
  affinity: all                   # all | local | remote
  fanout_timeout: 1s              # a cluster slower than this is left out of the merge
  ttl: 5s                         # cap on merged answers' TTL
acl:                              # who may query; others get REFUSED
  allow: ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"]  # default
  deny: []
limits:
  tcp_connections: 1000           # all clients together
  tcp_connections_per_client: 50
  tcp_idle: 10s
  inflight: 10000                 # upstream queries in flight per resolver; beyond it REFUSED
metrics: "0.0.0.0:9153"           # optional: Prometheus /metrics
health: "0.0.0.0:8080"            # optional: /health (liveness)
ready: "0.0.0.0:8181"             # optional: /ready (readiness)
log: { level: info, queries: false }
)";

// What a template renders for `name` (only .Name matters to these tests).
TemplateData Question(absl::string_view name) {
  return {.name = name, .zone = "clusterset.local.", .qclass = "IN", .qtype = "A"};
}

// The smallest valid file: the two required keys.
constexpr absl::string_view kMinimal = R"(cluster: c1
clusters:
  c1:
    resolvers: ["10.0.0.10"]
)";

class LoadYamlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    resolv_conf_ = ::testing::TempDir() + "/load_yaml_test_resolv.conf";
    std::ofstream(resolv_conf_) << "search example.com\nnameserver 198.51.100.53\nnameserver 2001:db8::53\n";
  }
  void TearDown() override { std::remove(resolv_conf_.c_str()); }

  std::string ContractExample() const {
    return absl::StrReplaceAll(kContractExample, {{"RESOLV_CONF", resolv_conf_}});
  }

  static Config LoadOk(absl::string_view yaml) {
    LoadResult r = LoadConfigText(yaml, "mesh.yaml");
    for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
    EXPECT_TRUE(r.config.has_value());
    return r.config ? *std::move(r.config) : Config{};
  }

  std::string resolv_conf_;
};

TEST_F(LoadYamlTest, ContractExampleLoads) {
  Config c = LoadOk(ContractExample());
  EXPECT_EQ(c.file, "mesh.yaml");
  EXPECT_EQ(c.cluster, "cluster1");
  EXPECT_EQ(c.domain.ToText(), "cluster.local.");
  EXPECT_EQ(c.clusterset_domain.ToText(), "clusterset.local.");
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].ToString(), "0.0.0.0:53");

  ASSERT_EQ(c.clusters.size(), 3u);
  EXPECT_EQ(c.clusters[0].name, "cluster1");
  EXPECT_EQ(c.clusters[1].name, "cluster2");
  EXPECT_EQ(c.clusters[2].name, "cluster3");
  EXPECT_EQ(c.LocalCluster(), 0u);
  ASSERT_EQ(c.clusters[0].resolvers.size(), 1u);
  EXPECT_EQ(c.clusters[0].resolvers[0].ToString(), "10.96.0.10:53");
  ASSERT_EQ(c.clusters[1].resolvers.size(), 2u);
  EXPECT_EQ(c.clusters[1].resolvers[0].ToString(), "192.0.2.34:30053");
  EXPECT_EQ(c.clusters[1].resolvers[1].ToString(), "192.0.2.35:30053");
  EXPECT_EQ(c.clusters[1].policy, Policy::kRoundRobin);
  EXPECT_FALSE(c.clusters[0].policy.has_value());
  EXPECT_EQ(c.clusters[2].resolvers[0].port, 30053);

  ASSERT_EQ(c.upstream.size(), 2u) << "both nameservers of the resolv.conf";
  EXPECT_EQ(c.upstream[0].ToString(), "198.51.100.53:53");
  EXPECT_EQ(c.upstream[1].ToString(), "[2001:db8::53]:53");

  EXPECT_EQ(c.forward.policy, Policy::kRoundRobin);
  EXPECT_EQ(c.forward.timeout, 2000);
  EXPECT_EQ(c.forward.health_check, 500);
  EXPECT_EQ(c.forward.max_fails, 2u);
  EXPECT_EQ(c.forward.expire, 10000);
  EXPECT_EQ(c.cache.ttl.max_ttl, 30u);
  EXPECT_EQ(c.cache.ttl.min_ttl, 5u);
  EXPECT_EQ(c.cache.ttl.denial_ttl, 5u);
  EXPECT_EQ(c.cache.capacity, 100000u);
  EXPECT_EQ(c.cache.serve_stale, 0);

  ASSERT_EQ(c.templates.size(), 1u);
  ASSERT_NE(c.templates[0].compiled, nullptr);
  TemplateMatch m;
  const std::string name = "web.cluster2.nginx.default.svc.clusterset.local.";
  ASSERT_TRUE(c.templates[0].compiled->Match(name, m));
  EXPECT_EQ(*c.templates[0].compiled->RenderText(m, Question(name)),
            std::vector<std::string>{name + " 60 IN CNAME web.nginx.default.cluster2.svc.cluster.local"});

  EXPECT_TRUE(c.clusterset.services);
  EXPECT_EQ(c.clusterset.affinity, Affinity::kAll);
  EXPECT_EQ(c.clusterset.fanout_timeout, 1000);
  EXPECT_EQ(c.clusterset.ttl, 5u);
  EXPECT_EQ(c.acl_allow.size(), 6u);
  EXPECT_TRUE(c.acl_deny.empty());
  EXPECT_EQ(c.limits.tcp_connections, 1000u);
  EXPECT_EQ(c.limits.tcp_connections_per_client, 50u);
  EXPECT_EQ(c.limits.tcp_idle, 10000);
  EXPECT_EQ(c.limits.inflight, 10000u);
  EXPECT_EQ(c.limits.udp_reply_size, 1232u) << "DNS Flag Day 2020";
  EXPECT_EQ(c.metrics, "0.0.0.0:9153");
  EXPECT_EQ(c.health, "0.0.0.0:8080");
  EXPECT_EQ(c.ready, "0.0.0.0:8181");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_FALSE(c.log_queries);
}

// The contract example mostly repeats the defaults; this file changes every
// value, so a key that is parsed but not stored shows up.
TEST_F(LoadYamlTest, EveryValueIsRead) {
  Config c = LoadOk(R"(cluster: West
domain: Example.Internal
clusterset_domain: set.example
listen: ["127.0.0.1:5353", "[::1]:5353"]
clusters:
  east: {resolvers: ["10.1.0.10"], policy: sequential}
  west: {resolvers: "10.2.0.10:1053"}
upstream: ["9.9.9.9", "[2620:fe::fe]:53"]
forward: {policy: random, timeout: 1500ms, health_check: 1m30s, max_fails: 5, expire: 1m}
cache: {max_ttl: 1h, min_ttl: 0s, denial_ttl: 2s, capacity: 42, max_entry_size: 1232, serve_stale: 30s,
        prefetch: {amount: 3, duration: 2m, percentage: 20}}
clusterset: {services: false, affinity: remote, fanout_timeout: 250ms, ttl: 9s}
acl: {allow: ["192.0.2.0/24"], deny: ["192.0.2.128/25"]}
limits: {tcp_connections: 7, tcp_connections_per_client: 3, tcp_idle: 4s, inflight: 11, udp_reply_size: 1400}
metrics: "127.0.0.1:9153"
lameduck: 7s
log: {level: debug, queries: true}
)");
  EXPECT_EQ(c.cluster, "West");
  EXPECT_EQ(c.lameduck, 7000);
  EXPECT_EQ(c.LocalCluster(), 1u) << "matched case-insensitively";
  EXPECT_EQ(c.domain.ToText(), "example.internal.");
  EXPECT_EQ(c.clusterset_domain.ToText(), "set.example.");
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(c.listen[1].ToString(), "[::1]:5353");
  ASSERT_EQ(c.clusters.size(), 2u);
  EXPECT_EQ(c.clusters[0].policy, Policy::kSequential);
  EXPECT_EQ(c.clusters[1].resolvers[0].ToString(), "10.2.0.10:1053") << "a single address needs no list";
  ASSERT_EQ(c.upstream.size(), 2u);
  EXPECT_EQ(c.upstream[1].ToString(), "[2620:fe::fe]:53");
  EXPECT_EQ(c.forward.policy, Policy::kRandom);
  EXPECT_EQ(c.forward.timeout, 1500);
  EXPECT_EQ(c.forward.health_check, 90000);
  EXPECT_EQ(c.forward.max_fails, 5u);
  EXPECT_EQ(c.forward.expire, 60000);
  EXPECT_EQ(c.cache.ttl.max_ttl, 3600u);
  EXPECT_EQ(c.cache.ttl.min_ttl, 0u);
  EXPECT_EQ(c.cache.ttl.denial_ttl, 2u);
  EXPECT_EQ(c.cache.capacity, 42u);
  EXPECT_EQ(c.cache.max_entry_size, 1232u);
  EXPECT_EQ(c.cache.serve_stale, 30000);
  ASSERT_TRUE(c.cache.prefetch.has_value());
  EXPECT_EQ(c.cache.prefetch->amount, 3u);
  EXPECT_EQ(c.cache.prefetch->duration, 120000);
  EXPECT_EQ(c.cache.prefetch->percentage, 20u);
  EXPECT_FALSE(c.clusterset.services);
  EXPECT_EQ(c.clusterset.affinity, Affinity::kRemote);
  EXPECT_EQ(c.clusterset.fanout_timeout, 250);
  EXPECT_EQ(c.clusterset.ttl, 9u);
  ASSERT_EQ(c.acl_allow.size(), 1u) << "a given list replaces the default";
  ASSERT_EQ(c.acl_deny.size(), 1u);
  EXPECT_EQ(c.acl_deny[0].prefix, 96 + 25);
  EXPECT_EQ(c.limits.tcp_connections, 7u);
  EXPECT_EQ(c.limits.tcp_connections_per_client, 3u);
  EXPECT_EQ(c.limits.tcp_idle, 4000);
  EXPECT_EQ(c.limits.inflight, 11u);
  EXPECT_EQ(c.limits.udp_reply_size, 1400u);
  EXPECT_EQ(c.metrics, "127.0.0.1:9153");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.log_queries);

  // The default template follows the configured zones.
  ASSERT_EQ(c.templates.size(), 1u);
  TemplateMatch m;
  const std::string name = "db.east.pg.prod.svc.set.example.";
  ASSERT_TRUE(c.templates[0].compiled->Match(name, m));
  EXPECT_EQ(*c.templates[0].compiled->RenderText(m, Question(name)),
            std::vector<std::string>{name + " 60 IN CNAME db.pg.prod.east.svc.example.internal."});
}

TEST_F(LoadYamlTest, DefaultsApplyWhenKeysAreAbsent) {
  Config c = LoadOk(kMinimal);
  EXPECT_EQ(c.domain.ToText(), "cluster.local.");
  EXPECT_EQ(c.clusterset_domain.ToText(), "clusterset.local.");
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].ToString(), "0.0.0.0:53");
  EXPECT_TRUE(c.upstream.empty()) << "empty means this cluster's resolvers";
  EXPECT_EQ(c.clusters[0].resolvers[0].ToString(), "10.0.0.10:53");
  EXPECT_EQ(c.forward.policy, Policy::kRoundRobin);
  EXPECT_EQ(c.forward.timeout, 2000);
  EXPECT_EQ(c.cache.ttl.max_ttl, 30u);
  EXPECT_EQ(c.cache.capacity, 100000u);
  EXPECT_EQ(c.cache.max_entry_size, 4096u);
  EXPECT_FALSE(c.cache.prefetch.has_value()) << "prefetch is off unless configured";
  EXPECT_EQ(c.acl_allow.size(), 6u);
  EXPECT_TRUE(c.metrics.empty());

  // The default template: H.C.SVC.NS.svc.clusterset.local -> H.SVC.NS.C.svc.cluster.local.
  ASSERT_EQ(c.templates.size(), 1u);
  ASSERT_NE(c.templates[0].compiled, nullptr);
  TemplateMatch m;
  const std::string name = "web.c1.nginx.default.svc.clusterset.local.";
  ASSERT_TRUE(c.templates[0].compiled->Match(name, m));
  EXPECT_EQ(*c.templates[0].compiled->RenderText(m, Question(name)),
            std::vector<std::string>{name + " 60 IN CNAME web.nginx.default.c1.svc.cluster.local."});
  EXPECT_FALSE(c.templates[0].compiled->Match("x.web.c1.nginx.default.svc.clusterset.local.", m)) << "anchored";
}

TEST_F(LoadYamlTest, EmbeddedDefaultIsValid) {
  LoadResult r = EmbeddedDefaultConfig();
  if (!r.config) GTEST_SKIP() << "this host's /etc/resolv.conf lists no nameserver";
  EXPECT_EQ(r.config->cluster, "local");
  ASSERT_EQ(r.config->listen.size(), 1u);
  EXPECT_EQ(r.config->listen[0].ToString(), "127.0.0.1:5353");
}

// Where an error should point: the 1-based line and column of the first
// occurrence of `needle` in `text`.
struct Position {
  int line = 0, column = 0;
  bool operator==(const Position&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Position& p) { return os << p.line << ":" << p.column; }

Position Find(absl::string_view text, absl::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, absl::string_view::npos) << needle;
  Position p{1, 1};
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// One error, at the node that holds `needle`, saying something about `message_part`.
void ExpectOneErrorAt(absl::string_view yaml, absl::string_view needle, absl::string_view message_part) {
  LoadResult r = LoadConfigText(yaml, "mesh.yaml");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 1u) << yaml;
  const ConfigError& e = r.errors[0];
  EXPECT_EQ(e.file, "mesh.yaml");
  EXPECT_EQ((Position{e.line, e.column}), Find(yaml, needle)) << e.ToString();
  EXPECT_TRUE(absl::StrContains(e.message, message_part)) << e.ToString();
}

TEST(LoadYamlErrorsTest, EachContractErrorClassPointsAtItsNode) {
  const struct {
    const char* what;
    std::string yaml;
    const char* needle;
    const char* message_part;
  } cases[] = {
      {"unknown top-level key", std::string(kMinimal) + "colour: blue\n", "colour", "unknown key 'colour'"},
      {"unknown nested key", std::string(kMinimal) + "forward:\n  timeout: 2s\n  retries: 3\n", "retries",
       "unknown key 'retries'"},
      {"unknown key in a cluster", "cluster: c1\nclusters:\n  c1:\n    resolvers: [10.0.0.1]\n    weight: 2\n", "weight",
       "unknown key 'weight'"},
      {"cluster not in clusters", "cluster: c9\nclusters:\n  c1:\n    resolvers: [10.0.0.1]\n", "c9", "c9"},
      {"cluster name not a label", "cluster: c1\nclusters:\n  c1:\n    resolvers: [10.0.0.1]\n  bad_name:\n    resolvers: [10.0.0.2]\n",
       "bad_name", "not a DNS label"},
      {"cluster name with a leading hyphen",
       "cluster: c1\nclusters:\n  c1:\n    resolvers: [10.0.0.1]\n  -east:\n    resolvers: [10.0.0.2]\n", "-east",
       "not a DNS label"},
      {"empty resolver list", "cluster: c1\nclusters:\n  c1:\n    resolvers: []\n", "[]", "empty"},
      {"cluster without resolvers", "cluster: c1\nclusters:\n  c1:\n    policy: random\n", "c1:", "resolvers"},
      {"bad regex", std::string(kMinimal) + "templates:\n  - match: '(unclosed'\n    answer: '{{ .Name }} 60 IN A 192.0.2.1'\n",
       "'(unclosed'", "bad regex"},
      {"template names a missing group",
       std::string(kMinimal) + "templates:\n  - match: '^(?P<host>[a-z]+)\\.x\\.$'\n    answer: '{{ .Name }} 60 IN CNAME {{ .Group.svc }}.example.'\n",
       "'{{ .Name }} 60 IN CNAME", "svc"},
      {"bad duration", std::string(kMinimal) + "forward:\n  timeout: 2 seconds\n", "2 seconds", "duration"},
      {"bad cache duration", std::string(kMinimal) + "cache:\n  max_ttl: 30x\n", "30x", "duration"},
      {"bad resolver address", "cluster: c1\nclusters:\n  c1:\n    resolvers: [\"10.0.0.1\", \"10.0.0.2:99999\"]\n",
       "\"10.0.0.2:99999\"", "bad port"},
      {"bad listen address", std::string(kMinimal) + "listen: [\"localhost:53\"]\n", "\"localhost:53\"", "not an IP"},
      {"bad metrics address", std::string(kMinimal) + "metrics: \":9153:\"\n", "\":9153:\"", "metrics"},
      {"empty listen list", std::string(kMinimal) + "listen: []\n", "[]", "at least one"},
      {"duplicate key", std::string(kMinimal) + "forward:\n  timeout: 2s\n  timeout: 3s\n", "timeout: 3s", "duplicate key"},
      {"prefetch percentage over 100", std::string(kMinimal) + "cache:\n  prefetch: {percentage: 150}\n", "150",
       "percentage"},
      {"bad policy", std::string(kMinimal) + "forward:\n  policy: fastest\n", "fastest", "round_robin"},
      {"cache entry size below 512", std::string(kMinimal) + "cache:\n  max_entry_size: 100\n", "100", ">= 512"},
      {"udp reply size below 512", std::string(kMinimal) + "limits:\n  udp_reply_size: 511\n", "511", ">= 512"},
      {"udp reply size above 4096", std::string(kMinimal) + "limits:\n  udp_reply_size: 65535\n", "65535",
       "more than 4096"},
      // Found by fuzz/yaml_fuzzer: a domain that broke the default template's text and crashed the loader.
      {"domain with template braces", std::string(kMinimal) + "domain: \"a{{b.local\"\n", "\"a{{b.local\"",
       "not a domain name"},
      {"clusterset domain with a space", std::string(kMinimal) + "clusterset_domain: \"cluster set.local\"\n",
       "\"cluster set.local\"", "not a domain name"},
      {"bad acl entry", std::string(kMinimal) + "acl:\n  allow: [\"10.0.0.0/40\"]\n", "\"10.0.0.0/40\"", "prefix"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectOneErrorAt(c.yaml, c.needle, c.message_part);
  }
}

TEST(LoadYamlErrorsTest, MissingRequiredKeysAreReported) {
  LoadResult r = LoadConfigText("domain: cluster.local\n", "mesh.yaml");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].message.find("'cluster'"), std::string::npos) << r.errors[0].ToString();
  EXPECT_NE(r.errors[1].message.find("'clusters'"), std::string::npos) << r.errors[1].ToString();
}

TEST(LoadYamlErrorsTest, EveryErrorInAFileIsReported) {
  const std::string yaml = R"(cluster: c1
clusters:
  c1:
    resolvers: ["10.0.0.1:0"]
  c2:
    resolvers: []
forward:
  timeout: soon
  backoff: 2
cache:
  capacity: lots
templates:
  - match: '[z-a]'
    answer: 'x 60 IN A 192.0.2.1'
)";
  LoadResult r = LoadConfigText(yaml, "mesh.yaml");
  EXPECT_FALSE(r.config.has_value());
  std::vector<Position> got;
  for (const ConfigError& e : r.errors) got.push_back({e.line, e.column});
  const std::vector<Position> want = {
      Find(yaml, "\"10.0.0.1:0\""), Find(yaml, "[]"), Find(yaml, "soon"), Find(yaml, "backoff"),
      Find(yaml, "lots"), Find(yaml, "'[z-a]'"),
  };
  EXPECT_EQ(got, want);
  for (const ConfigError& e : r.errors) {
    EXPECT_TRUE(absl::StartsWith(e.ToString(), absl::StrCat("mesh.yaml:", e.line, ":", e.column, ": "))) << e.ToString();
  }
}

TEST(LoadYamlErrorsTest, YamlSyntaxErrorHasAPosition) {
  const std::string yaml = "cluster: c1\nclusters:\n  c1:\n    resolvers: [10.0.0.1\n";
  LoadResult r = LoadConfigText(yaml, "mesh.yaml");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "mesh.yaml");
  EXPECT_GE(r.errors[0].line, 4) << r.errors[0].ToString() << ": at or after the unclosed '['";
  EXPECT_GE(r.errors[0].column, 1);
  EXPECT_FALSE(r.errors[0].message.empty());

  // A mapping value where none may start: yaml-cpp points at the ':' (0-based
  // 1:5), which the error gives 1-based like every other.
  const std::string indented = "cluster: c1\n  bad: indent\n";
  LoadResult bad = LoadConfigText(indented, "mesh.yaml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ((Position{bad.errors[0].line, bad.errors[0].column}), Find(indented, ": indent")) << bad.errors[0].ToString();
}

TEST(LoadYamlErrorsTest, TheDocumentMustBeAMapping) {
  LoadResult r = LoadConfigText("- just\n- a list\n", "mesh.yaml");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].line, 1);
}

TEST(LoadYamlErrorsTest, UnreadableFileIsAnError) {
  LoadResult r = LoadConfigFile("/nonexistent/meshdns.yaml");
  EXPECT_FALSE(r.config.has_value());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].file, "/nonexistent/meshdns.yaml");
}

TEST_F(LoadYamlTest, LoadConfigFileReadsTheFile) {
  const std::string path = ::testing::TempDir() + "/load_yaml_test_mesh.yaml";
  std::ofstream(path) << kMinimal;
  LoadResult r = LoadConfigFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.config.has_value());
  EXPECT_EQ(r.config->file, path);
  EXPECT_EQ(r.config->cluster, "c1");
}

}  // namespace
}  // namespace meshdns
