// HttpServer: the small HTTP/1.1 side of the daemon (Boost.Beast) for
// /metrics, /health and /ready, on the daemon's own io_context, never on a
// worker's. One listener per configured address; a listener answers only the
// paths configured on its address (404 otherwise), GET or HEAD.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/asio.h"

namespace meshdns {

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

class HttpServer {
 public:
  using Handler = std::function<asio::awaitable<HttpResponse>(const std::string& path)>;

  HttpServer(asio::io_context& io, Handler handler) : io_(io), handler_(std::move(handler)) {}

  absl::Status Listen(const SocketAddress& at, std::set<std::string> paths);
  void Stop();

 private:
  struct Listener {
    explicit Listener(asio::io_context& io) : acceptor(io) {}
    tcp::acceptor acceptor;
    std::set<std::string> paths;
  };
  asio::awaitable<void> Accept(std::shared_ptr<Listener> listener);
  asio::awaitable<void> Session(tcp::socket socket, std::shared_ptr<Listener> listener);

  asio::io_context& io_;
  Handler handler_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

}  // namespace meshdns
