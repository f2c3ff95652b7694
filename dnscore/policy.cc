#include "dnscore/policy.h"

namespace meshdns {

void ResolverHealth::RecordSuccess() {
  failures_.store(0, std::memory_order_relaxed);
  down_since_.store(0, std::memory_order_relaxed);
}

void ResolverHealth::RecordFailure(const HealthOptions& options, Millis now) {
  uint32_t fails = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (fails >= options.max_fails && down_since_.load(std::memory_order_relaxed) == 0) {
    down_since_.store(now, std::memory_order_relaxed);
    last_trial_.store(now, std::memory_order_relaxed);
  }
}

bool ResolverHealth::TryUse(const HealthOptions& options, Millis now) {
  if (IsUp()) return true;
  Millis last = last_trial_.load(std::memory_order_relaxed);
  if (now - last < options.retry_after) return false;
  // One worker wins the trial; the others keep skipping this resolver.
  return last_trial_.compare_exchange_strong(last, now, std::memory_order_relaxed);
}

size_t Planner::Plan(Policy policy, std::span<ResolverHealth* const> health, const HealthOptions& options, Millis now,
                     std::span<uint8_t> out) {
  const size_t n = health.size();
  if (n == 0) return 0;
  size_t start = 0;
  switch (policy) {
    case Policy::kRoundRobin: start = next_++ % n; break;
    case Policy::kRandom: start = rng_() % n; break;
    case Policy::kSequential: start = 0; break;
  }
  size_t written = 0;
  uint8_t deferred[256];
  size_t deferred_count = 0;
  for (size_t k = 0; k < n && k < 256; ++k) {
    size_t i = (start + k) % n;
    if (health[i]->TryUse(options, now)) {
      out[written++] = static_cast<uint8_t>(i);
    } else {
      deferred[deferred_count++] = static_cast<uint8_t>(i);
    }
  }
  for (size_t k = 0; k < deferred_count; ++k) out[written++] = deferred[k];
  return written;
}

}  // namespace meshdns
