// Resolver selection for one cluster's pool: the forward policy decides where
// a query starts, health decides who is skipped. A plan lists resolver
// indexes in the order to try them; resolvers marked down come last, so a
// query still has somewhere to go when every resolver is down (as CoreDNS).
//
// ResolverHealth is shared by all workers (atomics only); a Planner is
// worker-local (its round-robin counter and RNG are not thread-safe).
#pragma once

#include <atomic>
#include <cstdint>
#include <random>
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

class Planner {
 public:
  explicit Planner(uint64_t seed) : rng_(seed) {}
  // Fills `out` (size >= health.size()) with the order to try resolvers and
  // returns how many it wrote.
  size_t Plan(Policy policy, std::span<ResolverHealth* const> health, const HealthOptions& options, Millis now,
              std::span<uint8_t> out);

 private:
  uint64_t next_ = 0;
  std::minstd_rand rng_;  // spreads load only; unpredictability lives in query IDs
};

}  // namespace meshdns
