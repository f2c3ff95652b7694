#include "server/udp_listener.h"

#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "dnscore/admission.h"
#include "server/log.h"
#include "server/query_log.h"
#include "server/worker.h"

namespace meshdns {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Batches handled per readiness event before yielding to other work of the
// worker (upstream replies, TCP), so a flood cannot starve them.
constexpr int kBatchesPerWakeup = 8;

IpAddress FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    std::array<uint8_t, 4> b;
    std::memcpy(b.data(), &in.sin_addr, 4);
    return IpAddress::FromV4(b);
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), &in6.sin6_addr, 16);
  return IpAddress::FromV6(b);
}

uint16_t PortOf(const sockaddr_storage& ss) {
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(ss).sin_port
                                       : reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
}

// The client as the query log writes it: address (IPv6 in brackets) and port.
std::pair<std::string, uint16_t> Remote(const sockaddr_storage& ss, socklen_t len) {
  udp::endpoint ep;
  std::memcpy(ep.data(), &ss, std::min<size_t>(len, sizeof(ss)));
  ep.resize(len);
  const std::string host = ep.address().to_string();
  return {ep.address().is_v6() ? absl::StrCat("[", host, "]") : host, ep.port()};
}

}  // namespace

void UdpListener::LogQuery(const LogRule& rule, std::span<const uint8_t> query, const QueryView& view,
                           const sockaddr_storage& client, socklen_t client_len, std::span<const uint8_t> reply,
                           int64_t micros) {
  auto [remote, port] = Remote(client, client_len);
  Log(LogLevel::kInfo, FormatQueryLog({.remote = std::move(remote), .port = port, .query = &view, .tcp = false,
                                       .request_size = query.size(), .reply = reply, .micros = micros,
                                       .format = rule.format}));
}

absl::StatusOr<std::unique_ptr<UdpListener>> UdpListener::Open(Worker& worker, const udp::endpoint& at, uint16_t server) {
  udp::socket socket(worker.io());
  boost::system::error_code ec;
  socket.open(at.protocol(), ec);
  if (!ec) socket.set_option(ReusePort(true), ec);
  if (!ec && at.address().is_v6()) socket.set_option(asio::ip::v6_only(true), ec);
  if (!ec) socket.bind(at, ec);
  if (!ec) socket.non_blocking(true, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on udp ", at.address().to_string(), ":", at.port(), ": ", ec.message()));
  }
  return std::unique_ptr<UdpListener>(new UdpListener(worker, std::move(socket), server));
}

UdpListener::UdpListener(Worker& worker, udp::socket socket, uint16_t server)
    : worker_(worker), socket_(std::move(socket)), server_(server) {
  boost::system::error_code ignored;
  local_ = socket_.local_endpoint(ignored);
  local_ip_ = FromAsioAddress(local_.address());
  for (size_t i = 0; i < kBatch; ++i) {
    in_iov_[i] = {in_[i].data(), in_[i].size()};
    in_msgs_[i] = {};
    in_msgs_[i].msg_hdr.msg_iov = &in_iov_[i];
    in_msgs_[i].msg_hdr.msg_iovlen = 1;
    in_msgs_[i].msg_hdr.msg_name = &peers_[i];
    out_iov_[i] = {out_[i].data(), 0};
    out_msgs_[i] = {};
    out_msgs_[i].msg_hdr.msg_iov = &out_iov_[i];
    out_msgs_[i].msg_hdr.msg_iovlen = 1;
    late_iov_[i] = {late_[i].data(), 0};
    late_msgs_[i] = {};
    late_msgs_[i].msg_hdr.msg_iov = &late_iov_[i];
    late_msgs_[i].msg_hdr.msg_iovlen = 1;
    late_msgs_[i].msg_hdr.msg_name = &late_peers_[i];
  }
}

void UdpListener::Close() {
  closing_ = true;
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  handed_over_ = LeaveReusePortGroup();
  AnswerQueued();
}

void UdpListener::AnswerQueued() {
  if (handed_over_) {
    while (!Drain()) {
    }
  }
  // Replies waiting for their posted flush go now: the worker may stop
  // before that post runs (which then finds none and clears its flag).
  SendBatch(late_msgs_.data(), std::exchange(late_count_, 0));
}

