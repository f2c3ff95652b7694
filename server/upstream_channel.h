// UpstreamChannel: one worker's link to one resolver, and the interface the
// forwarding code uses: UDP exchanges (UdpExchanges: random ports, batching,
// retransmits, deadlines) and a pipelined TCP link (TcpLink), with the
// counters both keep. ChannelMap holds a worker's channels.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "dnscore/clock.h"
#include "server/asio.h"
#include "server/channel_counters.h"
// Callers take their channels from the map; one include gives them both.
#include "server/channel_map.h"
#include "server/deadline_wheel.h"
#include "server/tcp_link.h"
#include "server/udp_exchanges.h"

namespace meshdns {

class UpstreamChannel {
 public:
  static constexpr size_t kSockets = UdpExchanges::kSockets;
  static constexpr uint32_t kSocketUses = UdpExchanges::kSocketUses;
  static constexpr size_t kBatch = UdpExchanges::kBatch;
  static constexpr size_t kMaxQuery = UdpExchanges::kMaxQuery;
  static constexpr size_t kMaxReply = UdpInbox::kMaxReply;
  using Inbox = UdpInbox;
  using Waiter = UdpWaiter;
  using UdpOptions = meshdns::UdpOptions;

  UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng, Inbox& inbox,
                  DeadlineWheel& wheel);
  UpstreamChannel(const UpstreamChannel&) = delete;
  UpstreamChannel& operator=(const UpstreamChannel&) = delete;

  // Sends `query` (its ID is overwritten; it must stay valid until `waiter`
  // is told) and tells `waiter` how it ended. No coroutine, no allocation:
  // the forwarding hot path. An error here means nothing was sent.
  absl::Status StartUdp(std::span<uint8_t> query, UdpOptions options, Waiter* waiter) {
    return udp_.Start(query, options, waiter);
  }
  // StartUdp for a coroutine (health probes).
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeUdp(std::span<uint8_t> query, UdpOptions options,
                                                                    bool* retransmitted = nullptr);
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeTcp(std::span<uint8_t> query, Millis timeout,
                                                                    Millis expire) {
    return tcp_.Exchange(query, timeout, expire);
  }

  const ChannelCounters& counters() const { return counters_; }
  // Counted by the caller, who knows when an exchange started and what came back.
  void CountAttempt() { ++counters_.attempts; }
  void CountResponse(uint8_t rcode, int64_t micros) {
    ++counters_.responses[rcode & 0xf];
    counters_.duration[rcode & 0xf].Observe(micros);
  }
  const udp::endpoint& resolver() const { return resolver_; }

 private:
  asio::io_context& io_;
  const udp::endpoint resolver_;
  ChannelCounters counters_;
  MismatchReport mismatches_{resolver_, counters_};
  UdpExchanges udp_;
  TcpLink tcp_;
};

}  // namespace meshdns
