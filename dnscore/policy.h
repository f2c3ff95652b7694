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
  uint32_t max_fails = 2;      // consecutive failures that mark a resolver down
  Millis retry_after = 500;    // a down resolver gets one trial query this often
};

class ResolverHealth {
 public:
  void RecordSuccess();
  void RecordFailure(const HealthOptions& options, Millis now);
  bool IsUp() const { return down_since_.load(std::memory_order_relaxed) == 0; }
  // True while up; while down, true once per retry_after (a passive probe).
  bool TryUse(const HealthOptions& options, Millis now);
  uint32_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> failures_{0};
  std::atomic<Millis> down_since_{0};
  std::atomic<Millis> last_trial_{0};
};

// Fills `out` (size >= health.size()) with the resolvers to try, in order,
// and returns how many. `ticket` picks the first: a per-pool counter for
// round_robin, a random number for random; sequential always starts at 0.
// Resolvers that are down are left out; if all are down, the first of them
// in rotation order is tried once anyway, so the pool can answer when it heals.
size_t PlanAttempts(Policy policy, uint64_t ticket, std::span<ResolverHealth* const> health,
                    const HealthOptions& options, Millis now, std::span<uint8_t> out);

}  // namespace meshdns
