#include "server/worker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
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

absl::Status Worker::Listen(const std::vector<ListenAddress>& listeners) {
  for (const ListenAddress& l : listeners) {
    asio::ip::address ip = ToAsioAddress(l.address);
    if (l.scope_id != 0) {
      asio::ip::address_v6 v6 = ip.to_v6();
      v6.scope_id(l.scope_id);
      ip = v6;
    }
    // Where the Corefile asked for it: an address not on this machine fails here.
    const auto origin = [&](const absl::Status& s) {
      return l.origin.empty() ? s : absl::Status(s.code(), absl::StrCat(l.origin, ": ", s.message()));
    };
    absl::StatusOr<std::unique_ptr<UdpListener>> u = UdpListener::Open(*this, udp::endpoint(ip, l.address.port), l.server);
    if (!u.ok()) return origin(u.status());
    absl::StatusOr<std::unique_ptr<TcpListener>> t =
        TcpListener::Open(*this, tcp_caps_, tcp::endpoint(ip, l.address.port), l.server);
    if (!t.ok()) return origin(t.status());
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

void Worker::Prefetch(const QueryView& query, uint16_t server) {
  if (stopping_) return;
  asio::co_spawn(io_, engine_.Refresh(Question::Of(query, server)), asio::detached);
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
