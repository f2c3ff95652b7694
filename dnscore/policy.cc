#include "dnscore/policy.h"

#include <algorithm>
#include <cstdlib>

namespace meshdns {

// Every forwarded reply passes here, on every worker: a store only when the
// value changes keeps the cache line shared between them.
void ResolverHealth::RecordSuccess(Millis now) {
  RecordAnswer(now);
  if (failures_.load(std::memory_order_relaxed) != 0) failures_.store(0, std::memory_order_relaxed);
  if (down_since_.load(std::memory_order_relaxed) != 0) down_since_.store(0, std::memory_order_relaxed);
}

void ResolverHealth::RecordAnswer(Millis now) {
  now = std::max<Millis>(now, 1);  // 0 means never
  if (last_answer_.load(std::memory_order_relaxed) != now) last_answer_.store(now, std::memory_order_relaxed);
}

bool ResolverHealth::RecordFailure(const HealthOptions& options, Millis now) {
  uint32_t fails = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  // max_fails 0 turns health checking off (CoreDNS's forward): never out of rotation.
  if (options.max_fails == 0 || fails < options.max_fails) return false;
  Millis up = 0;
  if (!down_since_.compare_exchange_strong(up, std::max<Millis>(now, 1), std::memory_order_relaxed)) return false;
  return true;
}

bool ResolverHealth::RecordProbe(bool answered, Millis now) {
  if (!answered) {
    probe_failures_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const bool was_down = !IsUp();
  RecordSuccess(now);
  return was_down;
}

void ResolverHealth::RecordRtt(int64_t micros) {
  const int64_t srtt = srtt_us_.load(std::memory_order_relaxed);
  int64_t new_srtt, new_var;
  if (srtt < 0) {
    new_srtt = micros;
    new_var = micros / 2;
  } else {
    const int64_t var = rttvar_us_.load(std::memory_order_relaxed);
    new_var = (3 * var + std::abs(srtt - micros)) / 4;
    new_srtt = (7 * srtt + micros) / 8;
  }
  srtt_us_.store(new_srtt, std::memory_order_relaxed);
  rttvar_us_.store(new_var, std::memory_order_relaxed);
  timeout_ms_.store((new_srtt + 4 * new_var) / 1000, std::memory_order_relaxed);
}

void ResolverHealth::RecordTimeout(Millis ceiling) {
  const Millis t = std::max(timeout_ms_.load(std::memory_order_relaxed), kMinTimeout);
  timeout_ms_.store(std::min(2 * t, ceiling), std::memory_order_relaxed);
}

Millis ResolverHealth::AttemptTimeout(Millis ceiling) const {
  return std::min(std::max(timeout_ms_.load(std::memory_order_relaxed), kMinTimeout), ceiling);
}

Millis ResolverHealth::RetransmitInterval() const {
  const int64_t srtt = srtt_us_.load(std::memory_order_relaxed);
  if (srtt < 0) return kInitialTimeout / 2;
  return std::max<Millis>(srtt / 2000, kMinTimeout);
}

bool ResolverHealth::TryAcquire(uint32_t limit) {
  if (inflight_.fetch_add(1, std::memory_order_relaxed) < limit) return true;
  inflight_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}


size_t PlanAttempts(Policy policy, uint64_t ticket, std::span<ResolverHealth* const> health,
                    std::span<uint8_t> out) {
  const size_t n = std::min<size_t>(health.size(), 256);
  if (n == 0 || out.size() < n) return 0;
  const size_t start = policy == Policy::kSequential ? 0 : ticket % n;
  size_t written = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (health[i]->IsUp()) out[written++] = static_cast<uint8_t>(i);
  }
  return written;
}

bool PoolDown(std::span<ResolverHealth* const> health) {
  return std::none_of(health.begin(), health.end(), [](const ResolverHealth* h) { return h->IsUp(); });
}

}  // namespace meshdns
