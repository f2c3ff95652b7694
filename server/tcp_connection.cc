#include "server/tcp_connection.h"

#include "absl/strings/str_cat.h"
#include "dnscore/admission.h"
#include "server/log.h"
#include "server/query_log.h"
#include "server/tcp_connection_caps.h"
#include "server/worker.h"

namespace meshdns {

template <typename Stream>
void TcpConnection<Stream>::Start(Shared shared, Stream stream, const tcp::endpoint& peer) {
  std::shared_ptr<TcpConnection> c(new TcpConnection(shared, std::move(stream), peer));
  asio::co_spawn(shared.worker.io(), c->Read(), [c](std::exception_ptr e) {
    if (!e) return;
    LogIfException(e);
    c->Close();
  });
}

template <typename Stream>
TcpConnection<Stream>::TcpConnection(Shared shared, Stream stream, const tcp::endpoint& peer)
    : shared_(shared),
      stream_(std::move(stream)),
      peer_(peer),
      read_deadline_(shared.worker.io()),
      write_deadline_(shared.worker.io()),
      room_(shared.worker.io()) {
  boost::system::error_code ignored;  // a socket already reset: {server_ip} stays unspecified
  local_ = stream_.lowest_layer().local_endpoint(ignored);
}

template <typename Stream>
TcpConnection<Stream>::~TcpConnection() {
  // Only when the worker's io_context went down with the connection open.
  if (!closed_) shared_.caps.Release(FromAsioAddress(peer_.address()));
}

template <typename Stream>
asio::awaitable<void> TcpConnection<Stream>::Read() {
  auto self = this->shared_from_this();  // the reader alone may be what keeps the connection
  Worker& worker = shared_.worker;
  while (!closed_ && !worker.stopping()) {
    boost::system::error_code ec;
    while (!window_.HasRoom() && !closed_) {
      room_.expires_at(asio::steady_timer::time_point::max());
      co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (closed_) break;
    // The wait for a query and the reading of all of it are the client's to
    // answer for, but only while the connection owes it nothing: time spent
    // resolving or writing its queries is not its idling.
    reading_ = true;
    if (window_.open() == 0) Arm(read_deadline_);
    uint8_t length[2];
    co_await asio::async_read(stream_, asio::buffer(length, 2), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const size_t size = ReadU16(length);
    if (size > kMaxQuerySize) {  // not a query: not worth reading
      ++worker.stats().dropped_oversized;
      break;
    }
    query_.resize(size);
    co_await asio::async_read(stream_, asio::buffer(query_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    reading_ = false;
    Disarm(read_deadline_);
    // Not DNS: this stream cannot be trusted further.
    if (!Take()) break;
  }
  reading_ = false;
  Disarm(read_deadline_);
  Apply(window_.StopReading());
}

template <typename Stream>
bool TcpConnection<Stream>::Take() {
  const std::span<const uint8_t> query = query_;
  Worker& worker = shared_.worker;
  window_.Taken();
  worker.QueryStarted();  // until the reply is written: shutdown waits for it
  const auto started = Clock::now();
  const Generation& g = worker.generation();
  QueryView view;
  const ClientAddress who = Who();
  const Admitted admitted = AdmitQuery(
      query, who.ip,
      AdmitOptions{.acl = &g.runtime->acl, .program = &g.runtime->program, .cache = g.cache.get(), .udp = false, .now = NowMillis(),
                   .prefetch = g.runtime->prefetch(), .rotation = &worker.engine().rotation(),
                   .server = shared_.server, .who = &who},
      view, shared_.scratch);
  if (admitted.prefetch) worker.Prefetch(view, shared_.server);
  worker.stats().CountAdmitted(ServerStats::kTcp, peer_.address().is_v6(), admitted, view, query.size());
  switch (admitted.verdict) {
    case Verdict::kReply:
      Reply(query, view, admitted.size, started);
      return true;
    case Verdict::kResolve:
      // The query stays with its resolution; the reader goes on with the next.
      asio::co_spawn(worker.io(),
                     Resolve(this->shared_from_this(), std::vector<uint8_t>(query.begin(), query.end()), view, started),
                     [this, self = this->shared_from_this()](std::exception_ptr e) {
                       if (!e) return;
                       LogIfException(e);
                       Close();
                     });
      return true;
    case Verdict::kDrop:
      if (admitted.acl_dropped) {  // a sound query an acl drops: no reply, and the connection goes on, as in CoreDNS
        Apply(window_.Unanswered());
        return true;
      }
      break;
  }
  Apply(window_.Unanswered());
  return false;
}

template <typename Stream>
asio::awaitable<void> TcpConnection<Stream>::Resolve(std::shared_ptr<TcpConnection> self, std::vector<uint8_t> query,
                                                     QueryView view, Clock::time_point started) {
  QueryEngine& engine = shared_.worker.engine();
  // The query's one top-level catch: a failed resolution (a bug, or memory)
  // costs this query a SERVFAIL, not the connection its other queries.
  Answer answer = Answer::ServFail();
  try {
    answer = co_await engine.ResolveMiss(view, query, shared_.server, Who());
  } catch (const std::exception& e) {
    Log(LogLevel::kError, "tcp: resolving a query from ", peer_.address().to_string(), " failed: ", e.what());
  }
  Reply(query, view, engine.WriteAnswer(answer, query, view, kMaxMessageSize, shared_.scratch), started);
}

template <typename Stream>
void TcpConnection<Stream>::Reply(std::span<const uint8_t> query, const QueryView& view, size_t size,
                                  Clock::time_point started) {
  if (size == 0) {
    Apply(window_.Unanswered());
    return;
  }
  Worker& worker = shared_.worker;
  const std::span<const uint8_t> reply = shared_.scratch.first(size);
  const int64_t micros = Micros(started);
  worker.stats().CountResponse(ServerStats::kTcp, view.qtype, reply[3] & 0xf, size, micros, view.route);
  // The worker's generation now: a reload during the resolution may have replaced the one it started under.
  if (const LogRule* rule = worker.generation().runtime->QueryLogRule(view.qname, shared_.server, reply, view.route)) {
    const std::string host = peer_.address().to_string();
    Log(LogLevel::kInfo,
        FormatQueryLog({.remote = peer_.address().is_v6() ? absl::StrCat("[", host, "]") : host,
                        .port = peer_.port(), .query = &view, .tcp = true, .request_size = query.size(),
                        .reply = reply, .micros = micros, .format = rule->format}));
  }
  Apply(window_.Replied(reply));
}

template <typename Stream>
void TcpConnection<Stream>::Apply(const TcpQueryWindow::Next& next) {
  for (size_t i = 0; i < next.finished; ++i) shared_.worker.QueryFinished();
  if (next.write) Write();
  if (next.room) room_.cancel();
  if (next.client_turn && reading_) Arm(read_deadline_);
  if (next.close) Close();
}

template <typename Stream>
void TcpConnection<Stream>::Write() {
  Arm(write_deadline_);
  asio::async_write(stream_, asio::buffer(window_.writing().data(), window_.writing().size()),
                    [this, self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
                      Disarm(write_deadline_);
                      if (ec) Close();
                      Apply(window_.Written());
                    });
}

template <typename Stream>
void TcpConnection<Stream>::Arm(asio::steady_timer& deadline) {
  deadline.expires_after(std::chrono::milliseconds(shared_.worker.generation().runtime->config.limits.tcp_idle));
  deadline.async_wait([this, self = this->shared_from_this(), &deadline](const boost::system::error_code& ec) {
    // A deadline moved or disarmed after it had expired still finds its
    // handler queued: only the expiry it has now counts.
    if (ec || deadline.expiry() > Clock::now() || closed_) return;
    ++shared_.worker.stats().tcp_timeouts;
    Close();
  });
}

template <typename Stream>
void TcpConnection<Stream>::Disarm(asio::steady_timer& deadline) {
  deadline.expires_at(asio::steady_timer::time_point::max());
}

template <typename Stream>
void TcpConnection<Stream>::Close() {
  if (closed_) return;
  closed_ = true;
  Disarm(read_deadline_);
  Disarm(write_deadline_);
  room_.cancel();
  boost::system::error_code ignored;
  stream_.lowest_layer().close(ignored);
  shared_.caps.Release(FromAsioAddress(peer_.address()));
  Apply(window_.Abort());
}

template class TcpConnection<tcp::socket>;

}  // namespace meshdns
