// UdpExchanges: one channel's UDP queries to its resolver, sent in batches on
// a few connected sockets on random ports, with their deadlines and resends.
// Which datagram ends which exchange is ExchangeTable's decision (dnscore).
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "dnscore/clock.h"
#include "dnscore/exchange_table.h"
#include "dnscore/upstream_query.h"
#include "dnscore/reply_writer.h"
#include "server/asio.h"
#include "server/channel_counters.h"
#include "server/deadline_wheel.h"

namespace meshdns {

// Receive buffers; one per worker is enough, as its channels read in turn.
struct UdpInbox {
  static constexpr size_t kBatch = 32;
  // We advertise limits.udp_reply_size (1232 unless configured); a resolver
  // that sends more than this breaks RFC 6891 and its datagram is dropped as truncated.
  static constexpr size_t kMaxReply = 4096;
  static_assert(kMaxReply >= kMaxUdpReplySize);
  UdpInbox();
  std::array<std::array<uint8_t, kMaxReply>, kBatch> buffers;
  std::array<iovec, kBatch> iov;
  std::array<mmsghdr, kBatch> msgs;
};

// Told how a UDP exchange ended, exactly once per Start() that succeeded,
// and never from inside Start() itself.
class UdpWaiter {
 public:
  // `reply` is valid only during the call. `retransmitted`: a second copy
  // went out, so the exchange says nothing reliable about the round trip (Karn).
  virtual void OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) = 0;
  // DeadlineExceeded: no answer in time; Unavailable: the socket failed.
  virtual void OnUdpFailure(absl::Status status) = 0;

 protected:
  ~UdpWaiter() = default;
};

struct UdpOptions {
  Millis timeout = 2000;
  // When set, the same datagram (same ID, same port) is sent again this
  // often until an answer or the timeout: a reply to any copy counts, so a
  // lossy link gets several chances inside one wait.
  Millis retransmit_every = 0;
};

class UdpExchanges : private DeadlineWheel::Target {
 public:
  // A query takes a random unused ID and the socket of the batch it joins. A
  // socket is retired after kSocketUses queries and reopened on a fresh port
  // the kernel picks, so an off-path forger must guess a moving port and the ID.
  static constexpr size_t kSockets = 8;
  static constexpr uint32_t kSocketUses = 128;
  static constexpr size_t kBatch = UdpInbox::kBatch;
  // A query as WriteUpstreamQuery writes it: header, name, type/class, OPT.
  static constexpr size_t kMaxQuery = kMaxUpstreamQuery;

  // `resolver`, `counters` and `mismatches` belong to the channel and outlive this.
  UdpExchanges(asio::io_context& io, const udp::endpoint& resolver, absl::BitGen& rng, UdpInbox& inbox,
               DeadlineWheel& wheel, ChannelCounters& counters, MismatchReport& mismatches);
  ~UdpExchanges();
  UdpExchanges(const UdpExchanges&) = delete;
  UdpExchanges& operator=(const UdpExchanges&) = delete;

  // Sends `query` (its ID is overwritten; it must stay valid until `waiter`
  // is told) and tells `waiter` how it ended. No coroutine, no allocation:
  // the forwarding hot path. An error here means nothing was sent.
  absl::Status Start(std::span<uint8_t> query, UdpOptions options, UdpWaiter* waiter);

 private:
  struct Waiting {
    UdpWaiter* waiter = nullptr;
    DeadlineWheel::Clock::time_point deadline;
    Millis timeout = 0;
    Millis retransmit_every = 0;
    bool retransmitted = false;
  };
  using Table = ExchangeTable<Waiting>;
  struct Socket;
  // Queries waiting for the end of this turn of the event loop, all for one
  // socket. The queries started in one turn (typically the misses of one
  // recvmmsg batch) leave in one sendmmsg, and a readable socket is drained
  // with recvmmsg: per-packet syscalls and the wake-ups they cause are most
  // of a forwarded query's cost on loopback.
  struct Outbox {
    Outbox();
    uint32_t socket = 0;
    size_t count = 0;
    bool flush_posted = false;
    std::array<std::array<uint8_t, kMaxQuery>, kBatch> buffers;
    std::array<uint16_t, kBatch> ids;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
  };
  using ExchangeRef = std::pair<uint16_t, uint32_t>;  // an exchange's ID and serial

  absl::StatusOr<uint32_t> PickSocket();
  // Queues `query` (ID already set) on the current batch; returns its socket.
  absl::StatusOr<uint32_t> Enqueue(std::span<const uint8_t> query, uint16_t id);
  void Flush();
  void WaitReadable(uint32_t index);
  // Reads the socket's replies, then waits for it again, or comes back after
  // the loop's other work if a fair share was read before it ran dry.
  void OnReadable(uint32_t index);
  // One recvmmsg; true when the socket has nothing more to read.
  bool ReadBatch(uint32_t index);
  void FailSocket(uint32_t index, const boost::system::error_code& ec);
  // Ends an exchange (unless `serial` names an earlier one with that ID):
  // it is gone from the table before its waiter hears of it, so the waiter
  // may start another exchange at once.
  void End(uint16_t id, std::optional<uint32_t> serial, std::span<const uint8_t> reply,
           const absl::Status& failure);
  // Ends each exchange still under way with `ec`.
  void FailEach(std::vector<ExchangeRef> exchanges, const boost::system::error_code& ec);
  // Tells the waiters of sends that failed in Flush(), after it: Flush() may
  // run inside Enqueue(), which their next attempts would enter again.
  void FailUnsent();
  void Expired(uint64_t cookie) override;
  void Release(uint32_t index);

  asio::io_context& io_;
  const udp::endpoint& resolver_;
  absl::BitGen& rng_;
  UdpInbox& inbox_;
  DeadlineWheel& wheel_;
  ChannelCounters& counters_;
  MismatchReport& mismatches_;
  Outbox outbox_;
  HandlerMemory flush_memory_;
  std::array<std::unique_ptr<Socket>, kSockets> sockets_;
  Table table_;
  // Exchanges whose sends failed in Flush(), for FailUnsent().
  std::vector<ExchangeRef> unsent_;
  boost::system::error_code unsent_error_;
  HandlerMemory unsent_memory_;
};

}  // namespace meshdns
