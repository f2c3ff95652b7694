#include "server/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace meshdns {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// A scrape or a probe is one small request; a client that takes longer is gone.
constexpr auto kSessionTimeout = std::chrono::seconds(10);

}  // namespace

absl::Status HttpServer::Listen(const SocketAddress& at, std::set<std::string> paths) {
  auto listener = std::make_shared<Listener>(io_);
  listener->paths = std::move(paths);
  const tcp::endpoint endpoint(ToAsioAddress(at), at.port);
  boost::system::error_code ec;
  listener->acceptor.open(endpoint.protocol(), ec);
  if (!ec) listener->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) listener->acceptor.bind(endpoint, ec);
  if (!ec) listener->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on http ", at.ToString(), ": ", ec.message()));
  listeners_.push_back(listener);
  asio::co_spawn(io_, Accept(listener), LogIfException);
  return absl::OkStatus();
}

void HttpServer::Stop() {
  boost::system::error_code ignored;
  for (auto& l : listeners_) l->acceptor.close(ignored);
}

asio::awaitable<void> HttpServer::Accept(std::shared_ptr<Listener> listener) {
  while (listener->acceptor.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await listener->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(io_, Session(std::move(socket), listener), LogIfException);
  }
}

asio::awaitable<void> HttpServer::Session(tcp::socket socket, std::shared_ptr<Listener> listener) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    stream.expires_after(kSessionTimeout);
    http::request<http::string_body> request;
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    std::string path(request.target());
    if (const size_t q = path.find('?'); q != std::string::npos) path.resize(q);

    HttpResponse r;
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      r = {405, "only GET and HEAD\n"};
    } else if (!listener->paths.contains(path)) {
      r = {404, "not found\n"};
    } else {
      r = co_await handler_(path);
    }
    http::response<http::string_body> response{static_cast<http::status>(r.status), request.version()};
    response.set(http::field::server, "meshdns");
    response.set(http::field::content_type, r.content_type);
    response.keep_alive(request.keep_alive());
    if (request.method() != http::verb::head) response.body() = std::move(r.body);
    response.prepare_payload();
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !request.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace meshdns
