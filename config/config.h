// The meshdns configuration as plain values (contract section 3), loaded from
// YAML in three stages (config_source.h: read, validate, compile) with every
// problem collected, each at its file:line:col. Value types: a loaded Config
// is not changed again and may be read from any thread; no I/O but reading files.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/acl.h"
#include "dnscore/clock.h"
#include "dnscore/dns_name.h"
#include "dnscore/packet_cache.h"
#include "dnscore/policy.h"
#include "dnscore/reply_writer.h"
#include "dnscore/service_merge.h"
#include "dnscore/stored_reply.h"
#include "dnscore/template.h"

namespace meshdns {

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based
  int column = 0;
  std::string message;
  std::string ToString() const;  // FILE:LINE:COL: message
};

struct SocketAddress {
  IpAddress ip;
  bool v6 = false;
  uint16_t port = 53;
  // "1.2.3.4", "1.2.3.4:30053", "::1", "[::1]:53"; without a port, `default_port`.
  static absl::StatusOr<SocketAddress> Parse(absl::string_view text, uint16_t default_port = 53);
  std::string ToString() const;  // with the port, IPv6 in brackets
  std::string HostString() const;
};

// One listener: an address, and which of the program's servers answers
// there (dnscore/program.h). A Corefile has one per listen address
// (config/corefile_listen.h); a YAML serves server 0 on each `listen`.
struct ListenAddress {
  SocketAddress address;
  uint32_t scope_id = 0;  // an IPv6 link-local address's interface (bind by interface name)
  uint16_t server = 0;
  std::string origin;     // file:line:col of the key or `bind` that asked for it; empty for a YAML
  std::string ToString() const;  // the address, with %scope when there is one
};

struct ClusterConfig {
  std::string name;
  std::vector<SocketAddress> resolvers;
  std::optional<Policy> policy;
};

struct TemplateConfig {
  std::string match;
  std::vector<std::string> answer;
  std::shared_ptr<const Template> compiled;
};

struct ForwardConfig {
  Policy policy = Policy::kRoundRobin;
  Millis timeout = 2000;
  Millis health_check = 500;
  uint32_t max_fails = 2;
  Millis expire = 10000;
};

struct CacheConfig {
  TtlPolicy ttl{.min_ttl = 5, .max_ttl = 30, .denial_ttl = 5};
  size_t capacity = 100000;
  size_t max_entry_size = PacketCache::kDefaultMaxEntrySize;  // larger replies are answered, not cached
  Millis serve_stale = 0;
  std::optional<PrefetchPolicy> prefetch;  // off unless configured
};

struct AffinityOverride {
  std::string service;  // "<svc>.<ns>", '*' matching any run of characters
  Affinity affinity = Affinity::kAll;
};

struct ClustersetConfig {
  bool services = true;
  Affinity affinity = Affinity::kAll;
  std::vector<AffinityOverride> affinity_overrides;  // first match wins
  Millis fanout_timeout = 1000;
  uint32_t ttl = 5;

  Affinity AffinityFor(absl::string_view service, absl::string_view ns) const;
};

struct LimitsConfig {
  uint32_t tcp_connections = 1000;
  uint32_t tcp_connections_per_client = 50;
  Millis tcp_idle = 10000;
  uint32_t inflight = 10000;
  // The largest UDP message meshdns sends to a client or asks a resolver for;
  // larger replies go out truncated (TC) and the client asks again over TCP.
  uint16_t udp_reply_size = kAdvertisedUdpSize;
};

struct Config {
  std::string file;
  std::string cluster;
  DnsName domain;
  DnsName clusterset_domain;
  std::vector<SocketAddress> listen;
  // A Corefile's listeners, each with its server; empty: server 0 on every
  // `listen` address. Listeners() gives either as one list.
  std::vector<ListenAddress> listeners;
  std::vector<ClusterConfig> clusters;  // in file order
  std::vector<SocketAddress> upstream;  // empty: this cluster's resolvers
  ForwardConfig forward;
  CacheConfig cache;
  std::vector<TemplateConfig> templates;
  ClustersetConfig clusterset;
  std::vector<Cidr> acl_allow, acl_deny;
  LimitsConfig limits;
  std::string metrics, health, ready;
  // After SIGTERM: /health and /ready fail at once while queries are still
  // answered this long, so load balancers and endpoint lists let go first.
  Millis lameduck = 0;
  std::string log_level = "info";
  bool log_queries = false;
  // A Corefile: only what a block's `log` rules name is logged (Program::LogsReply).
  bool log_by_block = false;

  size_t LocalCluster() const;
  std::vector<ListenAddress> Listeners() const;
};

struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
};

LoadResult LoadConfigFile(const std::string& path);
LoadResult LoadConfigText(absl::string_view yaml, const std::string& file_name);
// The configuration `meshdns serve` runs without a file (contract section 6).
LoadResult EmbeddedDefaultConfig();

// A configuration-sized file read whole: a regular file of at most
// `max_size` bytes (a device or FIFO such as /dev/zero would never end).
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, uintmax_t max_size = 16 << 20);

// Nameservers listed in a resolv.conf-style file; FailedPrecondition for a
// readable file that lists none (forward skips it when other upstreams remain).
absl::StatusOr<std::vector<SocketAddress>> ReadResolvConf(const std::string& path);
// Go-style durations: "500ms", "2s", "1m30s", "0".
absl::StatusOr<Millis> ParseDuration(absl::string_view text);

}  // namespace meshdns
