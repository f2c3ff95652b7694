#include "server/upstream_channel.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"
#include "server/log.h"

namespace meshdns {
namespace {

std::string Where(const udp::endpoint& ep) { return absl::StrCat("resolver ", ep.address().to_string(), ":", ep.port()); }

boost::system::error_code LastError() { return {errno, boost::system::system_category()}; }

}  // namespace

struct UpstreamChannel::UdpSocket {
  explicit UdpSocket(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  HandlerMemory wait_memory;
  // Counts openings: a wait or read of an earlier port (retired while its
  // replies were handled) must not go on with the new one, which has its own.
  uint32_t opened = 0;
  uint32_t uses = 0;
  uint32_t pending = 0;
};

struct UpstreamChannel::TcpLink {
  explicit TcpLink(asio::io_context& io) : socket(io), idle(io) {}
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
    FailAll(slots, ec ? ec : asio::error::connection_aborted);
  }
  void WakeWaiting() {
    for (asio::steady_timer* t : waiting) t->cancel();
    waiting.clear();
  }
};

UpstreamChannel::Inbox::Inbox() {
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

UpstreamChannel::Outbox::Outbox() {
  for (size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buffers[i].data(), 0};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

UpstreamChannel::UpstreamChannel(asio::io_context& io, udp::endpoint resolver, absl::BitGen& rng, Inbox& inbox,
                                 DeadlineWheel& wheel)
    : io_(io), resolver_(std::move(resolver)), rng_(rng), inbox_(inbox), wheel_(wheel) {}

UpstreamChannel::~UpstreamChannel() {
  boost::system::error_code ignored;
  for (auto& s : sockets_) {
    if (s) s->socket.close(ignored);
  }
  if (tcp_) tcp_->Kill(asio::error::operation_aborted);
}

template <typename Map>
uint16_t UpstreamChannel::FreshId(const Map& in_use) {
  uint16_t id;
  do {
    id = absl::Uniform<uint16_t>(rng_);
  } while (in_use.contains(id));
  return id;
}

void UpstreamChannel::Fill(Slot& slot, std::span<const uint8_t> reply) {
  slot.reply.assign(reply.begin(), reply.end());
  slot.answered = true;
  slot.timer->cancel();
}

void UpstreamChannel::FailAll(absl::flat_hash_map<uint16_t, Slot*>& slots, const boost::system::error_code& ec) {
  for (auto& [id, slot] : slots) {
    if (slot->answered) continue;
    slot->error = ec;
    slot->timer->cancel();
  }
}

absl::StatusOr<size_t> UpstreamChannel::PickSocket() {
  // Start at a random socket; skip ones that are retiring and still busy.
  const size_t start = absl::Uniform<size_t>(rng_, 0, kSockets);
  size_t chosen = start;
  for (size_t k = 0; k < kSockets; ++k) {
    const size_t i = (start + k) % kSockets;
    if (!sockets_[i] || sockets_[i]->uses < kSocketUses || sockets_[i]->pending == 0) {
      chosen = i;
      break;
    }
  }
  auto& s = sockets_[chosen];
  if (!s) s = std::make_unique<UdpSocket>(io_);
  if (s->socket.is_open() && s->uses >= kSocketUses && s->pending == 0) {
    boost::system::error_code ignored;
    s->socket.close(ignored);  // its wait completes as aborted; a new one starts below
  }
  if (!s->socket.is_open()) {
    boost::system::error_code ec;
    s->socket.open(resolver_.protocol(), ec);
    if (!ec) s->socket.non_blocking(true, ec);
    if (!ec) s->socket.connect(resolver_, ec);
    if (ec) {
      boost::system::error_code ignored;  // close must not overwrite the reason
      s->socket.close(ignored);
      return absl::UnavailableError(absl::StrCat("cannot open a socket to ", Where(resolver_), ": ", ec.message()));
    }
    s->uses = 0;
    ++s->opened;
    ++counters_.sockets_opened;
    WaitReadable(chosen);
  }
  return chosen;
}

absl::StatusOr<size_t> UpstreamChannel::Enqueue(std::span<const uint8_t> query, uint16_t id) {
  if (query.size() > kMaxQuery) return absl::InvalidArgumentError("query too large");
  if (outbox_.count == kBatch) Flush();
  if (outbox_.count == 0) {
    absl::StatusOr<size_t> index = PickSocket();
    if (!index.ok()) return index.status();
    outbox_.socket = *index;
  }
  const size_t k = outbox_.count++;
  std::copy(query.begin(), query.end(), outbox_.buffers[k].begin());
  outbox_.iov[k].iov_len = query.size();
  outbox_.ids[k] = id;
  if (!outbox_.flush_posted) {
    outbox_.flush_posted = true;
    asio::post(io_, InMemory(flush_memory_, [this] { Flush(); }));
  }
  return outbox_.socket;
}

void UpstreamChannel::Flush() {
  outbox_.flush_posted = false;
  const size_t count = std::exchange(outbox_.count, 0);
  if (count == 0) return;
  const int fd = sockets_[outbox_.socket]->socket.native_handle();
  for (size_t sent = 0; sent < count;) {
    const int n = sendmmsg(fd, outbox_.msgs.data() + sent, count - sent, 0);
    if (n > 0) {
      sent += n;
      continue;
    }
    if (errno == EINTR) continue;
    // A full socket buffer loses the rest like a lossy link would: their
    // timers retransmit or move on. Any other error fails this query at once.
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    const uint16_t id = outbox_.ids[sent];
    if (auto it = slots_.find(id); it != slots_.end()) {
      if (unsent_.empty()) asio::post(io_, InMemory(unsent_memory_, [this] { FailUnsent(); }));
      unsent_.emplace_back(id, it->second.serial);
      unsent_error_ = LastError();
    }
    ++sent;
  }
  counters_.sent += count;
}

void UpstreamChannel::FailUnsent() { FailEach(std::exchange(unsent_, {}), unsent_error_); }

void UpstreamChannel::FailEach(std::vector<ExchangeRef> exchanges, const boost::system::error_code& ec) {
  const absl::Status failure = absl::UnavailableError(absl::StrCat(Where(resolver_), ": ", ec.message()));
  for (const auto& [id, serial] : exchanges) EndUdp(id, serial, {}, failure);
}

void UpstreamChannel::WaitReadable(size_t index) {
  UdpSocket& s = *sockets_[index];
  const uint32_t opened = s.opened;
  s.socket.async_wait(udp::socket::wait_read,
                      InMemory(s.wait_memory, [this, index, &s, opened](const boost::system::error_code& ec) {
                        if (ec == asio::error::operation_aborted || !s.socket.is_open() || s.opened != opened) return;
                        if (ec) {
                          FailSocket(index, ec);
                          if (s.socket.is_open() && s.opened == opened) WaitReadable(index);
                          return;
                        }
                        OnReadable(index);
                      }));
}

void UpstreamChannel::OnReadable(size_t index) {
  // As many batches as the listener takes per wake-up (kBatchesPerWakeup there).
  constexpr int kBatchesPerWakeup = 8;
  UdpSocket& s = *sockets_[index];
  const uint32_t opened = s.opened;
  // Waiters told of their replies may retire this very port (and open the next).
  auto same_port = [&] { return s.socket.is_open() && s.opened == opened; };
  for (int round = 0; round < kBatchesPerWakeup && same_port(); ++round) {
    if (ReadBatch(index)) {
      if (same_port()) WaitReadable(index);
      return;
    }
  }
  if (!same_port()) return;
  asio::post(io_, InMemory(s.wait_memory, [this, index, &s, opened] {
    if (s.socket.is_open() && s.opened == opened) OnReadable(index);
  }));
}

bool UpstreamChannel::ReadBatch(size_t index) {
  const int fd = sockets_[index]->socket.native_handle();
  for (size_t k = 0; k < kBatch; ++k) inbox_.msgs[k].msg_hdr.msg_flags = 0;
  const int received = recvmmsg(fd, inbox_.msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (received < 0) {
    // A connected UDP socket reports the resolver's ICMP port-unreachable
    // here: every query in flight on this socket has failed.
    if (errno == EINTR) return false;
    if (errno != EAGAIN && errno != EWOULDBLOCK) FailSocket(index, LastError());
    return true;
  }
  const uint32_t opened = sockets_[index]->opened;
  for (int k = 0; k < received; ++k) {
    // A waiter told of its reply may have retired the port (and opened its
    // successor at this index): the rest of the batch came to the old port,
    // whose queries have all ended, and must not reach the new one's.
    if (sockets_[index]->opened != opened) {
      counters_.mismatched += received - k;
      break;
    }
    if (inbox_.msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
      CountMismatch("oversized udp");
      continue;
    }
    OnDatagram(index, std::span<const uint8_t>(inbox_.buffers[k].data(), inbox_.msgs[k].msg_len));
  }
  return received < static_cast<int>(kBatch);
}

void UpstreamChannel::FailSocket(size_t index, const boost::system::error_code& ec) {
  // Collected first: waiters told of the failure may start exchanges of their own.
  std::vector<ExchangeRef> exchanges;
  for (const auto& [id, slot] : slots_) {
    if (slot.socket == index) exchanges.emplace_back(id, slot.serial);
  }
  FailEach(std::move(exchanges), ec);
}

void UpstreamChannel::OnDatagram(size_t index, std::span<const uint8_t> reply) {
  auto it = reply.size() >= kHeaderSize ? slots_.find(ReadU16(reply.data())) : slots_.end();
  if (it == slots_.end() || it->second.socket != index || !ReplyMatchesQuery(reply, it->second.query)) {
    CountMismatch("udp");
    return;
  }
  EndUdp(it->first, std::nullopt, reply, absl::OkStatus());
}

void UpstreamChannel::EndUdp(uint16_t id, std::optional<uint32_t> serial, std::span<const uint8_t> reply,
                             const absl::Status& failure) {
  auto it = slots_.find(id);
  if (it == slots_.end() || (serial && it->second.serial != *serial)) return;
  const UdpSlot slot = it->second;
  slots_.erase(it);
  Release(slot.socket);
  if (failure.ok()) {
    slot.waiter->OnUdpReply(reply, slot.retransmitted);
  } else {
    slot.waiter->OnUdpFailure(failure);
  }
}

// Cookies: the slot's serial above its ID.
void UpstreamChannel::Expired(uint64_t cookie) {
  auto it = slots_.find(static_cast<uint16_t>(cookie));
  if (it == slots_.end() || it->second.serial != static_cast<uint32_t>(cookie >> 16)) return;  // ended already
  UdpSlot& slot = it->second;
  const auto now = DeadlineWheel::Clock::now();
  if (now >= slot.deadline) {
    EndUdp(it->first, std::nullopt, {},
           absl::DeadlineExceededError(absl::StrCat(Where(resolver_), " did not answer within ", slot.timeout, "ms")));
    return;
  }
  if (slot.retransmit_every <= 0) {  // not a resend point: wait on for the deadline
    wheel_.Add(slot.deadline, this, cookie);
    return;
  }
  // A resend goes out at once, on the socket and with the ID of the first copy.
  if (::send(sockets_[slot.socket]->socket.native_handle(), slot.query.data(), slot.query.size(), MSG_DONTWAIT) < 0 &&
      errno != EAGAIN) {
    EndUdp(it->first, std::nullopt, {},
           absl::UnavailableError(absl::StrCat(Where(resolver_), ": ", LastError().message())));
    return;
  }
  ++counters_.sent;
  slot.retransmitted = true;
  wheel_.Add(std::min(slot.deadline, now + std::chrono::milliseconds(slot.retransmit_every)), this, cookie);
}

void UpstreamChannel::CountMismatch(const char* transport) {
  ++counters_.mismatched;
  const Millis now = NowMillis();
  if (now - last_mismatch_log_ < 1000) return;
  last_mismatch_log_ = now;
  Log(LogLevel::kWarn, Where(resolver_), ": dropped a ", transport,
      " reply that answers no query of ours (wrong ID, port or question); ", counters_.mismatched,
      " so far on this worker");
}

void UpstreamChannel::Release(size_t index) {
  UdpSocket& s = *sockets_[index];
  --s.pending;
  // A port the outbox is about to send on stays; PickSocket retires it later.
  if (s.pending == 0 && s.uses >= kSocketUses && !(outbox_.count > 0 && outbox_.socket == index)) {
    boost::system::error_code ignored;
    s.socket.close(ignored);  // retired: the next query on this index opens a new port
  }
}

absl::Status UpstreamChannel::StartUdp(std::span<uint8_t> query, UdpOptions options, Waiter* waiter) {
  const uint16_t id = FreshId(slots_);
  WriteU16(query.data(), id);
  const auto now = DeadlineWheel::Clock::now();
  // The ID is taken before Enqueue(): a full outbox is flushed there, and a
  // waiter told of a failed send may start an exchange of its own.
  slots_[id] = UdpSlot{.query = query,
                       .waiter = waiter,
                       .deadline = now + std::chrono::milliseconds(options.timeout),
                       .timeout = options.timeout,
                       .retransmit_every = options.retransmit_every,
                       .serial = ++next_serial_};
  absl::StatusOr<size_t> index = Enqueue(query, id);
  if (!index.ok()) {
    slots_.erase(id);
    return index.status();
  }
  UdpSocket& s = *sockets_[*index];
  ++s.uses;
  ++s.pending;
  UdpSlot& slot = slots_[id];
  slot.socket = *index;
  auto wake = slot.deadline;
  if (options.retransmit_every > 0) wake = std::min(wake, now + std::chrono::milliseconds(options.retransmit_every));
  wheel_.Add(wake, this, uint64_t{slot.serial} << 16 | id);
  return absl::OkStatus();
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> UpstreamChannel::ExchangeUdp(std::span<uint8_t> query,
                                                                                   UdpOptions options,
                                                                                   bool* retransmitted) {
  struct Wake final : Waiter {
    explicit Wake(asio::io_context& io) : wakeup(io) {}
    void OnUdpReply(std::span<const uint8_t> reply, bool resent) override {
      result = std::vector<uint8_t>(reply.begin(), reply.end());
      retransmitted = resent;
      wakeup.Wake();
    }
    void OnUdpFailure(absl::Status status) override {
      result = std::move(status);
      wakeup.Wake();
    }
    Wakeup wakeup;
    absl::StatusOr<std::vector<uint8_t>> result = absl::UnknownError("no answer yet");
    bool retransmitted = false;
  } wake(io_);
  if (absl::Status started = StartUdp(query, options, &wake); !started.ok()) co_return started;
  co_await wake.wakeup.Wait();
  if (retransmitted != nullptr) *retransmitted = wake.retransmitted;
  co_return std::move(wake.result);
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> UpstreamChannel::ExchangeTcp(std::span<uint8_t> query,
                                                                                   Millis timeout, Millis expire) {
  asio::steady_timer timer(io_, std::chrono::milliseconds(timeout));
  std::shared_ptr<TcpLink> link = tcp_;
  if (!link || link->state == TcpLink::State::kDead) {
    link = tcp_ = std::make_shared<TcpLink>(io_);
    ++counters_.tcp_connections;
    asio::co_spawn(io_, [this, link]() -> asio::awaitable<void> {
      boost::system::error_code ec;
      co_await link->socket.async_connect(tcp::endpoint(resolver_.address(), resolver_.port()),
                                          asio::redirect_error(asio::use_awaitable, ec));
      if (link->state == TcpLink::State::kDead) co_return;
      if (ec) {
        link->Kill(ec);
        co_return;
      }
      link->state = TcpLink::State::kOpen;
      link->WakeWaiting();
      asio::co_spawn(io_, TcpRead(link), asio::detached);
    }, asio::detached);
  }
  if (link->state == TcpLink::State::kConnecting) {
    // Wait for the connection, but no longer than this query may take: the
    // query's own timer either expires or is cancelled by the connector.
    asio::steady_timer connect_wait(io_, std::chrono::milliseconds(timeout));
    link->waiting.push_back(&connect_wait);
    boost::system::error_code ec;
    co_await connect_wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    std::erase(link->waiting, &connect_wait);
    if (!ec) {
      co_return absl::DeadlineExceededError(absl::StrCat(Where(resolver_), " over TCP: no connection within ",
                                                         timeout, "ms"));
    }
  }
  if (link->state != TcpLink::State::kOpen) {
    co_return absl::UnavailableError(absl::StrCat(Where(resolver_), " over TCP: ", link->error.message()));
  }

  const uint16_t id = FreshId(link->slots);
  WriteU16(query.data(), id);
  Slot slot;
  slot.query = query;
  slot.timer = &timer;
  link->slots.emplace(id, &slot);
  std::vector<uint8_t> framed(query.size() + 2);
  WriteU16(framed.data(), static_cast<uint16_t>(query.size()));
  std::copy(query.begin(), query.end(), framed.begin() + 2);
  link->outbox.push_back(std::move(framed));
  if (!link->writing) asio::co_spawn(io_, TcpWrite(link), asio::detached);
  ++counters_.sent;

  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  link->slots.erase(id);
  link->last_used = NowMillis();
  if (link->slots.empty() && link->state == TcpLink::State::kOpen) TcpIdleCheck(link, expire);
  if (slot.answered) co_return std::move(slot.reply);
  if (slot.error) {
    co_return absl::UnavailableError(absl::StrCat(Where(resolver_), " over TCP: ", slot.error.message()));
  }
  co_return absl::DeadlineExceededError(absl::StrCat(Where(resolver_), " over TCP: no answer within ", timeout,
                                                     "ms"));
}

asio::awaitable<void> UpstreamChannel::TcpWrite(std::shared_ptr<TcpLink> link) {
  link->writing = true;
  while (!link->outbox.empty() && link->state == TcpLink::State::kOpen) {
    std::vector<uint8_t> frame = std::move(link->outbox.front());
    link->outbox.pop_front();
    boost::system::error_code ec;
    co_await asio::async_write(link->socket, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) link->Kill(ec);
  }
  link->writing = false;
}

asio::awaitable<void> UpstreamChannel::TcpRead(std::shared_ptr<TcpLink> link) {
  std::vector<uint8_t> reply;
  while (link->state == TcpLink::State::kOpen) {
    boost::system::error_code ec;
    uint8_t length[2];
    co_await asio::async_read(link->socket, asio::buffer(length, 2), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      reply.resize(ReadU16(length));
      co_await asio::async_read(link->socket, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      link->Kill(ec);
      break;
    }
    auto it = reply.size() >= kHeaderSize ? link->slots.find(ReadU16(reply.data())) : link->slots.end();
    if (it == link->slots.end() || it->second->answered || !ReplyMatchesQuery(reply, it->second->query)) {
      CountMismatch("tcp");
      continue;
    }
    Fill(*it->second, reply);
  }
  if (tcp_ == link) tcp_.reset();
}

void UpstreamChannel::TcpIdleCheck(std::shared_ptr<TcpLink> link, Millis expire) {
  link->idle.expires_after(std::chrono::milliseconds(expire));
  link->idle.async_wait([link, expire](const boost::system::error_code& ec) {
    if (ec || !link->slots.empty()) return;
    if (NowMillis() - link->last_used >= expire) link->Kill(asio::error::timed_out);
  });
}

UpstreamChannel& ChannelMap::Get(const SocketAddress& resolver) {
  auto& slot = channels_[{resolver.ip.bytes, resolver.port}];
  if (!slot) slot = std::make_unique<UpstreamChannel>(io_, udp::endpoint(ToAsioAddress(resolver), resolver.port), rng_, *inbox_,
                                                       wheel_);
  return *slot;
}

}  // namespace meshdns

namespace meshdns {

void ChannelCounters::Add(const ChannelCounters& other) {
  sent += other.sent;
  mismatched += other.mismatched;
  sockets_opened += other.sockets_opened;
  tcp_connections += other.tcp_connections;
  attempts += other.attempts;
  for (size_t r = 0; r < responses.size(); ++r) {
    responses[r] += other.responses[r];
    duration[r].Add(other.duration[r]);
  }
}

std::vector<std::pair<std::string, ChannelCounters>> ChannelMap::Counters() const {
  std::vector<std::pair<std::string, ChannelCounters>> out;
  for (const auto& [key, channel] : channels_) {
    const udp::endpoint& ep = channel->resolver();
    const std::string host = ep.address().is_v6() ? absl::StrCat("[", ep.address().to_string(), "]")
                                                  : ep.address().to_string();
    out.emplace_back(absl::StrCat(host, ":", ep.port()), channel->counters());
  }
  return out;
}

}  // namespace meshdns
