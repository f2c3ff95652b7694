#include "server/tcp_listener.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "server/log.h"
#include "server/tcp_connection.h"
#include "server/tcp_connection_caps.h"
#include "server/worker.h"

namespace meshdns {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

absl::StatusOr<std::unique_ptr<TcpListener>> TcpListener::Open(Worker& worker, TcpConnectionCaps& caps,
                                                               const tcp::endpoint& at, uint16_t server) {
  tcp::acceptor acceptor(worker.io());
  boost::system::error_code ec;
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.set_option(ReusePort(true), ec);
  if (!ec && at.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on tcp ", at.address().to_string(), ":", at.port(), ": ", ec.message()));
  }
  return std::unique_ptr<TcpListener>(new TcpListener(worker, caps, std::move(acceptor), server));
}

void TcpListener::Start() { asio::co_spawn(worker_.io(), AcceptLoop(), LogIfException); }

void TcpListener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> TcpListener::AcceptLoop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      continue;
    }
    const LimitsConfig& limits = worker_.generation().runtime->config.limits;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) continue;
    const IpAddress client = FromAsioAddress(peer.address());
    const TcpConnectionCaps::Admit admit =
        caps_.TryAcquire(client, limits.tcp_connections, limits.tcp_connections_per_client);
    if (admit != TcpConnectionCaps::Admit::kAccepted) {
      ++(admit == TcpConnectionCaps::Admit::kOverTotal ? worker_.stats().tcp_rejected_global
                                                       : worker_.stats().tcp_rejected_per_client);
      // Over a cap the connection is closed at once, as a full server would.
      socket.close(ec);
      continue;
    }
    TcpConnection<tcp::socket>::Start({.worker = worker_, .caps = caps_, .scratch = scratch_, .server = server_}, std::move(socket),
                                      peer);
  }
}

}  // namespace meshdns
