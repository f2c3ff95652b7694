// ChannelMap: the upstream channels of one worker, one per resolver address,
// made on first use and kept for the life of the worker (reloads keep them:
// same address, same link). Owns what the channels share: the receive
// buffers, the deadline wheel and the random source for IDs and ports.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "server/asio.h"
#include "server/channel_counters.h"
#include "server/deadline_wheel.h"
#include "server/udp_exchanges.h"

namespace meshdns {

class UpstreamChannel;

class ChannelMap {
 public:
  explicit ChannelMap(asio::io_context& io);
  ~ChannelMap();
  ChannelMap(const ChannelMap&) = delete;
  ChannelMap& operator=(const ChannelMap&) = delete;

  UpstreamChannel& Get(const SocketAddress& resolver);
  // Each channel's counters, by "address:port" (IPv6 in brackets).
  std::vector<std::pair<std::string, ChannelCounters>> Counters() const;

 private:
  asio::io_context& io_;
  absl::BitGen rng_;
  std::unique_ptr<UdpInbox> inbox_ = std::make_unique<UdpInbox>();
  DeadlineWheel wheel_{io_};  // declared before the channels, which hold it, so it outlives them
  absl::flat_hash_map<std::pair<std::array<uint8_t, 16>, uint16_t>, std::unique_ptr<UpstreamChannel>> channels_;
};

}  // namespace meshdns
