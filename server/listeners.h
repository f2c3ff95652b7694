// The client-facing sockets of one worker. UDP: one long-lived receive loop;
// admission (decode, ACL, cache) answers in place with no coroutine and no
// allocation, and only queries that need resolving start a coroutine.
// TCP (RFC 7766): a coroutine per connection, length-framed messages, several
// queries per connection answered in order, closed after `tcp_idle` of silence.
//
// Worker-local: each listener belongs to one worker thread.
#pragma once

#include <array>
#include <memory>

#include "absl/status/statusor.h"
#include "server/asio.h"

namespace meshdns {

class Worker;

class UdpListener {
 public:
  static absl::StatusOr<std::unique_ptr<UdpListener>> Open(Worker& worker, const udp::endpoint& at);
  void Start() { Receive(); }
  void Close();

 private:
  UdpListener(Worker& worker, udp::socket socket) : worker_(worker), socket_(std::move(socket)) {}
  void Receive();
  void OnDatagram(size_t size);
  asio::awaitable<void> Resolve(std::vector<uint8_t> query, udp::endpoint client);

  Worker& worker_;
  udp::socket socket_;
  udp::endpoint client_;
  bool closing_ = false;
  std::array<uint8_t, 65536> in_;
  std::array<uint8_t, 65536> out_;
};

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
  size_t connections_ = 0;
};

}  // namespace meshdns
