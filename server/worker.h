// Worker: one thread, one io_context, and everything a query touches on its
// way through: its own listeners, query engine, upstream channels, buffers.
// All members are used only on the worker's thread, except Post*/Stop/Snapshot
// (which post to it) and last_beat (atomic).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "server/asio.h"
#include "server/query_engine.h"
#include "server/stats.h"

namespace meshdns {

class TcpConnectionCaps;
class TcpListener;
class UdpListener;

// A worker's counters, copied on its own thread for a scrape.
struct WorkerSnapshot {
  ServerStats server;
  EngineCounters engine;
  std::vector<std::pair<std::string, ChannelCounters>> channels;  // by resolver address
};

// The worker's listeners are SO_REUSEPORT, so the kernel spreads clients over
// workers. Nothing here is shared with other workers except the Generation
// (immutable runtime plus the thread-safe cache), which arrives by post() on
// reload, and the daemon's TcpConnectionCaps (thread-safe).
class Worker {
 public:
  // `tcp_caps` is the daemon's, shared by every worker; it outlives this.
  Worker(std::shared_ptr<const Generation> generation, TcpConnectionCaps& tcp_caps);
  ~Worker();

  // Binds UDP and TCP on every address, each answering as its server (before
  // Start, from the main thread). An error names the address and what asked for it.
  absl::Status Listen(const std::vector<ListenAddress>& listeners);
  void Start();                      // runs the io_context on a new thread
  void PostGeneration(std::shared_ptr<const Generation> g);
  // Stops accepting, lets queries in flight finish for up to `grace`, then ends the thread.
  void Stop(Millis grace);
  void Join();

  asio::io_context& io() { return io_; }
  QueryEngine& engine() { return engine_; }
  const Generation& generation() const { return *engine_.generation(); }
  // Refreshes the cache entry for `query` in the background (prefetch).
  void Prefetch(const QueryView& query, uint16_t server);
  // Counts slow-path queries in flight so shutdown can wait for them.
  void QueryStarted() { ++inflight_; }
  void QueryFinished() { --inflight_; }
  bool stopping() const { return stopping_; }
  ServerStats& stats() { return stats_; }

  // Copies the counters on the worker's thread and hands them to `done` there.
  void Snapshot(std::function<void(WorkerSnapshot)> done);
  // When the event loop last turned (a timer ticks every second); any thread.
  Millis last_beat() const { return last_beat_.load(std::memory_order_relaxed); }

 private:
  void DrainThenStop(Millis deadline);
  void Beat();

  // One thread runs it, and it alone starts operations on the worker's
  // sockets (they are registered from the main thread before it starts, under
  // the reactor's registration lock), so the per-socket reactor lock, taken on
  // every wait and every readiness event, can go.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  QueryEngine engine_{io_};
  TcpConnectionCaps& tcp_caps_;
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
  std::thread thread_;
  size_t inflight_ = 0;
  bool stopping_ = false;
  ServerStats stats_;
  asio::steady_timer beat_{io_};
  std::atomic<Millis> last_beat_{0};
};

}  // namespace meshdns
