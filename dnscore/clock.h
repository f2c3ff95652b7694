// Milliseconds on a monotonic clock. Everything in dnscore takes the time as
// an argument, so tests drive it by hand; only the server reads the real clock.
#pragma once

#include <cstdint>
#include <ctime>

namespace meshdns {

using Millis = int64_t;

// CLOCK_MONOTONIC_COARSE: a few ns per call, millisecond-grade resolution,
// plenty for TTLs counted in seconds.
inline Millis NowMillis() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace meshdns