// A connected UDP socket is given only its peer's datagrams, so connecting
// this one to a port no query comes from (discard, on its own address) hands
// every new query to the other sockets of the port's SO_REUSEPORT group: a new
// instance starting on the same port in a rolling restart. What the kernel
// queued here before stays readable and is answered (Close drains it).
bool UdpListener::LeaveReusePortGroup() {
  boost::system::error_code ec;
  const udp::endpoint local = socket_.local_endpoint(ec);
  if (ec) return false;
  const bool wildcard = local.address().is_unspecified();
  // connect() pins the source address to the discard peer's route (loopback
  // for a wildcard socket). IPv4 replies can undo that, an IPv6 one cannot
  // (an unspecified IPV6_PKTINFO source does not override it), so a wildcard
  // IPv6 listener keeps its place in the group until it closes.
  if (wildcard && local.address().is_v6()) return false;
  socket_.connect(udp::endpoint(local.address(), 9), ec);  // 0.0.0.0 means loopback to connect()
  if (ec) {
    Log(LogLevel::kWarn, "udp ", local.address().to_string(), ":", local.port(),
        ": cannot hand the port over before stopping: ", ec.message());
    return false;
  }
  if (wildcard) {
    // An IP_PKTINFO naming no source lets the route choose it per reply, as
    // it did before connect().
    auto* cmsg = reinterpret_cast<cmsghdr*>(no_source_.data());
    cmsg->cmsg_level = IPPROTO_IP;
    cmsg->cmsg_type = IP_PKTINFO;
    cmsg->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    std::memset(CMSG_DATA(cmsg), 0, sizeof(in_pktinfo));
    for (auto* msgs : {&out_msgs_, &late_msgs_}) {
      for (mmsghdr& m : *msgs) {
        m.msg_hdr.msg_control = no_source_.data();
        m.msg_hdr.msg_controllen = no_source_.size();
      }
    }
  }
  return true;
}

void UdpListener::WaitReadable() {
  socket_.async_wait(udp::socket::wait_read, InMemory(wait_memory_, [this](const boost::system::error_code& ec) {
    if (!ec) OnReadable();
  }));
}

void UdpListener::OnReadable() {
  if (closing_) return;
  if (Drain()) {
    WaitReadable();
  } else {
    asio::post(worker_.io(), InMemory(wait_memory_, [this] { OnReadable(); }));
  }
}

bool UdpListener::Drain() {
  const int fd = socket_.native_handle();
  for (int round = 0; round < kBatchesPerWakeup; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      in_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      in_msgs_[i].msg_hdr.msg_flags = 0;
    }
    const int received = recvmmsg(fd, in_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return true;

    const Generation& g = worker_.generation();
    AdmitOptions options{.acl = &g.runtime->acl, .program = &g.runtime->program, .cache = g.cache.get(), .udp = true,
                               .udp_reply_size = g.runtime->config.limits.udp_reply_size, .now = NowMillis(),
                               .prefetch = g.runtime->prefetch(), .rotation = &worker_.engine().rotation(),
                               .server = server_};
    ServerStats& stats = worker_.stats();
    const auto batch_start = std::chrono::steady_clock::now();
    unsigned replies = 0;
    for (int i = 0; i < received; ++i) {
      const msghdr& hdr = in_msgs_[i].msg_hdr;
      if (hdr.msg_flags & MSG_TRUNC) {  // larger than any real query
        ++stats.dropped_oversized;
        continue;
      }
      std::span<const uint8_t> query(in_[i].data(), in_msgs_[i].msg_len);
      QueryView view;
      const ClientAddress who{.ip = FromSockaddr(peers_[i]), .port = PortOf(peers_[i]), .tcp = false,
                              .server_ip = local_ip_, .server_port = local_.port()};
      options.who = &who;
      const Admitted admitted = AdmitQuery(query, who.ip, options, view, out_[replies]);
      stats.CountAdmitted(ServerStats::kUdp, peers_[i].ss_family == AF_INET6, admitted, view, query.size());
      switch (admitted.verdict) {
        case Verdict::kDrop: break;
        case Verdict::kReply:
          reply_types_[replies] = view.qtype;
          reply_routes_[replies] = view.route;
          reply_queries_[replies] = static_cast<uint8_t>(i);
          out_iov_[replies].iov_len = admitted.size;
          out_msgs_[replies].msg_hdr.msg_name = &peers_[i];
          out_msgs_[replies].msg_hdr.msg_namelen = hdr.msg_namelen;
          ++replies;
          if (admitted.prefetch) worker_.Prefetch(view, server_);
          break;
        case Verdict::kResolve:
          StartMiss(query, view, peers_[i], hdr.msg_namelen, batch_start);
          break;
      }
    }
    if (replies > 0) {
      const int64_t micros = Micros(batch_start);  // one clock read for the whole batch
      for (unsigned k = 0; k < replies; ++k) {
        stats.CountResponse(ServerStats::kUdp, reply_types_[k], out_[k][3] & 0xf, out_iov_[k].iov_len, micros,
                            reply_routes_[k]);
      }
      if (g.runtime->config.log_queries) {
        for (unsigned k = 0; k < replies; ++k) {
          const unsigned i = reply_queries_[k];
          const std::span<const uint8_t> query(in_[i].data(), in_msgs_[i].msg_len);
          const std::span<const uint8_t> reply(out_[k].data(), out_iov_[k].iov_len);
          QueryView view;
          (void)ParseQuery(query, view);
          const LogRule* rule = g.runtime->QueryLogRule(view.qname, server_, reply, reply_routes_[k]);
          if (rule == nullptr) continue;
          LogQuery(*rule, query, view, peers_[i], in_msgs_[i].msg_hdr.msg_namelen, reply, micros);
        }
      }
    }
    SendBatch(out_msgs_.data(), replies);
    if (received < static_cast<int>(kBatch)) return true;
  }
  return false;
}

