#include "server/tcp_listener.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "dnscore/admission.h"
#include "server/log.h"
#include "server/query_log.h"
#include "server/tcp_connection_caps.h"
#include "server/worker.h"

namespace meshdns {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

absl::StatusOr<std::unique_ptr<TcpListener>> TcpListener::Open(Worker& worker, TcpConnectionCaps& caps,
                                                               const tcp::endpoint& at) {
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
  return std::unique_ptr<TcpListener>(new TcpListener(worker, caps, std::move(acceptor)));
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
    asio::co_spawn(worker_.io(), Serve(std::move(socket), client), LogIfException);
  }
}

asio::awaitable<void> TcpListener::Serve(tcp::socket accepted, IpAddress client) {
  struct Slot {
    TcpConnectionCaps& caps;
    IpAddress ip;
    ~Slot() { caps.Release(ip); }
  } slot{caps_, client};
  // Shared with the deadline's handler, which may already be queued when this
  // coroutine ends and must not find the socket gone.
  struct Connection {
    tcp::socket socket;
    asio::steady_timer deadline;
    bool timed_out = false;
  };
  auto c = std::make_shared<Connection>(Connection{std::move(accepted), asio::steady_timer(worker_.io())});
  tcp::socket& socket = c->socket;
  // The client's halves of each exchange run against limits.tcp_idle: the wait
  // for a query together with reading all of it, then the writing of the reply.
  // So a slowloris client trickling bytes, or one that never reads its replies,
  // loses its slot after tcp_idle. Time spent resolving is meshdns's own and
  // does not count.
  const auto arm_deadline = [&c](Millis ms) {
    c->deadline.expires_after(std::chrono::milliseconds(ms));
    c->deadline.async_wait([c](const boost::system::error_code& ec) {
      if (ec) return;
      c->timed_out = true;
      boost::system::error_code ignored;
      c->socket.close(ignored);
    });
  };
  std::vector<uint8_t> in(kMaxQuerySize), out(kMaxMessageSize + 2);
  while (socket.is_open() && !worker_.stopping()) {
    const Generation& g = worker_.generation();
    arm_deadline(g.runtime->config.limits.tcp_idle);
    boost::system::error_code ec;
    uint8_t length[2];
    co_await asio::async_read(socket, asio::buffer(length, 2), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const size_t size = ReadU16(length);
    if (size > kMaxQuerySize) {  // not a query: not worth reading
      ++worker_.stats().dropped_oversized;
      break;
    }
    co_await asio::async_read(socket, asio::buffer(in.data(), size), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    c->deadline.cancel();
    worker_.QueryStarted();  // until the reply is written: shutdown waits for it
    const auto started = std::chrono::steady_clock::now();

    std::span<const uint8_t> query(in.data(), size);
    std::span<uint8_t> reply(out.data() + 2, out.size() - 2);
    QueryView view;
    boost::system::error_code peer_ec;
    const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) {
      worker_.QueryFinished();
      break;
    }
    Admitted admitted = AdmitQuery(query, FromAsioAddress(peer.address()),
                                   AdmitOptions{.acl = &g.runtime->acl, .cache = g.cache.get(), .udp = false,
                                                .now = NowMillis(), .prefetch = g.runtime->prefetch(),
                                                .rotation = &worker_.engine().rotation()},
                                   view, reply);
    if (admitted.prefetch) worker_.Prefetch(view);
    worker_.stats().CountAdmitted(ServerStats::kTcp, peer.address().is_v6(), admitted, view, size);
    size_t reply_size = admitted.size;
    if (admitted.verdict == Verdict::kResolve) {
      const Answer answer = co_await worker_.engine().ResolveMiss(view);
      reply_size = worker_.engine().WriteAnswer(answer, query, view, kMaxMessageSize, reply);
    }
    if (reply_size != 0) {
      const int64_t micros = Micros(started);
      worker_.stats().CountResponse(ServerStats::kTcp, view.qtype, reply[3] & 0xf, reply_size, micros);
      // Not `g`: a reload during the resolution may have replaced that generation.
      const Generation& now = worker_.generation();
      if (now.runtime->config.log_queries) {
        const std::string host = peer.address().to_string();
        Log(LogLevel::kInfo,
            FormatQueryLog({.remote = peer.address().is_v6() ? absl::StrCat("[", host, "]") : host,
                            .port = peer.port(), .query = &view, .tcp = true, .request_size = size,
                            .reply = reply.first(reply_size), .micros = micros}));
      }
      WriteU16(out.data(), static_cast<uint16_t>(reply_size));
      arm_deadline(now.runtime->config.limits.tcp_idle);
      co_await asio::async_write(socket, asio::buffer(out.data(), reply_size + 2),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    worker_.QueryFinished();
    // Not DNS (or the client went away): this stream cannot be trusted further.
    if (admitted.verdict == Verdict::kDrop || ec) break;
  }
  c->deadline.cancel();
  if (c->timed_out) ++worker_.stats().tcp_timeouts;
  boost::system::error_code ignored;
  socket.close(ignored);
}

}  // namespace meshdns
