#include "server/config_watcher.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/config.h"
#include "config/serving.h"
#include "config/runtime.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"
#include "server/log.h"

namespace meshdns {

// A configuration as loaded and compiled, whichever front-end read it.
struct ConfigWatcher::Loaded {
  Config config;
  Compiled compiled;
};

std::shared_ptr<const Generation> ConfigWatcher::LoadInitial() {
  std::optional<Loaded> loaded = Load(LoadMode::kInitial);
  if (!loaded) return nullptr;
  SetLogLevel(ParseLogLevel(loaded->config.log_level));
  bound_ = loaded->config.Listeners();
  return MakeGeneration(*std::move(loaded));
}

void ConfigWatcher::Start() {
  if (!options_.source.path.empty()) {
    last_text_ = WatchedText();
    WatchFile();
  }
  AskSelfIfLooping();
  SummarizeErrors();
}

void ConfigWatcher::LogErrorSummaries(const Generation& g, Millis now) {
  std::vector<ErrorConsolidation::Summary> due;
  for (const Block& b : g.runtime->program.blocks()) {
    if (b.consolidate) b.consolidate->TakeDue(now, due);
  }
  for (const ErrorConsolidation::Summary& s : due) Log(ToLogLevel(s.level), "plugin/errors: ", s.line);
}

void ConfigWatcher::SummarizeErrors() {
  summaries_.expires_after(std::chrono::seconds(1));
  summaries_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (generation_) LogErrorSummaries(*generation_, NowMillis());
    SummarizeErrors();
  });
}

void ConfigWatcher::ReloadNow() {
  if (!options_.source.path.empty()) last_text_ = WatchedText();
  Reload("SIGHUP");
}

std::optional<ConfigWatcher::Loaded> ConfigWatcher::Load(LoadMode mode) {
  ServingLoad r = LoadServing(options_.source);
  for (const ConfigError& w : r.warnings) {
    Log(LogLevel::kWarn, w.file, ":", w.line, ":", w.column, ": ", w.message);
  }
  if (r.config) watch_files_ = std::move(r.watch);
  for (const ConfigError& e : r.errors) {
    if (mode == LoadMode::kInitial) {
      std::fprintf(stderr, "%s\n", e.ToString().c_str());
    } else {
      Log(LogLevel::kError, "reload rejected, the old configuration keeps serving: ", e.ToString());
    }
  }
  if (!r.config) return std::nullopt;
  if (!options_.listen.empty()) {
    // --listen replaces where the one server listens; which of several it
    // should stand for would be a guess.
    if (const size_t servers = r.compiled.program.server_count(); servers > 1) {
      const std::string why = absl::StrCat(
          "--listen: ", options_.source.path, " listens on ", r.config->listen.size(), " addresses with ", servers,
          " different sets of server blocks; --listen can only replace the address of a Corefile that has one "
          "(drop --listen and use the keys' ports and bind)");
      if (mode == LoadMode::kInitial) {
        std::fprintf(stderr, "%s\n", why.c_str());
      } else {
        Log(LogLevel::kError, "reload rejected, the old configuration keeps serving: ", why);
      }
      return std::nullopt;
    }
    r.config->listeners.clear();
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
  return Loaded{*std::move(r.config), std::move(r.compiled)};
}

std::shared_ptr<const Generation> ConfigWatcher::MakeGeneration(Loaded loaded) {
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
  // The old blocks' counts end with them, as CoreDNS's errors plugin logs them at shutdown.
  if (generation_) LogErrorSummaries(*generation_, std::numeric_limits<Millis>::max());
  generation_ = g;
  return g;
}

void ConfigWatcher::Reload(const char* why) {
  std::optional<Loaded> loaded = Load(LoadMode::kReload);
  if (!loaded) {
    ++reload_failures_;
    return;
  }
  if (const std::string moved = ListenersMoved(*loaded); !moved.empty()) {
    Log(LogLevel::kError, "reload rejected, the old configuration keeps serving: ", moved,
        "; restart meshdns to listen there");
    ++reload_failures_;
    return;
  }
  ++reloads_;
  const Config* config = &loaded->config;
  const Config& old = generation_->runtime->config;
  if (old.metrics != config->metrics || old.health != config->health || old.ready != config->ready) {
    Log(LogLevel::kWarn, "metrics/health/ready addresses changed; they take effect at the next restart");
  }
  SetLogLevel(ParseLogLevel(config->log_level));
  std::shared_ptr<const Generation> g = MakeGeneration(*std::move(loaded));
  publish_(g);
  Log(LogLevel::kInfo, "configuration reloaded (", why, ")");
  AskSelfIfLooping();  // as CoreDNS, whose loop plugin checks again with every new Corefile
}

std::string ConfigWatcher::ListenersMoved(const Loaded& next) const {
  const std::vector<ListenAddress> wanted = next.config.Listeners();
  bool same = wanted.size() == bound_.size();
  for (size_t i = 0; same && i < bound_.size(); ++i) {
    same = wanted[i].ToString() == bound_[i].ToString() && wanted[i].server == bound_[i].server;
  }
  if (same) return "";
  const size_t old_servers = generation_->runtime->program.server_count();
  const size_t new_servers = next.compiled.program.server_count();
  if (old_servers == 1 && new_servers == 1) {
    Log(LogLevel::kWarn, "listen addresses changed; they take effect at the next restart");
    return "";
  }
  std::vector<std::string> was, now;
  for (const ListenAddress& l : bound_) was.push_back(absl::StrCat(l.ToString(), " (server ", l.server, ")"));
  for (const ListenAddress& l : wanted) now.push_back(absl::StrCat(l.ToString(), " (server ", l.server, ")"));
  return absl::StrCat("the listen addresses or their servers changed from ", absl::StrJoin(was, ", "), " to ",
                      absl::StrJoin(now, ", "));
}

void ConfigWatcher::AskSelfIfLooping() {
  const std::optional<LoopProbe>& loop = generation_->runtime->program.loop();
  if (!loop) return;
  // Asked where a server whose blocks hold the name listens.
  const Program& program = generation_->runtime->program;
  for (const ListenAddress& l : bound_) {
    if (program.Dispatch(loop->name, l.server) != nullptr) {
      asio::co_spawn(io_, AskSelf(loop->name, l.address), asio::detached);
      return;
    }
  }
}

// The configuration file and what it reads besides (a Corefile's hosts
// files), as one text: any change there is a reason to reload.
std::string ConfigWatcher::WatchedText() const {
  absl::StatusOr<std::string> file = ReadRegularFile(options_.source.path);
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
asio::awaitable<void> ConfigWatcher::AskSelf(DnsName name, SocketAddress to) {
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
void ConfigWatcher::WatchFile() {
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

}  // namespace meshdns
