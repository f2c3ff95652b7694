#include "server/daemon.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_join.h"
#include "config/config.h"
#include "config/corefile_runtime.h"
#include "config/runtime.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"
#include "server/health_prober.h"
#include "server/http_server.h"
#include "server/lifecycle.h"
#include "server/metrics.h"
#include "server/tcp_listener.h"
#include "server/log.h"
#include "server/worker.h"

namespace meshdns {
namespace {


// A configuration as loaded and compiled, whichever front-end read it.
struct Loaded {
  Config config;
  Compiled compiled;
};

class Daemon {
 public:
  explicit Daemon(ServeOptions options) : options_(std::move(options)) {}

  int Run() {
    std::optional<Loaded> loaded = Load(/*initial=*/true);
    if (!loaded) return 2;
    SetLogLevel(ParseLogLevel(loaded->config.log_level));
    const std::vector<SocketAddress> listen = loaded->config.listen;
    bound_ = listen;
    std::shared_ptr<const Generation> generation = MakeGeneration(*std::move(loaded));

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
    const Config& config = generation->runtime->config;
    const std::string what = config.cluster.empty() ? absl::StrCat(options_.config_path)
                                                    : absl::StrCat("cluster ", config.cluster);
    Log(LogLevel::kInfo, "meshdns serving ", what, " on ", absl::StrJoin(where, ", "), " (udp+tcp) with ", threads,
        " threads");

    prober_.SetRuntime(generation->runtime);
    prober_.Start();
    if (absl::Status s = ListenHttp(generation->runtime->config); !s.ok()) {
      Log(LogLevel::kError, s.message());
      for (auto& w : workers_) w->Stop(0);
      for (auto& w : workers_) w->Join();
      return 1;
    }
    lifecycle_.Serving();
    asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
    WaitForSignal(signals);
    if (!options_.config_path.empty()) {
      last_text_ = WatchedText();
      WatchFile();
    }
    AskSelfIfLooping();
    io_.run();
    http_.Stop();
    prober_.Stop();

    const Millis grace = generation_->runtime->config.forward.timeout + 500;
    for (auto& w : workers_) w->Stop(grace);
    for (auto& w : workers_) w->Join();
    Log(LogLevel::kInfo, "meshdns stopped");
    return 0;
  }

 private:
  // /metrics, /health and /ready where the configuration puts them; two on
  // one address share a listener.
  absl::Status ListenHttp(const Config& config) {
    std::map<std::string, std::pair<SocketAddress, std::set<std::string>>> by_address;
    for (const auto& [address, path] : {std::pair{config.metrics, "/metrics"}, std::pair{config.health, "/health"},
                                        std::pair{config.ready, "/ready"}}) {
      if (address.empty()) continue;
      absl::StatusOr<SocketAddress> a = SocketAddress::Parse(address);
      if (!a.ok()) return a.status();
      auto& entry = by_address[a->ToString()];
      entry.first = *a;
      entry.second.insert(path);
    }
    for (auto& [text, entry] : by_address) {
      if (absl::Status s = http_.Listen(entry.first, entry.second); !s.ok()) return s;
      Log(LogLevel::kInfo, "http ", absl::StrJoin(entry.second, " "), " on ", text);
    }
    return absl::OkStatus();
  }

  asio::awaitable<HttpResponse> Endpoint(const std::string& path) {
    if (path == "/health") co_return Health();
    if (path == "/ready") co_return Ready();
    // Not inside the braces: g++ 12 mishandles co_await within an aggregate initialiser.
    std::string page = co_await Metrics();
    co_return HttpResponse{200, std::move(page), "text/plain; version=0.0.4; charset=utf-8"};
  }

  HttpResponse Health() const {
    std::vector<Millis> beats;
    for (const auto& w : workers_) beats.push_back(w->last_beat());
    ProbeAnswer a = lifecycle_.Health(NowMillis(), beats);
    return {a.status, std::move(a.body)};
  }

  // Ready once serving and while a resolver of the local cluster answers:
  // without one, this node cannot answer for its own cluster.
  HttpResponse Ready() const {
    ProbeAnswer a = lifecycle_.Ready(NowMillis(), prober_.Local());
    return {a.status, std::move(a.body)};
  }

