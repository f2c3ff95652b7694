#include "server/worker.h"

#include <algorithm>

#include "server/tcp_listener.h"
#include "server/udp_listener.h"
#include "server/log.h"

namespace meshdns {

Worker::Worker(std::shared_ptr<const Generation> generation, TcpConnectionCaps& tcp_caps) : tcp_caps_(tcp_caps) {
  engine_.SetGeneration(std::move(generation));
}

Worker::~Worker() {
  io_.stop();
  Join();
}

absl::Status Worker::Listen(const std::vector<SocketAddress>& addresses) {
  for (const SocketAddress& a : addresses) {
    const asio::ip::address ip = ToAsioAddress(a);
    absl::StatusOr<std::unique_ptr<UdpListener>> u = UdpListener::Open(*this, udp::endpoint(ip, a.port));
    if (!u.ok()) return u.status();
    absl::StatusOr<std::unique_ptr<TcpListener>> t = TcpListener::Open(*this, tcp_caps_, tcp::endpoint(ip, a.port));
    if (!t.ok()) return t.status();
    udp_.push_back(*std::move(u));
    tcp_.push_back(*std::move(t));
  }
  return absl::OkStatus();
}

void Worker::Start() {
  for (auto& u : udp_) u->Start();
  for (auto& t : tcp_) t->Start();
  Beat();
  auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(io_.get_executor());
  thread_ = std::thread([this, guard] {
    // The query path's callbacks run as handlers: one that throws (only an
    // allocation can) costs its query, not the worker.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "worker: a query handler failed: ", e.what());
      }
    }
  });
}

void Worker::PostGeneration(std::shared_ptr<const Generation> g) {
  asio::post(io_, [this, g = std::move(g)]() mutable {
    // Entries this worker put in under the old generation go now that it
    // cannot add more; the last worker to switch leaves none behind.
    if (!g->forget.empty()) {
      g->cache->EraseIf([&](const CacheKeyView& key) {
        return std::any_of(g->forget.begin(), g->forget.end(), [&](const DnsName& z) { return key.Under(z.Wire()); });
      });
    }
    engine_.SetGeneration(std::move(g));
  });
}

void Worker::Stop(Millis grace) {
  asio::post(io_, [this, grace] {
    stopping_ = true;
    beat_.cancel();
    for (auto& u : udp_) u->Close();
    for (auto& t : tcp_) t->Close();
    DrainThenStop(NowMillis() + grace);
  });
}

void Worker::DrainThenStop(Millis deadline) {
  for (auto& u : udp_) u->AnswerQueued();
  if (inflight_ == 0 || NowMillis() >= deadline) {
    if (inflight_ != 0) Log(LogLevel::kWarn, inflight_, " queries still in flight at shutdown");
    io_.stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(20));
  timer->async_wait([this, timer, deadline](const boost::system::error_code&) { DrainThenStop(deadline); });
}

void Worker::Prefetch(const QueryView& query) {
  if (stopping_) return;
  asio::co_spawn(io_, engine_.Refresh(Question::Of(query)), asio::detached);
}

void Worker::Beat() {
  last_beat_.store(NowMillis(), std::memory_order_relaxed);
  beat_.expires_after(std::chrono::seconds(1));
  beat_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) Beat();
  });
}

void Worker::Snapshot(std::function<void(WorkerSnapshot)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    WorkerSnapshot s{stats_, engine_.counters(), engine_.channel_counters()};
    done(std::move(s));
  });
}

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace meshdns
