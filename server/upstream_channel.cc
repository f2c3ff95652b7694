#include "server/upstream_channel.h"

#include <utility>

namespace meshdns {

UpstreamChannel::UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng, Inbox& inbox,
                                 DeadlineWheel& wheel)
    : io_(io),
      resolver_(std::move(resolver)),
      udp_(io, resolver_, rng, inbox, wheel, counters_, mismatches_),
      tcp_(io, resolver_, rng, counters_, mismatches_) {}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> UpstreamChannel::ExchangeUdp(std::span<uint8_t> query,
                                                                                   UdpOptions options,
                                                                                   bool* retransmitted) {
  struct Wake final : Waiter {
    explicit Wake(asio::io_context& io) : wakeup(io) {}
    void OnUdpReply(std::span<const uint8_t> reply, bool resent) override {
      result = std::vector<uint8_t>(reply.begin(), reply.end());
      retransmitted = resent;
      wakeup.Wake();
    }
    void OnUdpFailure(absl::Status status) override {
      result = std::move(status);
      wakeup.Wake();
    }
    Wakeup wakeup;
    absl::StatusOr<std::vector<uint8_t>> result = absl::UnknownError("no answer yet");
    bool retransmitted = false;
  } wake(io_);
  if (absl::Status started = StartUdp(query, options, &wake); !started.ok()) co_return started;
  co_await wake.wakeup.Wait();
  if (retransmitted != nullptr) *retransmitted = wake.retransmitted;
  co_return std::move(wake.result);
}

}  // namespace meshdns