  // One snapshot from each worker, taken on its own thread, then summed here.
  asio::awaitable<std::string> Metrics() {
    struct Gather {
      explicit Gather(asio::io_context& io) : done(io) {}
      asio::steady_timer done;
      std::vector<WorkerSnapshot> snapshots;
      size_t pending = 0;
    };
    auto gather = std::make_shared<Gather>(io_);
    gather->pending = workers_.size();
    gather->done.expires_after(std::chrono::seconds(2));
    for (auto& w : workers_) {
      w->Snapshot([this, gather](WorkerSnapshot s) {
        asio::post(io_, [gather, s = std::move(s)]() mutable {
          gather->snapshots.push_back(std::move(s));
          if (--gather->pending == 0) gather->done.cancel();
        });
      });
    }
    if (gather->pending > 0) {
      boost::system::error_code ec;
      co_await gather->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const Runtime& rt = *generation_->runtime;
    MetricsInput in;
    in.server = absl::StrCat("dns://", rt.config.listen.empty() ? "" : rt.config.listen.front().ToString());
    for (const WorkerSnapshot& s : gather->snapshots) AddWorker(in, s.server, s.engine, s.channels);
    in.cache = generation_->cache->counters();
    in.cache_entries = generation_->cache->size();
    in.cache_capacity = generation_->cache->capacity();
    in.tcp_connections = TcpListener::OpenConnections();
    for (const Pool& pool : rt.pools) {
      for (size_t i = 0; i < pool.resolvers.size(); ++i) {
        in.peers.push_back(PeerState{pool.name, pool.resolvers[i].ToString(), pool.health[i]->IsUp(),
                                     pool.health[i]->probe_failures()});
      }
    }
    in.reloads = reloads_;
    in.reload_failures = reload_failures_;
    co_return RenderMetrics(in);
  }

  std::optional<Loaded> Load(bool initial) {
    LoadResult r;
    std::optional<Compiled> compiled;
    if (options_.corefile) {
      CorefileLoad c = LoadCorefile(options_.config_path, {.ignore_unsupported = options_.ignore_unsupported});
      for (const ConfigError& w : c.warnings) {
        Log(LogLevel::kWarn, w.file, ":", w.line, ":", w.column, ": ", w.message);
      }
      r.config = std::move(c.config);
      r.errors = std::move(c.errors);
      if (r.config) {
        compiled = std::move(c.serving);
        watch_files_ = std::move(c.watch);
      }
    } else {
      r = options_.config_path.empty() ? EmbeddedDefaultConfig() : LoadConfigFile(options_.config_path);
      if (r.config) compiled = CompileMesh(*r.config);
    }
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
    return Loaded{*std::move(r.config), *std::move(compiled)};
  }

  std::shared_ptr<const Generation> MakeGeneration(Loaded loaded) {
    Config& config = loaded.config;
    auto g = std::make_shared<Generation>();
    // Blocks that do not follow from the mesh alone (a Corefile's) may all
    // have changed: then the cache starts afresh.
    const CacheCarryOver plan = generation_ && loaded.compiled.cache_follows_mesh
                                    ? PlanCacheCarryOver(generation_->runtime->config, config)
                                    : CacheCarryOver{};
    if (plan.keep) {
      // Workers keep using the cache while it is pruned; the shards' locks make that safe.
      g->cache = generation_->cache;
      g->forget = plan.forget;
      const size_t forgotten = g->cache->EraseIf([&](const CacheKeyView& key) {
        return std::any_of(plan.forget.begin(), plan.forget.end(),
                           [&](const DnsName& zone) { return key.Under(zone.Wire()); });
      });
      Log(LogLevel::kDebug, "reload keeps the cache: ", g->cache->size(), " entries, ", forgotten, " dropped");
    } else {
      g->cache = std::make_shared<PacketCache>(
          PacketCache::Options{.capacity = config.cache.capacity, .max_entry_size = config.cache.max_entry_size});
    }
    const Runtime* previous = generation_ ? generation_->runtime.get() : nullptr;
    g->runtime = Runtime::Compile(std::move(config), std::move(loaded.compiled), previous);
    generation_ = g;
    return g;
  }

  void Reload(const char* why) {
    std::optional<Loaded> loaded = Load(/*initial=*/false);
    if (!loaded) {
      ++reload_failures_;
      return;
    }
    ++reloads_;
    const Config* config = &loaded->config;
    const auto& old_listen = generation_->runtime->config.listen;
    bool listen_changed = old_listen.size() != config->listen.size();
    for (size_t i = 0; !listen_changed && i < old_listen.size(); ++i) {
      listen_changed = old_listen[i].ToString() != config->listen[i].ToString();
    }
    if (listen_changed) Log(LogLevel::kWarn, "listen addresses changed; they take effect at the next restart");
    const Config& old = generation_->runtime->config;
    if (old.metrics != config->metrics || old.health != config->health || old.ready != config->ready) {
      Log(LogLevel::kWarn, "metrics/health/ready addresses changed; they take effect at the next restart");
    }
    SetLogLevel(ParseLogLevel(config->log_level));
    std::shared_ptr<const Generation> g = MakeGeneration(*std::move(loaded));
    for (auto& w : workers_) w->PostGeneration(g);
    prober_.SetRuntime(g->runtime);
    Log(LogLevel::kInfo, "configuration reloaded (", why, ")");
    AskSelfIfLooping();  // as CoreDNS, whose loop plugin checks again with every new Corefile
  }

  void AskSelfIfLooping() {
    const std::optional<LoopProbe>& loop = generation_->runtime->program.loop();
    if (!loop) return;
    asio::co_spawn(io_, AskSelf(loop->name, bound_.front()), asio::detached);
  }

  void WaitForSignal(asio::signal_set& signals) {
    signals.async_wait([this, &signals](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        if (!options_.config_path.empty()) last_text_ = WatchedText();
        Reload("SIGHUP");
        WaitForSignal(signals);
        return;
      }
      const Millis lameduck = options_.lameduck.value_or(generation_->runtime->config.lameduck);
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

  // The configuration file and what it reads besides (a Corefile's hosts
  // files), as one text: any change there is a reason to reload.
  std::string WatchedText() const {
    absl::StatusOr<std::string> file = ReadRegularFile(options_.config_path);
    // Missing or empty (mid-swap): wait for the file to be back.
    if (!file.ok() || file->empty()) return "";
    std::string text = *std::move(file);
    for (const std::string& path : watch_files_) {
      absl::StatusOr<std::string> content = ReadRegularFile(path);
      absl::StrAppend(&text, std::string(1, '\0'), path, "\n", content.ok() ? *content : "");
    }
    return text;
  }

  // CoreDNS's loop plugin: the probe question asked of this server itself.
  // Only asked; the pipeline counts its arrivals (dnscore/pipeline.cc).
  asio::awaitable<void> AskSelf(DnsName name, SocketAddress to) {
    // A wildcard listen address is reached on loopback.
    if (to.HostString() == "0.0.0.0" || to.HostString() == "::") {
      to = *SocketAddress::Parse(to.v6 ? "::1" : "127.0.0.1", to.port);
    }
    std::array<uint8_t, kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize> query;
    const size_t size = WriteUpstreamQuery(static_cast<uint16_t>(NowMillis()),
                                           UpstreamQuestion{name, kTypeHINFO, kClassIN, true}, query);
    udp::socket socket(io_, to.v6 ? udp::v6() : udp::v4());
    boost::system::error_code ec;
    socket.send_to(asio::buffer(query.data(), size), udp::endpoint(ToAsioAddress(to), to.port), 0, ec);
    if (ec) Log(LogLevel::kWarn, "loop: cannot ask ", to.ToString(), ": ", ec.message());
    // The reply, if any, tells nothing: whether the probe came back is counted where it arrives.
    co_return;
  }

  // A mounted ConfigMap changes by a symlink swap, which inotify on the path
  // would miss; comparing the content once a second sees every kind of change.
  void WatchFile() {
    watch_.expires_after(std::chrono::seconds(1));
    watch_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      std::string text = WatchedText();
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
  asio::steady_timer lameduck_{io_};
  Lifecycle lifecycle_;
  HealthProber prober_{io_};
  HttpServer http_{io_, [this](const std::string& path) { return Endpoint(path); }};
  uint64_t reloads_ = 0, reload_failures_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::shared_ptr<const Generation> generation_;
  std::string last_text_;
  std::vector<std::string> watch_files_;
  std::vector<SocketAddress> bound_;  // where the listeners are (a reload cannot move them)
};

}  // namespace

int RunServe(const ServeOptions& options) { return Daemon(options).Run(); }

}  // namespace meshdns
