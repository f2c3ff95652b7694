// The daemon's lifecycle: load the configuration, start one worker per
// thread, then wait for signals: SIGTERM/SIGINT stop gracefully (after the
// lameduck), SIGHUP or a changed file reloads (config_watcher.h).
// RunServe runs the daemon's main io_context on the calling thread until it stops.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/serving.h"
#include "dnscore/clock.h"

namespace meshdns {

struct ServeOptions {
  ServingSource source;               // the file to serve and how to read it
  std::vector<std::string> listen;    // overrides the file's `listen`
  int threads = 0;                    // 0: one per core
  std::optional<Millis> lameduck;     // overrides the file's `lameduck`
};

// Returns the process exit status (contract section 2).
int RunServe(const ServeOptions& options);

}  // namespace meshdns
