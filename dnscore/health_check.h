// HealthCheck: what a health probe asks a resolver that is out of rotation,
// and when, as CoreDNS's forward `health_check DURATION [no_rec] [domain FQDN]`
// configures it. Pure: the prober (server/health_prober) and the scenario
// replays (tests/scenario) ask it the same questions with their own clock.
// Plain values; safe from any thread.
#pragma once

#include "dnscore/clock.h"
#include "dnscore/dns_name.h"
#include "dnscore/upstream_query.h"

namespace meshdns {

struct HealthCheck {
  // CoreDNS's health checker waits 1 s for a reply (proxy/health.go).
  static constexpr Millis kProbeTimeout = 1000;
  // The least time between two probes' starts. CoreDNS has none, so with
  // `health_check 0` a resolver that refuses at once is probed in a busy
  // loop (coredns#4113, "works as intended"); 10 ms keeps the intent
  // (probe again at once) without burning a core.
  static constexpr Millis kMinGap = 10;

  Millis interval = 500;          // 0: the next probe as soon as the last one ended
  DnsName domain;                 // asked IN NS; the root unless `domain FQDN`
  bool recursion_desired = true;  // RD set unless `no_rec`

  // What a probe asks: `<domain> IN NS`, RD unless no_rec (CoreDNS's dnsHc).
  UpstreamQuestion Question() const;

  // The least a probe waits: a round trip on a LAN, as ResolverHealth's floor.
  static constexpr Millis kMinProbeTimeout = 100;

  // How long one probe waits for its reply: the interval, so a silent
  // resolver is asked again on time, within [100 ms, CoreDNS's 1 s]; with
  // interval 0, CoreDNS's 1 s.
  Millis ProbeTimeout() const;
  // When the probe after one that started at `started` and failed at `ended`
  // starts: `interval` after the last one's start (so a resolver that drops
  // is asked every interval), and never before the last one has ended.
  Millis NextProbe(Millis started, Millis ended) const;
};

}  // namespace meshdns
