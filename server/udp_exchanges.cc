#include "server/udp_exchanges.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

boost::system::error_code LastError() { return {errno, boost::system::system_category()}; }

// Points each message at its own buffer, `length` bytes of it: all to
// receive into, or none yet to send from (Enqueue sets each length).
template <size_t kCount, size_t kSize>
void Link(std::array<std::array<uint8_t, kSize>, kCount>& buffers, std::array<iovec, kCount>& iov,
          std::array<mmsghdr, kCount>& msgs, size_t length) {
  for (size_t i = 0; i < kCount; ++i) {
    iov[i] = {buffers[i].data(), length};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

}  // namespace

struct UdpExchanges::Socket {
  explicit Socket(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  HandlerMemory wait_memory;
  // Counts openings: a wait or read of an earlier port (retired while its
  // replies were handled) must not go on with the new one, which has its own.
  uint32_t opened = 0;
  uint32_t uses = 0;
  uint32_t pending = 0;
};

UdpInbox::UdpInbox() { Link(buffers, iov, msgs, kMaxReply); }

UdpExchanges::Outbox::Outbox() { Link(buffers, iov, msgs, 0); }

UdpExchanges::UdpExchanges(asio::io_context& io, const udp::endpoint& resolver, absl::BitGen& rng, UdpInbox& inbox,
                           DeadlineWheel& wheel, ChannelCounters& counters, MismatchReport& mismatches)
    : io_(io), resolver_(resolver), rng_(rng), inbox_(inbox), wheel_(wheel), counters_(counters),
      mismatches_(mismatches) {}

UdpExchanges::~UdpExchanges() {
  boost::system::error_code ignored;
  for (auto& s : sockets_) {
    if (s) s->socket.close(ignored);
  }
}

absl::Status UdpExchanges::Start(std::span<uint8_t> query, UdpOptions options, UdpWaiter* waiter) {
  uint16_t id;
  do {
    id = absl::Uniform<uint16_t>(rng_);
  } while (table_.Contains(id));
  WriteU16(query.data(), id);
  const auto now = DeadlineWheel::Clock::now();
  // The ID is taken before Enqueue(): a full outbox is flushed there, and a
  // waiter told of a failed send may start an exchange of its own.
  table_.Open(id, query,
              Waiting{.waiter = waiter,
                      .deadline = now + std::chrono::milliseconds(options.timeout),
                      .timeout = options.timeout,
                      .retransmit_every = options.retransmit_every});
  absl::StatusOr<uint32_t> index = Enqueue(query, id);
  if (!index.ok()) {
    (void)table_.Close(id);
    return index.status();
  }
  Socket& s = *sockets_[*index];
  ++s.uses;
  ++s.pending;
  Table::Exchange& e = *table_.Find(id);
  e.port = PortRef{.index = *index, .opening = s.opened};
  auto wake = e.waiting.deadline;
  if (options.retransmit_every > 0) wake = std::min(wake, now + std::chrono::milliseconds(options.retransmit_every));
  // Cookies: the exchange's serial above its ID.
  wheel_.Add(wake, this, uint64_t{e.serial} << 16 | id);
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> UdpExchanges::PickSocket() {
  // Start at a random socket; skip ones that are retiring and still busy.
  const uint32_t start = absl::Uniform<uint32_t>(rng_, 0, kSockets);
  uint32_t chosen = start;
  for (uint32_t k = 0; k < kSockets; ++k) {
    const uint32_t i = (start + k) % kSockets;
    if (!sockets_[i] || sockets_[i]->uses < kSocketUses || sockets_[i]->pending == 0) {
      chosen = i;
      break;
    }
  }
  auto& s = sockets_[chosen];
  if (!s) s = std::make_unique<Socket>(io_);
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
      return absl::UnavailableError(
          absl::StrCat("cannot open a socket to ", DescribeResolver(resolver_), ": ", ec.message()));
    }
    s->uses = 0;
    ++s->opened;
    ++counters_.sockets_opened;
    WaitReadable(chosen);
  }
  return chosen;
}

absl::StatusOr<uint32_t> UdpExchanges::Enqueue(std::span<const uint8_t> query, uint16_t id) {
  if (query.size() > kMaxQuery) return absl::InvalidArgumentError("query too large");
  if (outbox_.count == kBatch) Flush();
  if (outbox_.count == 0) {
    absl::StatusOr<uint32_t> index = PickSocket();
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

void UdpExchanges::Flush() {
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
    if (const Table::Exchange* e = table_.Find(outbox_.ids[sent])) {
      if (unsent_.empty()) asio::post(io_, InMemory(unsent_memory_, [this] { FailUnsent(); }));
      unsent_.emplace_back(e->id, e->serial);
      unsent_error_ = LastError();
    }
    ++sent;
  }
  counters_.sent += count;
}

void UdpExchanges::FailUnsent() { FailEach(std::exchange(unsent_, {}), unsent_error_); }

void UdpExchanges::FailEach(std::vector<ExchangeRef> exchanges, const boost::system::error_code& ec) {
  const absl::Status failure = absl::UnavailableError(absl::StrCat(DescribeResolver(resolver_), ": ", ec.message()));
  for (const auto& [id, serial] : exchanges) End(id, serial, {}, failure);
}

void UdpExchanges::WaitReadable(uint32_t index) {
  Socket& s = *sockets_[index];
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

void UdpExchanges::OnReadable(uint32_t index) {
  // As many batches as the listener takes per wake-up (kBatchesPerWakeup there).
  constexpr int kBatchesPerWakeup = 8;
  Socket& s = *sockets_[index];
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

bool UdpExchanges::ReadBatch(uint32_t index) {
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
  // Every datagram of the batch came to the port open now. A waiter told of
  // its reply may retire it (and open its successor at this index), so the
  // rest of the batch is matched against this port, not the successor.
  const PortRef port{.index = index, .opening = sockets_[index]->opened};
  for (int k = 0; k < received; ++k) {
    if (inbox_.msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
      mismatches_.Count("oversized udp");
      continue;
    }
    const std::span<const uint8_t> reply(inbox_.buffers[k].data(), inbox_.msgs[k].msg_len);
    const Table::Exchange* e = table_.Match(reply, port);
    if (e == nullptr) {
      mismatches_.Count("udp");
      continue;
    }
    End(e->id, std::nullopt, reply, absl::OkStatus());
  }
  return received < static_cast<int>(kBatch);
}

void UdpExchanges::FailSocket(uint32_t index, const boost::system::error_code& ec) {
  // Collected first: waiters told of the failure may start exchanges of their own.
  std::vector<ExchangeRef> exchanges;
  table_.ForEachOn(index, [&](const Table::Exchange& e) { exchanges.emplace_back(e.id, e.serial); });
  FailEach(std::move(exchanges), ec);
}

void UdpExchanges::End(uint16_t id, std::optional<uint32_t> serial, std::span<const uint8_t> reply,
                       const absl::Status& failure) {
  const std::optional<Table::Exchange> e = table_.Close(id, serial);
  if (!e) return;
  Release(e->port.index);
  if (failure.ok()) {
    e->waiting.waiter->OnUdpReply(reply, e->waiting.retransmitted);
  } else {
    e->waiting.waiter->OnUdpFailure(failure);
  }
}

void UdpExchanges::Expired(uint64_t cookie) {
  const uint16_t id = static_cast<uint16_t>(cookie);
  Table::Exchange* e = table_.Find(id, static_cast<uint32_t>(cookie >> 16));
  if (e == nullptr) return;  // ended already
  Waiting& w = e->waiting;
  const auto now = DeadlineWheel::Clock::now();
  if (now >= w.deadline) {
    End(id, std::nullopt, {},
        absl::DeadlineExceededError(
            absl::StrCat(DescribeResolver(resolver_), " did not answer within ", w.timeout, "ms")));
    return;
  }
  if (w.retransmit_every <= 0) {  // not a resend point: wait on for the deadline
    wheel_.Add(w.deadline, this, cookie);
    return;
  }
  // A resend goes out at once, on the socket and with the ID of the first copy.
  if (::send(sockets_[e->port.index]->socket.native_handle(), e->query.data(), e->query.size(), MSG_DONTWAIT) < 0 &&
      errno != EAGAIN) {
    End(id, std::nullopt, {},
        absl::UnavailableError(absl::StrCat(DescribeResolver(resolver_), ": ", LastError().message())));
    return;
  }
  ++counters_.sent;
  w.retransmitted = true;
  wheel_.Add(std::min(w.deadline, now + std::chrono::milliseconds(w.retransmit_every)), this, cookie);
}

void UdpExchanges::Release(uint32_t index) {
  Socket& s = *sockets_[index];
  --s.pending;
  // A port the outbox is about to send on stays; PickSocket retires it later.
  if (s.pending == 0 && s.uses >= kSocketUses && !(outbox_.count > 0 && outbox_.socket == index)) {
    boost::system::error_code ignored;
    s.socket.close(ignored);  // retired: the next query on this index opens a new port
  }
}

}  // namespace meshdns
