// What one upstream channel counts, and the report of replies it drops
// because they answer no query of ours (shared by its UDP and TCP sides).
// Worker-local: a channel's counters are written only on its worker's
// thread; the worker copies them out for /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "dnscore/clock.h"
#include "server/asio.h"
#include "server/stats.h"

namespace meshdns {

struct ChannelCounters {
  uint64_t sent = 0;
  uint64_t mismatched = 0;  // datagrams or TCP replies dropped: unknown ID, wrong socket or question
  uint64_t sockets_opened = 0;
  uint64_t tcp_connections = 0;
  uint64_t attempts = 0;                 // exchanges started (CoreDNS's forward requests)
  std::array<uint64_t, 16> responses{};  // replies by rcode
  std::array<Histogram, 16> duration;    // time to each reply, by its rcode

  void Add(const ChannelCounters& other);
};

// "resolver 10.0.0.1:53", as errors and logs name it.
std::string DescribeResolver(const udp::endpoint& resolver);

// Counts a reply that answers no query of ours and says so in the log, at
// most once a second: a forger (or a confused resolver) must not flood it.
class MismatchReport {
 public:
  MismatchReport(const udp::endpoint& resolver, ChannelCounters& counters)
      : resolver_(resolver), counters_(counters) {}
  void Count(const char* transport);

 private:
  const udp::endpoint& resolver_;
  ChannelCounters& counters_;
  Millis last_log_ = 0;
};

}  // namespace meshdns
