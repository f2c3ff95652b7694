// Lifecycle: what /health and /ready answer, and when a stopping daemon may
// exit. Pure decisions over plain inputs, each taking the time as an
// argument, so every phase is tested without a socket or a sleep.
// Used on the daemon's main thread only.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnscore/clock.h"

namespace meshdns {

struct ProbeAnswer {
  int status = 200;
  std::string body = "OK\n";
};

// One resolver of the local cluster as readiness sees it.
struct LocalResolverState {
  std::string address;
  bool up = true;          // in rotation
  Millis last_answer = 0;  // when it last replied to a query or probe; 0: never
};

struct LocalCluster {
  std::string name;
  std::vector<LocalResolverState> resolvers;
};

class Lifecycle {
 public:
  // A local resolver counts as answering while its last reply is this recent.
  // The prober asks one that has been quiet for kProbeQuietAfter, so with a
  // live resolver the window is never reached, and a silent one turns the
  // instance unready within seconds (kubelet's default period is 10 s). An
  // idle node so asks its kube-dns one question every two seconds, a busy
  // one none.
  static constexpr Millis kProbeQuietAfter = 2000;
  static constexpr Millis kAnswerWindow = 5000;
  // A worker's event loop beats every second; five without one means stuck.
  static constexpr Millis kStuckAfter = 5000;

  // Listeners bound and the admin endpoints up.
  void Serving() { serving_ = true; }
  bool serving() const { return serving_; }

  // A stop signal at `now`. The first begins the lameduck: the probes fail at
  // once and queries are still answered until the returned time. Another
  // signal while in lameduck, or a lameduck of 0, means stop now.
  [[nodiscard]] Millis BeginStop(Millis now, Millis lameduck);
  bool stopping() const { return stop_at_ >= 0; }
  Millis stop_at() const { return stop_at_; }

  // Liveness: the event loops turn, and the instance is not on its way out.
  ProbeAnswer Health(Millis now, std::span<const Millis> worker_beats) const;
  // Readiness. `local` is none when the configuration names no local
  // cluster (a Corefile without the mesh), where serving is enough, as with
  // CoreDNS's ready plugin.
  ProbeAnswer Ready(Millis now, const std::optional<LocalCluster>& local) const;

 private:
  bool serving_ = false;
  Millis stop_at_ = -1;
};

}  // namespace meshdns
