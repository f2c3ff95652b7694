// Resolver selection for one cluster's pool: the forward policy decides where
// a query starts, health decides who is skipped. A plan lists resolver
// indexes in the order to try them.
//
// ResolverHealth is shared by all workers (atomics only); PlanAttempts is pure.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>

#include "dnscore/clock.h"

namespace meshdns {

enum class Policy { kRoundRobin, kRandom, kSequential };

struct HealthOptions {
  uint32_t max_fails = 2;      // consecutive failures that mark a resolver down; 0: never
};

class ResolverHealth {
 public:
  // The per-attempt timeout before any round trip has been measured (close
  // to Unbound's 376 ms), and the least it may shrink to: on a LAN a silent
  // resolver then costs a tenth of a second, not the configured seconds.
  static constexpr Millis kInitialTimeout = 400;
  static constexpr Millis kMinTimeout = 100;

  // Any reply to a query, whatever its rcode, at `now`: the resolver is
  // alive, in rotation, and its failures start again from zero.
  void RecordSuccess(Millis now);
  // A reply to a readiness probe: alive, and nothing more.
  void RecordAnswer(Millis now);
  // Returns true when this failure took the resolver out of rotation.
  bool RecordFailure(const HealthOptions& options, Millis now);
  // A health probe's outcome at `now`: any reply (`answered`), whatever its
  // rcode, puts the resolver back in rotation. Returns true when it did. For
  // a pool that is all out of rotation this is the only way back: its
  // queries are not sent (PlanAttempts).
  bool RecordProbe(bool answered, Millis now);
  bool IsUp() const { return down_since_.load(std::memory_order_relaxed) == 0; }
  uint32_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t probe_failures() const { return probe_failures_.load(std::memory_order_relaxed); }
  // When a reply last came, by query or probe; 0 before the first.
  Millis last_answer() const { return last_answer_.load(std::memory_order_relaxed); }

  // RFC 6298's estimator over measured round trips (Unbound keeps the same
  // per server): timeout = srtt + 4 * rttvar, within [kMinTimeout, ceiling].
  void RecordRtt(int64_t micros);
  // No answer in time: back off by doubling the timeout, up to the ceiling.
  void RecordTimeout(Millis ceiling);
  Millis AttemptTimeout(Millis ceiling) const;
  // How often the last attempt of a pass resends its query: half the smoothed
  // round trip, at least kMinTimeout. Unlike AttemptTimeout it does not back
  // off: on a lossy link timeouts pile up, and backing off the resends too
  // would leave a query one or two copies in its whole budget.
  Millis RetransmitInterval() const;

  // Queries in flight to this resolver over all workers, against `limit`.
  [[nodiscard]] bool TryAcquire(uint32_t limit);
  void Release() { inflight_.fetch_sub(1, std::memory_order_relaxed); }
  uint32_t inflight() const { return inflight_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> failures_{0};
  std::atomic<Millis> down_since_{0};
  std::atomic<uint64_t> probe_failures_{0};
  std::atomic<Millis> last_answer_{0};
  // Benign races: workers may overwrite each other's estimate; any recent one will do.
  std::atomic<int64_t> srtt_us_{-1};
  std::atomic<int64_t> rttvar_us_{0};
  std::atomic<Millis> timeout_ms_{kInitialTimeout};
  std::atomic<uint32_t> inflight_{0};
};

// Fills `out` (size >= health.size()) with the resolvers to try, in order,
// and returns how many. `ticket` picks the first: a per-pool counter for
// round_robin, a random number for random; sequential always starts at 0.
// Resolvers out of rotation are left out, so a pool with none in rotation
// (PoolDown) gets an empty plan: its queries fail at once instead of waiting
// out a resolver known to be silent, and the health prober finds out when
// one is back. (CoreDNS's forward tries a random one anyway unless
// `failfast_all_unhealthy_upstreams`; Unbound answers SERVFAIL at once.)
size_t PlanAttempts(Policy policy, uint64_t ticket, std::span<ResolverHealth* const> health,
                    std::span<uint8_t> out);

// Whether no resolver of a pool is in rotation: what makes its plan empty.
bool PoolDown(std::span<ResolverHealth* const> health);

}  // namespace meshdns
