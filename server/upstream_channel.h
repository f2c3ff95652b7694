// UpstreamChannel: one worker's link to one resolver.
//
// UDP: a few connected sockets, each on a port the kernel picks at random.
// A query takes a random unused ID and the socket of the batch it joins, and
// a datagram fills its slot only if it arrives on that socket (the kernel
// already drops other sources on a connected socket) and ReplyMatchesQuery
// says it answers that very query. A socket is retired after kSocketUses
// queries and reopened on a fresh port, so an off-path forger must guess a
// moving port and the ID.
//
// Batching: the queries started in one turn of the event loop (typically the
// misses of one recvmmsg batch) leave together in one sendmmsg, and a
// readable socket is drained with recvmmsg. Per-packet syscalls and the
// wake-ups they cause are most of a forwarded query's cost on loopback.
//
// TCP: one persistent connection, opened on demand, several queries in flight
// on it (RFC 7766 pipelining) matched by ID, closed after `expire` idle. If it
// dies mid-query the queries on it fail at once, so the caller can move on.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "dnscore/clock.h"
#include "server/asio.h"
#include "server/deadline_wheel.h"
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

class UpstreamChannel : private DeadlineWheel::Target {
 public:
  static constexpr size_t kSockets = 8;
  static constexpr uint32_t kSocketUses = 128;
  static constexpr size_t kBatch = 32;
  // A query as WriteUpstreamQuery writes it: header, name, type/class, OPT.
  static constexpr size_t kMaxQuery = 512;
  // We advertise 1232 bytes (kAdvertisedUdpSize); a resolver that sends more
  // breaks RFC 6891 and its datagram is dropped as truncated.
  static constexpr size_t kMaxReply = 4096;

  // Receive buffers; one per worker is enough, as its channels read in turn.
  struct Inbox {
    Inbox();
    std::array<std::array<uint8_t, kMaxReply>, kBatch> buffers;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
  };

  // Told how a UDP exchange ended, exactly once per StartUdp() that succeeded,
  // and never from inside StartUdp() itself.
  class Waiter {
   public:
    // `reply` is valid only during the call. `retransmitted`: a second copy
    // went out, so the exchange says nothing reliable about the round trip (Karn).
    virtual void OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) = 0;
    // DeadlineExceeded: no answer in time; Unavailable: the socket failed.
    virtual void OnUdpFailure(absl::Status status) = 0;

