// TcpListener: one worker's TCP acceptor on one listen address (SO_REUSEPORT),
// RFC 7766: a coroutine per connection, length-framed messages, several
// queries per connection answered in order, closed after `limits.tcp_idle`
// of silence or when a message is not DNS at all.
//
// Worker-local: belongs to one worker thread.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "server/asio.h"

namespace meshdns {

class Worker;

class TcpListener {
 public:
  static absl::StatusOr<std::unique_ptr<TcpListener>> Open(Worker& worker, const tcp::endpoint& at);
  void Start();
  void Close();

 private:
  TcpListener(Worker& worker, tcp::acceptor acceptor) : worker_(worker), acceptor_(std::move(acceptor)) {}
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Serve(tcp::socket socket);

  Worker& worker_;
  tcp::acceptor acceptor_;
};

}  // namespace meshdns
