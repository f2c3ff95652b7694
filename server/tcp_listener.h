// TcpListener: one worker's TCP acceptor on one listen address (SO_REUSEPORT)
// and the RFC 7766 connections it accepts, a coroutine each.
// Worker-local: belongs to one worker thread; the TcpConnectionCaps it
// shares with the other workers is thread-safe.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "server/asio.h"

namespace meshdns {

class TcpConnectionCaps;
class Worker;

// Length-framed messages, several queries per connection answered in order.
// A client gets `limits.tcp_idle` to send each query (waiting included) and
// again to take each reply; past either, or when a message is not DNS at all,
// the connection is closed, so slow or stalled clients cannot hold slots.
// Connections are capped in total (`limits.tcp_connections`) and per client
// address (`limits.tcp_connections_per_client`); one over a cap is closed at once.
class TcpListener {
 public:
  // `caps` is the daemon's, shared with every other listener; it outlives this.
  static absl::StatusOr<std::unique_ptr<TcpListener>> Open(Worker& worker, TcpConnectionCaps& caps,
                                                           const tcp::endpoint& at);
  void Start();
  void Close();

 private:
  TcpListener(Worker& worker, TcpConnectionCaps& caps, tcp::acceptor acceptor)
      : worker_(worker), caps_(caps), acceptor_(std::move(acceptor)) {}
  asio::awaitable<void> AcceptLoop();
  // `client` holds one of its per-client connection slots until this returns.
  asio::awaitable<void> Serve(tcp::socket socket, IpAddress client);

  Worker& worker_;
  TcpConnectionCaps& caps_;
  tcp::acceptor acceptor_;
};

}  // namespace meshdns
