#include "server/tcp_link.h"

#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"

namespace meshdns {

struct TcpLink::Slot {
  std::span<const uint8_t> query;
  asio::steady_timer* timer = nullptr;
  std::vector<uint8_t> reply;
  bool answered = false;
  boost::system::error_code error;
};

struct TcpLink::Connection {
  explicit Connection(asio::io_context& io) : socket(io), idle(io) {}
  enum class State { kConnecting, kOpen, kDead } state = State::kConnecting;
  tcp::socket socket;
  std::vector<asio::steady_timer*> waiting;  // queries waiting for the connection; woken by cancel()
  asio::steady_timer idle;
  absl::flat_hash_map<uint16_t, Slot*> slots;
  std::deque<std::vector<uint8_t>> outbox;
  bool writing = false;
  Millis last_used = 0;
  boost::system::error_code error;

  void Kill(const boost::system::error_code& ec) {
    if (state == State::kDead) return;
    state = State::kDead;
    error = ec;
    boost::system::error_code ignored;
    socket.close(ignored);
    idle.cancel();
    WakeWaiting();
    for (auto& [id, slot] : slots) {
      if (slot->answered) continue;
      slot->error = ec ? ec : asio::error::connection_aborted;
      slot->timer->cancel();
    }
  }
  void WakeWaiting() {
    for (asio::steady_timer* t : waiting) t->cancel();
    waiting.clear();
  }
};

TcpLink::~TcpLink() {
  if (connection_) connection_->Kill(asio::error::operation_aborted);
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> TcpLink::Exchange(std::span<uint8_t> query, Millis timeout,
                                                                        Millis expire) {
  asio::steady_timer timer(io_, std::chrono::milliseconds(timeout));
  std::shared_ptr<Connection> c = connection_;
  if (!c || c->state == Connection::State::kDead) {
    c = connection_ = std::make_shared<Connection>(io_);
    ++counters_.tcp_connections;
    asio::co_spawn(io_, [this, c]() -> asio::awaitable<void> {
      boost::system::error_code ec;
      co_await c->socket.async_connect(tcp::endpoint(resolver_.address(), resolver_.port()),
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (c->state == Connection::State::kDead) co_return;
      if (ec) {
        c->Kill(ec);
        co_return;
      }
      c->state = Connection::State::kOpen;
      c->WakeWaiting();
      asio::co_spawn(io_, Read(c), asio::detached);
    }, asio::detached);
  }
  if (c->state == Connection::State::kConnecting) {
    // Wait for the connection, but no longer than this query may take: the
    // query's own timer either expires or is cancelled by the connector.
    asio::steady_timer connect_wait(io_, std::chrono::milliseconds(timeout));
    c->waiting.push_back(&connect_wait);
    boost::system::error_code ec;
    co_await connect_wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::erase(c->waiting, &connect_wait);
    if (!ec) {
      co_return absl::DeadlineExceededError(
          absl::StrCat(DescribeResolver(resolver_), " over TCP: no connection within ", timeout, "ms"));
    }
  }
  if (c->state != Connection::State::kOpen) {
    co_return absl::UnavailableError(absl::StrCat(DescribeResolver(resolver_), " over TCP: ", c->error.message()));
  }

  uint16_t id;
  do {
    id = absl::Uniform<uint16_t>(rng_);
  } while (c->slots.contains(id));
  WriteU16(query.data(), id);
  Slot slot;
  slot.query = query;
  slot.timer = &timer;
  c->slots.emplace(id, &slot);
  std::vector<uint8_t> framed(query.size() + 2);
  WriteU16(framed.data(), static_cast<uint16_t>(query.size()));
  std::copy(query.begin(), query.end(), framed.begin() + 2);
  c->outbox.push_back(std::move(framed));
  if (!c->writing) asio::co_spawn(io_, Write(c), asio::detached);
  ++counters_.sent;

  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  c->slots.erase(id);
  c->last_used = NowMillis();
  if (c->slots.empty() && c->state == Connection::State::kOpen) IdleCheck(c, expire);
  if (slot.answered) co_return std::move(slot.reply);
  if (slot.error) {
    co_return absl::UnavailableError(absl::StrCat(DescribeResolver(resolver_), " over TCP: ", slot.error.message()));
  }
  co_return absl::DeadlineExceededError(
      absl::StrCat(DescribeResolver(resolver_), " over TCP: no answer within ", timeout, "ms"));
}

asio::awaitable<void> TcpLink::Write(std::shared_ptr<Connection> c) {
  c->writing = true;
  while (!c->outbox.empty() && c->state == Connection::State::kOpen) {
    std::vector<uint8_t> frame = std::move(c->outbox.front());
    c->outbox.pop_front();
    boost::system::error_code ec;
    co_await asio::async_write(c->socket, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) c->Kill(ec);
  }
  c->writing = false;
}

asio::awaitable<void> TcpLink::Read(std::shared_ptr<Connection> c) {
  std::vector<uint8_t> reply;
  while (c->state == Connection::State::kOpen) {
    boost::system::error_code ec;
    uint8_t length[2];
    co_await asio::async_read(c->socket, asio::buffer(length, 2), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      reply.resize(ReadU16(length));
      co_await asio::async_read(c->socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      c->Kill(ec);
      break;
    }
    auto it = reply.size() >= kHeaderSize ? c->slots.find(ReadU16(reply.data())) : c->slots.end();
    if (it == c->slots.end() || it->second->answered || !ReplyMatchesQuery(reply, it->second->query)) {
      mismatches_.Count("tcp");
      continue;
    }
    Slot& slot = *it->second;
    slot.reply.assign(reply.begin(), reply.end());
    slot.answered = true;
    slot.timer->cancel();
  }
  if (connection_ == c) connection_.reset();
}

void TcpLink::IdleCheck(std::shared_ptr<Connection> c, Millis expire) {
  c->idle.expires_after(std::chrono::milliseconds(expire));
  c->idle.async_wait([c, expire](const boost::system::error_code& ec) {
    if (ec || !c->slots.empty()) return;
    if (NowMillis() - c->last_used >= expire) c->Kill(asio::error::timed_out);
  });
}

}  // namespace meshdns
