// TcpConnection: one client's DNS-over-TCP connection (RFC 7766). A reader
// takes length-framed queries while fewer than kMaxPipelined are open; each
// is answered from the cache at once or resolved in a coroutine of its own,
// and its reply is written as soon as it is ready, one write at a time, so a
// fast query never waits behind a slow one (§6.2.1.1). TcpQueryWindow keeps
// the count and the order; this class does the I/O.
//
// Templated on the byte stream so that DNS over TLS can run the same
// connection over an ssl::stream; instantiated for tcp::socket.
// Worker-local: lives on one worker's thread, until its reader has stopped
// and every query it took has been answered or dropped.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "dnscore/query_view.h"
#include "dnscore/question.h"
#include "server/asio.h"
#include "server/tcp_query_window.h"

namespace meshdns {

class TcpConnectionCaps;
class Worker;

// Queries one connection works on at once. Clients pipeline a few at a time
// (a stub's A and AAAA, a forwarder's burst); 16 leaves them unhindered and
// bounds what one connection can hold to 16 queries and their replies, so
// the connection caps still bound memory when clients stop reading.
inline constexpr size_t kMaxPipelined = 16;

template <typename Stream>
class TcpConnection : public std::enable_shared_from_this<TcpConnection<Stream>> {
 public:
  struct Shared {
    Worker& worker;
    TcpConnectionCaps& caps;  // the connection holds one of its slots for `client`, given back on close
    // The listener's: each reply is written here, then copied into a buffer of
    // its own size, so no query holds a 64 KiB buffer while it waits.
    std::span<uint8_t> scratch;
    uint16_t server = 0;  // the listener's server (dnscore/program.h)
  };
  // Serves `stream` until the client is done or a limit closes it.
  static void Start(Shared shared, Stream stream, const tcp::endpoint& peer);
  ~TcpConnection();

 private:
  TcpConnection(Shared shared, Stream stream, const tcp::endpoint& peer);
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> Read();
  // Starts work on the query just read; false when the stream is not DNS and reading must stop.
  bool Take();
  asio::awaitable<void> Resolve(std::shared_ptr<TcpConnection> self, std::vector<uint8_t> query, QueryView view,
                                Clock::time_point started);
  // The reply of `size` bytes in scratch (0: none) goes to the client.
  void Reply(std::span<const uint8_t> query, const QueryView& view, size_t size, Clock::time_point started);
  void Apply(const TcpQueryWindow::Next& next);
  void Write();
  // The client's halves of each exchange run against limits.tcp_idle.
  void Arm(asio::steady_timer& deadline);
  static void Disarm(asio::steady_timer& deadline);
  void Close();

  Shared shared_;
  Stream stream_;
  tcp::endpoint peer_;
  tcp::endpoint local_;  // the address the client reached (rewrite edns0's {server_ip})
  ClientAddress Who() const {
    return ClientAddress{.ip = FromAsioAddress(peer_.address()), .port = peer_.port(), .tcp = true,
                         .server_ip = FromAsioAddress(local_.address()), .server_port = local_.port()};
  }
  std::vector<uint8_t> query_;  // the one being read, then admitted; copied only if it must wait
  TcpQueryWindow window_{kMaxPipelined};
  asio::steady_timer read_deadline_;   // runs while a query is being read and nothing is open
  asio::steady_timer write_deadline_;  // runs while a reply is being written
  asio::steady_timer room_;            // the reader waits on it for room in the window
  bool reading_ = false;
  bool closed_ = false;
};

}  // namespace meshdns
