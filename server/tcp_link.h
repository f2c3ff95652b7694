// TcpLink: one channel's TCP connection to its resolver, opened on demand and
// kept: several queries in flight on it (RFC 7766 pipelining), each matched
// by ID and question, closed after `expire` idle. If it dies mid-query the
// queries on it fail at once, so the caller can move on to another resolver.
// Rare (force_tcp, truncated replies), so each exchange is a coroutine.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "dnscore/clock.h"
#include "server/asio.h"
#include "server/channel_counters.h"

namespace meshdns {

class TcpLink {
 public:
  // `resolver`, `counters` and `mismatches` belong to the channel and outlive this.
  TcpLink(asio::io_context& io, const udp::endpoint& resolver, absl::BitGen& rng, ChannelCounters& counters,
          MismatchReport& mismatches)
      : io_(io), resolver_(resolver), rng_(rng), counters_(counters), mismatches_(mismatches) {}
  ~TcpLink();
  TcpLink(const TcpLink&) = delete;
  TcpLink& operator=(const TcpLink&) = delete;

  // Sends `query` (its ID is overwritten) and returns the reply, or why none
  // came within `timeout`; an idle connection closes `expire` after its last reply.
  asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Exchange(std::span<uint8_t> query, Millis timeout,
                                                                 Millis expire);

 private:
  // A query on the connection, woken through its own timer.
  struct Slot;
  struct Connection;

  asio::awaitable<void> Read(std::shared_ptr<Connection> c);
  asio::awaitable<void> Write(std::shared_ptr<Connection> c);
  void IdleCheck(std::shared_ptr<Connection> c, Millis expire);

  asio::io_context& io_;
  const udp::endpoint& resolver_;
  absl::BitGen& rng_;
  ChannelCounters& counters_;
  MismatchReport& mismatches_;
  std::shared_ptr<Connection> connection_;
};

}  // namespace meshdns
