#include "server/channel_counters.h"

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace meshdns {

void ChannelCounters::Add(const ChannelCounters& other) {
  sent += other.sent;
  mismatched += other.mismatched;
  sockets_opened += other.sockets_opened;
  tcp_connections += other.tcp_connections;
  attempts += other.attempts;
  for (size_t r = 0; r < responses.size(); ++r) {
    responses[r] += other.responses[r];
    duration[r].Add(other.duration[r]);
  }
}

std::string DescribeResolver(const udp::endpoint& resolver) {
  return absl::StrCat("resolver ", resolver.address().to_string(), ":", resolver.port());
}

void MismatchReport::Count(const char* transport) {
  ++counters_.mismatched;
  const Millis now = NowMillis();
  if (now - last_log_ < 1000) return;
  last_log_ = now;
  Log(LogLevel::kWarn, DescribeResolver(resolver_), ": dropped a ", transport,
      " reply that answers no query of ours (wrong ID, port or question); ", counters_.mismatched,
      " so far on this worker");
}

}  // namespace meshdns
