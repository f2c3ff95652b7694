// TcpListener: one worker's TCP acceptor on one listen address (SO_REUSEPORT):
// it accepts connections, applies the connection caps and hands each to a
// TcpConnection.
// Worker-local: belongs to one worker thread; the TcpConnectionCaps it
// shares with the other workers is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/wire.h"
#include "server/asio.h"

namespace meshdns {

class TcpConnectionCaps;
class Worker;

// Connections are capped in total (`limits.tcp_connections`) and per client
// address (`limits.tcp_connections_per_client`); one over a cap is closed at once.
class TcpListener {
 public:
  // `caps` is the daemon's, shared with every other listener; it outlives this.
  // `server`: which of the program's servers answers here.
  static absl::StatusOr<std::unique_ptr<TcpListener>> Open(Worker& worker, TcpConnectionCaps& caps,
                                                           const tcp::endpoint& at, uint16_t server);
  void Start();
  void Close();

 private:
  TcpListener(Worker& worker, TcpConnectionCaps& caps, tcp::acceptor acceptor, uint16_t server)
      : worker_(worker), caps_(caps), acceptor_(std::move(acceptor)), server_(server) {}
  asio::awaitable<void> AcceptLoop();

  Worker& worker_;
  TcpConnectionCaps& caps_;
  tcp::acceptor acceptor_;
  uint16_t server_;
  // Where this listener's connections write each reply before it is copied
  // to a buffer of its size; they run on one thread and never wait in between.
  std::vector<uint8_t> scratch_ = std::vector<uint8_t>(kMaxMessageSize);
};

}  // namespace meshdns
