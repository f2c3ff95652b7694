// UpstreamChannel: one worker's link to one resolver. UDP queries share a
// connected socket (the kernel then drops datagrams from any other source);
// each in-flight query holds a slot keyed by a random ID, and a reply fills
// the slot only if ReplyMatchesQuery says it answers that very query.
// TCP exchanges (for truncated replies) use a fresh connection each.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "dnscore/clock.h"
#include "server/asio.h"

namespace meshdns {

struct ChannelCounters {
  uint64_t sent = 0;
  uint64_t mismatched = 0;  // replies dropped: unknown ID or wrong question
};

class UpstreamChannel {
 public:
  UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng);
  ~UpstreamChannel();

  // Sends `query` (its ID is overwritten) and waits for its reply.
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeUdp(std::span<uint8_t> query, Millis timeout);
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeTcp(std::span<uint8_t> query, Millis timeout);

  const ChannelCounters& counters() const { return counters_; }
  const udp::endpoint& resolver() const { return resolver_; }

 private:
  struct Slot {
    std::span<const uint8_t> query;
    asio::steady_timer* timer = nullptr;
    std::vector<uint8_t> reply;
    bool answered = false;
    boost::system::error_code error;
  };
  absl::Status Open();
  void Receive();
  void OnDatagram(size_t size);
  void FailAll(const boost::system::error_code& ec);

  asio::io_context& io_;
  udp::endpoint resolver_;
  absl::BitGen& rng_;
  udp::socket socket_;
  absl::flat_hash_map<uint16_t, Slot*> slots_;
  std::array<uint8_t, 65536> buffer_;
  ChannelCounters counters_;
};

}  // namespace meshdns
