#include "dnscore/health_check.h"

#include <algorithm>

#include "dnscore/wire.h"

namespace meshdns {

UpstreamQuestion HealthCheck::Question() const {
  return UpstreamQuestion{domain, kTypeNS, kClassIN, recursion_desired};
}

Millis HealthCheck::ProbeTimeout() const {
  return interval == 0 ? kProbeTimeout : std::clamp(interval, kMinProbeTimeout, kProbeTimeout);
}

Millis HealthCheck::NextProbe(Millis started, Millis ended) const {
  return std::max(started + std::max(interval, kMinGap), ended);
}

}  // namespace meshdns
