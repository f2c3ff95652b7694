// ConfigWatcher: the configuration the daemon serves. Loads it, turns each
// load into a Generation (carrying the cache over where it can), reloads on
// SIGHUP or when a watched file's content changes, and hands every new
// Generation to the daemon to publish. Main io_context thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/asio.h"
#include "server/daemon.h"
#include "server/query_engine.h"

namespace meshdns {

// Where a load's errors go: to stderr before anything serves (the process
// exits 2), to the log once serving (the old configuration keeps serving).
enum class LoadMode { kInitial, kReload };

class ConfigWatcher {
 public:
  // Called on the main thread with each reloaded Generation, to pass it on to workers and prober.
  using Publish = std::function<void(std::shared_ptr<const Generation>)>;

  ConfigWatcher(asio::io_context& io, ServeOptions options, Publish publish)
      : options_(std::move(options)), io_(io), publish_(std::move(publish)) {}

  // The first configuration, applied: its log level set, its listen addresses
  // taken as bound(). nullptr when it does not load (the errors are printed).
  std::shared_ptr<const Generation> LoadInitial();
  // Once serving: polls the watched files and sends the loop probe if the Corefile has one.
  void Start();
  // Rereads the configuration now (SIGHUP).
  void ReloadNow();

  const std::shared_ptr<const Generation>& generation() const { return generation_; }
  // Where the listeners are, each with its server: fixed at start. A reload
  // that moves them is taken (with a warning) when the old and the new
  // configuration are one server each, and refused when either has several,
  // as no listener could tell which server it now belongs to.
  const std::vector<ListenAddress>& bound() const { return bound_; }
  uint64_t reloads() const { return reloads_; }
  uint64_t reload_failures() const { return reload_failures_; }

 private:
  // A configuration as loaded and compiled, whichever front-end read it.
  struct Loaded;

  std::optional<Loaded> Load(LoadMode mode);
  // Why the reload to `next` cannot be served by the bound listeners; empty when it can.
  std::string ListenersMoved(const Loaded& next) const;
  std::shared_ptr<const Generation> MakeGeneration(Loaded loaded);
  void Reload(const char* why);
  void AskSelfIfLooping();
  asio::awaitable<void> AskSelf(DnsName name, SocketAddress to);
  std::string WatchedText() const;
  void WatchFile();
  // errors { consolidate }: logs the summaries whose periods have ended,
  // once a second; all of them from a configuration being replaced.
  void SummarizeErrors();
  static void LogErrorSummaries(const Generation& g, Millis now);

  const ServeOptions options_;
  asio::io_context& io_;
  Publish publish_;
  asio::steady_timer watch_{io_};
  asio::steady_timer summaries_{io_};
  uint64_t reloads_ = 0, reload_failures_ = 0;
  std::shared_ptr<const Generation> generation_;
  std::string last_text_;
  std::vector<std::string> watch_files_;
  std::vector<ListenAddress> bound_;
};

}  // namespace meshdns
