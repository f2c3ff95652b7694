#include "server/upstream_channel.h"

#include "absl/strings/str_cat.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"

namespace meshdns {

UpstreamChannel::UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng)
    : io_(io), resolver_(std::move(resolver)), rng_(rng), socket_(io) {}

UpstreamChannel::~UpstreamChannel() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

absl::Status UpstreamChannel::Open() {
  boost::system::error_code ec;
  socket_.open(resolver_.protocol(), ec);
  if (!ec) socket_.connect(resolver_, ec);
  if (ec) {
    socket_.close(ec);
    return absl::UnavailableError(absl::StrCat("cannot open a socket to ", resolver_.address().to_string(), ":",
                                               resolver_.port(), ": ", ec.message()));
  }
  Receive();
  return absl::OkStatus();
}

void UpstreamChannel::Receive() {
  socket_.async_receive(asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t size) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // A connected UDP socket reports the resolver's ICMP port-unreachable
      // here; every query in flight to it has then failed.
      FailAll(ec);
    } else {
      OnDatagram(size);
    }
    if (socket_.is_open()) Receive();
  });
}

void UpstreamChannel::OnDatagram(size_t size) {
  std::span<const uint8_t> reply(buffer_.data(), size);
  if (size < kHeaderSize) {
    ++counters_.mismatched;
    return;
  }
  auto it = slots_.find(ReadU16(buffer_.data()));
  if (it == slots_.end() || it->second->answered || !ReplyMatchesQuery(reply, it->second->query)) {
    ++counters_.mismatched;
    return;
  }
  Slot* slot = it->second;
  slot->reply.assign(reply.begin(), reply.end());
  slot->answered = true;
  slot->timer->cancel();
}

void UpstreamChannel::FailAll(const boost::system::error_code& ec) {
  for (auto& [id, slot] : slots_) {
    if (slot->answered) continue;
    slot->error = ec;
    slot->timer->cancel();
  }
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> UpstreamChannel::ExchangeUdp(std::span<uint8_t> query,
                                                                                   Millis timeout) {
  if (!socket_.is_open()) {
    if (absl::Status s = Open(); !s.ok()) co_return s;
  }
  uint16_t id;
  do {
    id = absl::Uniform<uint16_t>(rng_);
  } while (slots_.contains(id));
  WriteU16(query.data(), id);

  asio::steady_timer timer(io_, std::chrono::milliseconds(timeout));
  Slot slot;
  slot.query = query;
  slot.timer = &timer;
  slots_.emplace(id, &slot);
  boost::system::error_code ec;
  socket_.send(asio::buffer(query.data(), query.size()), 0, ec);
  ++counters_.sent;
  if (!ec) co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  slots_.erase(id);
  if (slot.answered) co_return std::move(slot.reply);
  if (slot.error) ec = slot.error;
  if (ec && ec != asio::error::operation_aborted) {
    co_return absl::UnavailableError(absl::StrCat("resolver ", resolver_.address().to_string(), ":", resolver_.port(),
                                                  ": ", ec.message()));
  }
  co_return absl::DeadlineExceededError(absl::StrCat("resolver ", resolver_.address().to_string(), ":",
                                                     resolver_.port(), " did not answer within ", timeout, "ms"));
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> UpstreamChannel::ExchangeTcp(std::span<uint8_t> query,
                                                                                   Millis timeout) {
  WriteU16(query.data(), absl::Uniform<uint16_t>(rng_));
  tcp::socket sock(io_);
  asio::steady_timer deadline(io_, std::chrono::milliseconds(timeout));
  bool expired = false;
  deadline.async_wait([&sock, &expired](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the exchange finished first
    expired = true;
    boost::system::error_code ignored;
    sock.close(ignored);
  });
  const tcp::endpoint ep(resolver_.address(), resolver_.port());
  auto fail = [&](const boost::system::error_code& ec) -> absl::Status {
    std::string where = absl::StrCat("resolver ", ep.address().to_string(), ":", ep.port(), " over TCP: ");
    if (expired) return absl::DeadlineExceededError(absl::StrCat(where, "no answer within ", timeout, "ms"));
    return absl::UnavailableError(absl::StrCat(where, ec.message()));
  };
  boost::system::error_code ec;
  co_await sock.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(ec);
  uint8_t length[2];
  WriteU16(length, static_cast<uint16_t>(query.size()));
  std::array<asio::const_buffer, 2> out{asio::buffer(length, 2), asio::buffer(query.data(), query.size())};
  co_await asio::async_write(sock, out, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fail(ec);
  // Read replies until one answers our query; a stray one is skipped.
  while (true) {
    co_await asio::async_read(sock, asio::buffer(length, 2), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(ec);
    std::vector<uint8_t> reply(ReadU16(length));
    co_await asio::async_read(sock, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail(ec);
    if (ReplyMatchesQuery(reply, query)) {
      deadline.cancel();
      co_return reply;
    }
    ++counters_.mismatched;
  }
}

}  // namespace meshdns
