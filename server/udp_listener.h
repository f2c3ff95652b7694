// UdpListener: one worker's UDP socket on one listen address (SO_REUSEPORT:
// every worker binds its own and the kernel spreads clients over them).
//
// When the socket is readable, datagrams are taken in batches with recvmmsg;
// admission (decode, ACL, cache) answers in place — no coroutine, no
// allocation — and the replies of a batch leave together with sendmmsg.
// Misses wait for the query engine's answer in a pooled PendingMiss, also
// without a coroutine (the engine starts one only to chase or fan out). Replies
// of resolved queries are gathered and leave with one sendmmsg at the end of
// the event loop's turn.
//
// Worker-local: belongs to one worker thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "dnscore/log_rule.h"
#include "dnscore/query_view.h"
#include "dnscore/reply_writer.h"
#include "server/asio.h"
#include "server/query_engine.h"

namespace meshdns {

class Worker;

class UdpListener {
 public:
  // Queries larger than this are dropped (kMaxQuerySize). Replies stop at
  // limits.udp_reply_size (1232 unless configured, never above this); larger
  // ones go out truncated (TC) so the client asks over TCP.
  static constexpr size_t kMaxDatagram = kMaxQuerySize;
  static_assert(kMaxDatagram >= kMaxUdpReplySize);
  static constexpr size_t kBatch = 32;

  // `server`: which of the program's servers answers here.
  static absl::StatusOr<std::unique_ptr<UdpListener>> Open(Worker& worker, const udp::endpoint& at, uint16_t server);
  void Start() { WaitReadable(); }
  // Stops taking new queries, answers those already queued, and keeps the
  // socket open so queries in flight still get their replies. Where a new
  // instance binds the same address and port (systemd, hostNetwork), it gets
  // every query from then on.
  void Close();
  // After Close: answers what reached the socket since (a datagram the kernel
  // had already picked this socket for when Close ran), and sends every reply
  // still waiting for the end of the loop's turn.
  void AnswerQueued();

 private:
  // A miss the engine resolves without a coroutine, waiting for its answer.
  // Kept for the next miss once answered.
  struct PendingMiss final : QueryEngine::Waiter {
    explicit PendingMiss(UdpListener& l) : listener(l) {}
    void Answered(const Answer& answer) override { listener.Answered(*this, answer); }
    UdpListener& listener;
    std::vector<uint8_t> query;  // keeps its capacity from miss to miss
    QueryView view;
    sockaddr_storage client;
    socklen_t client_len = 0;
    std::chrono::steady_clock::time_point started;
  };

  UdpListener(Worker& worker, udp::socket socket, uint16_t server);
  // Stops the kernel queueing new datagrams here; false when it cannot.
  bool LeaveReusePortGroup();
  void WaitReadable();
  // Drains the socket, then waits for it again; if a fair share was done
  // before it ran dry, comes back after the rest of the loop's work instead
  // (the wait would not end: the socket's readiness is edge-triggered).
  void OnReadable();
  // Starts resolving a query admission could not answer.
  void StartMiss(std::span<const uint8_t> query, const QueryView& view, const sockaddr_storage& client,
                 socklen_t client_len, std::chrono::steady_clock::time_point started);
  void Answered(PendingMiss& miss, const Answer& answer);
  // Reads and answers until the socket is drained (true) or a fair share is done.
  bool Drain();
  // Has `write` put a resolved query's reply into the next FlushLate()'s batch.
  void SendLater(absl::FunctionRef<size_t(std::span<uint8_t>)> write, const sockaddr_storage& client,
                 socklen_t client_len);
  // Queues the reply for a resolved query, counted and logged.
  void SendResolved(const Answer& answer, std::span<const uint8_t> query, const QueryView& view,
                    const sockaddr_storage& client, socklen_t client_len,
                    std::chrono::steady_clock::time_point started);
  void FlushLate();
  void LogQuery(const LogRule& rule, std::span<const uint8_t> query, const QueryView& view,
                const sockaddr_storage& client, socklen_t client_len, std::span<const uint8_t> reply, int64_t micros);
  // Sends msgs[0..count) with as few sendmmsg calls as the socket allows.
  void SendBatch(mmsghdr* msgs, unsigned count);

  Worker& worker_;
  udp::socket socket_;
  const uint16_t server_;
  udp::endpoint local_;  // as bound (rewrite edns0's {server_ip}: 0.0.0.0 for a wildcard, as CoreDNS's LocalAddr)
  IpAddress local_ip_;  // local_'s address, for each query's ClientAddress
  bool closing_ = false;
  bool handed_over_ = false;  // connected away from the port's group: see LeaveReusePortGroup
  HandlerMemory wait_memory_, flush_memory_;
  // Batch buffers, reused for every batch.
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> in_;
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> out_;
  std::array<sockaddr_storage, kBatch> peers_;
  std::array<iovec, kBatch> in_iov_, out_iov_;
  std::array<mmsghdr, kBatch> in_msgs_, out_msgs_;
  std::array<uint16_t, kBatch> reply_types_;  // each reply's question type, for the metrics
  std::array<uint16_t, kBatch> reply_routes_;  // each reply's route (QueryView::route), for its block's log
  std::array<uint8_t, kBatch> reply_queries_;  // and which query of the batch it answers, for the query log
  // Replies of resolved queries waiting for FlushLate().
  std::array<std::array<uint8_t, kMaxDatagram>, kBatch> late_;
  std::array<sockaddr_storage, kBatch> late_peers_;
  std::array<iovec, kBatch> late_iov_;
  std::array<mmsghdr, kBatch> late_msgs_;
  unsigned late_count_ = 0;
  bool late_flush_posted_ = false;
  // Replies' ancillary data once the socket is connected (LeaveReusePortGroup).
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(in_pktinfo))> no_source_{};
  std::vector<std::unique_ptr<PendingMiss>> misses_;
  std::vector<PendingMiss*> idle_misses_;
};

}  // namespace meshdns
