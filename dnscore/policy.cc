#include "dnscore/policy.h"

#include <algorithm>

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

size_t PlanAttempts(Policy policy, uint64_t ticket, std::span<ResolverHealth* const> health,
                    const HealthOptions& options, Millis now, std::span<uint8_t> out) {
  const size_t n = std::min<size_t>(health.size(), 256);
  if (n == 0 || out.size() < n) return 0;
  const size_t start = policy == Policy::kSequential ? 0 : ticket % n;
  size_t written = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (health[i]->TryUse(options, now)) out[written++] = static_cast<uint8_t>(i);
  }
  if (written == 0) out[written++] = static_cast<uint8_t>(start);
  return written;
}

}  // namespace meshdns
