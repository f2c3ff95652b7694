#include "server/daemon.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/runtime.h"
#include "server/admin_http.h"
#include "server/config_watcher.h"
#include "server/health_prober.h"
#include "server/lifecycle.h"
#include "server/log.h"
#include "server/tcp_connection_caps.h"
#include "server/worker.h"

namespace meshdns {
namespace {

class Daemon {
 public:
  explicit Daemon(ServeOptions options) : options_(std::move(options)) {}

  int Run() {
    std::shared_ptr<const Generation> generation = config_.LoadInitial();
    if (!generation) return 2;
    const std::vector<ListenAddress>& listen = config_.bound();

    const int threads = options_.threads > 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < threads; ++i) {
      auto worker = std::make_unique<Worker>(generation, tcp_caps_);
      if (absl::Status s = worker->Listen(listen); !s.ok()) {
        Log(LogLevel::kError, s.message());
        return 1;
      }
      workers_.push_back(std::move(worker));
    }
    for (auto& w : workers_) w->Start();
    std::vector<std::string> where;
    for (const ListenAddress& a : listen) where.push_back(a.ToString());
    const Config& config = generation->runtime->config;
    const std::string what = config.cluster.empty() ? absl::StrCat(options_.source.path)
                                                    : absl::StrCat("cluster ", config.cluster);
    Log(LogLevel::kInfo, "meshdns serving ", what, " on ", absl::StrJoin(where, ", "), " (udp+tcp) with ", threads,
        " threads");

    prober_.SetRuntime(generation->runtime);
    prober_.Start();
    if (absl::Status s = admin_.Listen(generation->runtime->config); !s.ok()) {
      Log(LogLevel::kError, s.message());
      for (auto& w : workers_) w->Stop(0);
      for (auto& w : workers_) w->Join();
      return 1;
    }
    lifecycle_.Serving();
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    WaitForSignal(signals);
    config_.Start();
    io_.run();
    admin_.Stop();
    prober_.Stop();

    const Millis grace = config_.generation()->runtime->config.forward.timeout + 500;
    for (auto& w : workers_) w->Stop(grace);
    for (auto& w : workers_) w->Join();
    Log(LogLevel::kInfo, "meshdns stopped");
    return 0;
  }

 private:
  // A reloaded configuration goes to every worker (each switches on its own
  // thread) and to the prober.
  void Publish(std::shared_ptr<const Generation> g) {
    for (auto& w : workers_) w->PostGeneration(g);
    prober_.SetRuntime(g->runtime);
  }

  // SIGHUP reloads; SIGTERM/SIGINT start the lameduck, and a second one stops at once.
  void WaitForSignal(asio::signal_set& signals) {
    signals.async_wait([this, &signals](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        config_.ReloadNow();
        WaitForSignal(signals);
        return;
      }
      const Millis lameduck = options_.lameduck.value_or(config_.generation()->runtime->config.lameduck);
      const Millis now = NowMillis();
      const Millis stop_at = lifecycle_.BeginStop(now, lameduck);
      if (stop_at <= now) {
        Log(LogLevel::kInfo, "signal ", signal, ": stopping");
        io_.stop();
        return;
      }
      Log(LogLevel::kInfo, "signal ", signal, ": lameduck for ", lameduck,
          "ms (/health and /ready fail, queries are still answered); another signal stops at once");
      lameduck_.expires_after(std::chrono::milliseconds(stop_at - now));
      lameduck_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        Log(LogLevel::kInfo, "lameduck over: stopping");
        io_.stop();
      });
      WaitForSignal(signals);
    });
  }

  const ServeOptions options_;
  asio::io_context io_{1};
  asio::steady_timer lameduck_{io_};
  Lifecycle lifecycle_;
  HealthProber prober_{io_};
  TcpConnectionCaps tcp_caps_;  // every worker's listeners count their connections here
  // Declared before what reads them (the admin side, the watcher's publish), destroyed after.
  std::vector<std::unique_ptr<Worker>> workers_;
  ConfigWatcher config_{io_, options_, [this](std::shared_ptr<const Generation> g) { Publish(std::move(g)); }};
  AdminHttp admin_{io_, {.workers = workers_, .lifecycle = lifecycle_, .prober = prober_, .config = config_,
                         .tcp_caps = tcp_caps_}};
};

}  // namespace

int RunServe(const ServeOptions& options) { return Daemon(options).Run(); }

}  // namespace meshdns