void UdpListener::SendBatch(mmsghdr* msgs, unsigned count) {
  const int fd = socket_.native_handle();
  for (unsigned sent = 0; sent < count;) {
    const int n = sendmmsg(fd, msgs + sent, count - sent, 0);
    if (n > 0) {
      sent += n;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;  // the socket buffer is full: UDP may drop, the client will ask again
    } else {
      ++sent;  // this one destination failed; the others still get theirs
    }
  }
}

void UdpListener::SendLater(absl::FunctionRef<size_t(std::span<uint8_t>)> write, const sockaddr_storage& client,
                            socklen_t client_len) {
  if (late_count_ == kBatch) FlushLate();
  const unsigned k = late_count_;
  const size_t size = write(late_[k]);
  if (size == 0) return;
  ++late_count_;
  late_iov_[k].iov_len = size;
  late_peers_[k] = client;
  late_msgs_[k].msg_hdr.msg_namelen = client_len;
  if (!late_flush_posted_) {
    late_flush_posted_ = true;
    asio::post(worker_.io(), InMemory(flush_memory_, [this] { FlushLate(); }));
  }
}

void UdpListener::FlushLate() {
  late_flush_posted_ = false;
  SendBatch(late_msgs_.data(), std::exchange(late_count_, 0));
}

void UdpListener::StartMiss(std::span<const uint8_t> query, const QueryView& view, const sockaddr_storage& client,
                            socklen_t client_len, std::chrono::steady_clock::time_point started) {
  PendingMiss* miss;
  if (idle_misses_.empty()) {
    misses_.push_back(std::make_unique<PendingMiss>(*this));
    miss = misses_.back().get();
  } else {
    miss = idle_misses_.back();
    idle_misses_.pop_back();
  }
  miss->query.assign(query.begin(), query.end());
  miss->view = view;
  miss->client = client;
  miss->client_len = client_len;
  miss->started = started;
  worker_.QueryStarted();
  const ClientAddress who{.ip = FromSockaddr(client), .port = PortOf(client), .tcp = false,
                          .server_ip = local_ip_, .server_port = local_.port()};
  worker_.engine().Resolve(miss->view, miss->query, server_, who, miss);  // Answered() follows, perhaps at once
}

void UdpListener::Answered(PendingMiss& miss, const Answer& answer) {
  SendResolved(answer, miss.query, miss.view, miss.client, miss.client_len, miss.started);
  idle_misses_.push_back(&miss);
  worker_.QueryFinished();
}

void UdpListener::SendResolved(const Answer& answer, std::span<const uint8_t> query, const QueryView& view,
                               const sockaddr_storage& client, socklen_t client_len,
                               std::chrono::steady_clock::time_point started) {
  const size_t limit = view.UdpReplyLimit(worker_.generation().runtime->config.limits.udp_reply_size);
  SendLater(
      [&](std::span<uint8_t> out) {
        const size_t size = worker_.engine().WriteAnswer(answer, query, view, limit, out);
        if (size == 0) return size;
        const int64_t micros = Micros(started);
        worker_.stats().CountResponse(ServerStats::kUdp, view.qtype, out[3] & 0xf, size, micros, view.route);
        if (const LogRule* rule = worker_.generation().runtime->QueryLogRule(view.qname, server_, out.first(size), view.route)) {
          LogQuery(*rule, query, view, client, client_len, out.first(size), micros);
        }
        return size;
      },
      client, client_len);
}

}  // namespace meshdns