   protected:
    ~Waiter() = default;
  };

  UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng, Inbox& inbox,
                  DeadlineWheel& wheel);
  ~UpstreamChannel();
  UpstreamChannel(const UpstreamChannel&) = delete;
  UpstreamChannel& operator=(const UpstreamChannel&) = delete;

  struct UdpOptions {
    Millis timeout = 2000;
    // When set, the same datagram (same ID, same port) is sent again this
    // often until an answer or the timeout: a reply to any copy counts, so a
    // lossy link gets several chances inside one wait.
    Millis retransmit_every = 0;
  };
  // Sends `query` (its ID is overwritten; it must stay valid until `waiter`
  // is told) and tells `waiter` how it ended. No coroutine, no allocation:
  // the forwarding hot path. An error here means nothing was sent.
  absl::Status StartUdp(std::span<uint8_t> query, UdpOptions options, Waiter* waiter);
  // StartUdp for a coroutine (health probes).
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeUdp(std::span<uint8_t> query, UdpOptions options,
                                                                    bool* retransmitted = nullptr);
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> ExchangeTcp(std::span<uint8_t> query, Millis timeout,
                                                                    Millis expire);

  const ChannelCounters& counters() const { return counters_; }
  // Counted by the caller, who knows when an exchange started and what came back.
  void CountAttempt() { ++counters_.attempts; }
  void CountResponse(uint8_t rcode, int64_t micros) {
    ++counters_.responses[rcode & 0xf];
    counters_.duration[rcode & 0xf].Observe(micros);
  }
  const udp::endpoint& resolver() const { return resolver_; }

 private:
  struct UdpSlot {
    std::span<const uint8_t> query;
    Waiter* waiter = nullptr;
    size_t socket = 0;
    DeadlineWheel::Clock::time_point deadline;
    Millis timeout = 0;
    Millis retransmit_every = 0;
    uint32_t serial = 0;  // tells this exchange's wheel entries from those of an earlier one with the same ID
    bool retransmitted = false;
  };
  // TCP exchanges are coroutines woken through their timer.
  struct Slot {
    std::span<const uint8_t> query;
    asio::steady_timer* timer = nullptr;
    std::vector<uint8_t> reply;
    bool answered = false;
    boost::system::error_code error;
  };
  struct UdpSocket;
  struct TcpLink;
  // Queries waiting for the end of this turn of the event loop, all for one socket.
  struct Outbox {
    Outbox();
    size_t socket = 0;
    size_t count = 0;
    bool flush_posted = false;
    std::array<std::array<uint8_t, kMaxQuery>, kBatch> buffers;
    std::array<uint16_t, kBatch> ids;
    std::array<iovec, kBatch> iov;
    std::array<mmsghdr, kBatch> msgs;
  };

  absl::StatusOr<size_t> PickSocket();
  // Queues `query` (ID already set) on the current batch; returns its socket.
  absl::StatusOr<size_t> Enqueue(std::span<const uint8_t> query, uint16_t id);
  void Flush();
  void WaitReadable(size_t index);
  // Reads the socket's replies, then waits for it again, or comes back after
  // the loop's other work if a fair share was read before it ran dry.
  void OnReadable(size_t index);
  // One recvmmsg; true when the socket has nothing more to read.
  bool ReadBatch(size_t index);
  void OnDatagram(size_t index, std::span<const uint8_t> reply);
  void FailSocket(size_t index, const boost::system::error_code& ec);
  // Ends a UDP exchange (unless `serial` names an earlier one with that ID):
  // the slot is gone before its waiter hears of it, so the waiter may start
  // another exchange at once.
  void EndUdp(uint16_t id, std::optional<uint32_t> serial, std::span<const uint8_t> reply,
              const absl::Status& failure);
  using ExchangeRef = std::pair<uint16_t, uint32_t>;  // a UDP exchange's ID and serial
  // Ends each exchange still under way with `ec`.
  void FailEach(std::vector<ExchangeRef> exchanges, const boost::system::error_code& ec);
  // Tells the waiters of sends that failed in Flush(), after it: Flush() may
  // run inside Enqueue(), which their next attempts would enter again.
  void FailUnsent();
  void Expired(uint64_t cookie) override;
  void Release(size_t index);
  template <typename Map>
  uint16_t FreshId(const Map& in_use);
  static void Fill(Slot& slot, std::span<const uint8_t> reply);
  // Counts a reply that answers no query of ours and says so, at most once a second.
  void CountMismatch(const char* transport);
  static void FailAll(absl::flat_hash_map<uint16_t, Slot*>& slots, const boost::system::error_code& ec);

  asio::awaitable<void> TcpRead(std::shared_ptr<TcpLink> link);
  asio::awaitable<void> TcpWrite(std::shared_ptr<TcpLink> link);
  void TcpIdleCheck(std::shared_ptr<TcpLink> link, Millis expire);

  asio::io_context& io_;
  udp::endpoint resolver_;
  absl::BitGen& rng_;
  Inbox& inbox_;
  DeadlineWheel& wheel_;
  Outbox outbox_;
  HandlerMemory flush_memory_;
  std::array<std::unique_ptr<UdpSocket>, kSockets> sockets_;
  absl::flat_hash_map<uint16_t, UdpSlot> slots_;
  uint32_t next_serial_ = 0;
  // Exchanges whose sends failed in Flush(), for FailUnsent().
  std::vector<ExchangeRef> unsent_;
  boost::system::error_code unsent_error_;
  HandlerMemory unsent_memory_;
  std::shared_ptr<TcpLink> tcp_;
  ChannelCounters counters_;
  Millis last_mismatch_log_ = 0;
};

// The channels of one io_context, one per resolver address, made on first use
// and kept for the life of the worker (reloads keep them: same address, same link).
class ChannelMap {
 public:
  explicit ChannelMap(asio::io_context& io) : io_(io) {}
  UpstreamChannel& Get(const SocketAddress& resolver);
  std::vector<std::pair<std::string, ChannelCounters>> Counters() const;

 private:
  asio::io_context& io_;
  absl::BitGen rng_;
  std::unique_ptr<UpstreamChannel::Inbox> inbox_ = std::make_unique<UpstreamChannel::Inbox>();
  DeadlineWheel wheel_{io_};  // declared before the channels, which hold it, so it outlives them
  absl::flat_hash_map<std::pair<std::array<uint8_t, 16>, uint16_t>, std::unique_ptr<UpstreamChannel>> channels_;
};

}  // namespace meshdns
