#include "server/daemon.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_join.h"
#include "config/config.h"
#include "config/runtime.h"
#include "server/health_prober.h"
#include "server/log.h"
#include "server/worker.h"

namespace meshdns {
namespace {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Daemon {
 public:
  explicit Daemon(ServeOptions options) : options_(std::move(options)) {}

  int Run() {
    std::optional<Config> config = Load(/*initial=*/true);
    if (!config) return 2;
    SetLogLevel(ParseLogLevel(config->log_level));
    const std::vector<SocketAddress> listen = config->listen;
    std::shared_ptr<const Generation> generation = MakeGeneration(*std::move(config));

    const int threads = options_.threads > 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < threads; ++i) {
      auto worker = std::make_unique<Worker>(generation);
      if (absl::Status s = worker->Listen(listen); !s.ok()) {
        Log(LogLevel::kError, s.message());
        return 1;
      }
      workers_.push_back(std::move(worker));
    }
    for (auto& w : workers_) w->Start();
    std::vector<std::string> where;
    for (const SocketAddress& a : listen) where.push_back(a.ToString());
    Log(LogLevel::kInfo, "meshdns serving cluster ", generation->runtime->config.cluster, " on ",
        absl::StrJoin(where, ", "), " (udp+tcp) with ", threads, " threads");

    prober_.SetRuntime(generation->runtime);
    prober_.Start();
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    WaitForSignal(signals);
    if (!options_.config_path.empty()) {
      last_text_ = ReadWholeFile(options_.config_path);
      WatchFile();
    }
    io_.run();
    prober_.Stop();

    const Millis grace = generation_->runtime->config.forward.timeout + 500;
    for (auto& w : workers_) w->Stop(grace);
    for (auto& w : workers_) w->Join();
    Log(LogLevel::kInfo, "meshdns stopped");
    return 0;
  }

 private:
  std::optional<Config> Load(bool initial) {
    LoadResult r = options_.config_path.empty() ? EmbeddedDefaultConfig() : LoadConfigFile(options_.config_path);
    for (const ConfigError& e : r.errors) {
      if (initial) {
        std::fprintf(stderr, "%s\n", e.ToString().c_str());
      } else {
        Log(LogLevel::kError, "reload rejected, the old configuration keeps serving: ", e.ToString());
      }
    }
    if (!r.config) return std::nullopt;
    if (!options_.listen.empty()) {
      r.config->listen.clear();
      for (const std::string& text : options_.listen) {
        absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text);
        if (!a.ok()) {
          std::fprintf(stderr, "--listen: %s\n", std::string(a.status().message()).c_str());
          return std::nullopt;
        }
        r.config->listen.push_back(*a);
      }
    }
    return r.config;
  }

  std::shared_ptr<const Generation> MakeGeneration(Config config) {
    auto g = std::make_shared<Generation>();
    g->cache = std::make_shared<PacketCache>(config.cache.capacity);
    g->runtime = Runtime::Compile(std::move(config));
    generation_ = g;
    return g;
  }

  void Reload(const char* why) {
    std::optional<Config> config = Load(/*initial=*/false);
    if (!config) return;
    const auto& old_listen = generation_->runtime->config.listen;
    bool listen_changed = old_listen.size() != config->listen.size();
    for (size_t i = 0; !listen_changed && i < old_listen.size(); ++i) {
      listen_changed = old_listen[i].ToString() != config->listen[i].ToString();
    }
    if (listen_changed) Log(LogLevel::kWarn, "listen addresses changed; they take effect at the next restart");
    SetLogLevel(ParseLogLevel(config->log_level));
    std::shared_ptr<const Generation> g = MakeGeneration(*std::move(config));
    for (auto& w : workers_) w->PostGeneration(g);
    prober_.SetRuntime(g->runtime);
    Log(LogLevel::kInfo, "configuration reloaded (", why, ")");
  }

  void WaitForSignal(asio::signal_set& signals) {
    signals.async_wait([this, &signals](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        if (!options_.config_path.empty()) last_text_ = ReadWholeFile(options_.config_path);
        Reload("SIGHUP");
        WaitForSignal(signals);
        return;
      }
      Log(LogLevel::kInfo, "signal ", signal, ": stopping");
      io_.stop();
    });
  }

  // A mounted ConfigMap changes by a symlink swap, which inotify on the path
  // would miss; comparing the content once a second sees every kind of change.
  void WatchFile() {
    watch_.expires_after(std::chrono::seconds(1));
    watch_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      std::string text = ReadWholeFile(options_.config_path);
      if (!text.empty() && text != last_text_) {
        last_text_ = std::move(text);
        Reload("file changed");
      }
      WatchFile();
    });
  }

  ServeOptions options_;
  asio::io_context io_{1};
  asio::steady_timer watch_{io_};
  HealthProber prober_{io_};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::shared_ptr<const Generation> generation_;
  std::string last_text_;
};

}  // namespace

int RunServe(const ServeOptions& options) { return Daemon(options).Run(); }

}  // namespace meshdns
