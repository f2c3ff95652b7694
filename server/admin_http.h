// AdminHttp: the daemon's HTTP side. Listens where the configuration puts
// /metrics, /health and /ready, and answers them from what the daemon owns:
// /metrics sums a snapshot taken on each worker's own thread. Main io_context
// thread only; it reads the workers only through Snapshot() and last_beat().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/asio.h"
#include "server/http_server.h"

namespace meshdns {

class ConfigWatcher;
class HealthProber;
class Lifecycle;
class TcpConnectionCaps;
class Worker;

class AdminHttp {
 public:
  // What the pages are made of; all owned by the daemon and outliving this.
  struct Sources {
    const std::vector<std::unique_ptr<Worker>>& workers;
    const Lifecycle& lifecycle;
    const HealthProber& prober;
    const ConfigWatcher& config;
    const TcpConnectionCaps& tcp_caps;
  };

  AdminHttp(asio::io_context& io, Sources sources) : io_(io), sources_(sources) {}

  // /metrics, /health and /ready where `config` puts them; two on one address share a listener.
  absl::Status Listen(const Config& config);
  void Stop() { http_.Stop(); }

 private:
  asio::awaitable<HttpResponse> Endpoint(const std::string& path);
  HttpResponse Health() const;
  HttpResponse Ready() const;
  asio::awaitable<std::string> Metrics();

  asio::io_context& io_;
  Sources sources_;
  HttpServer http_{io_, [this](const std::string& path) { return Endpoint(path); }};
};

}  // namespace meshdns
