// The daemon's lifecycle: load the configuration, start one worker per
// thread, then wait for signals: SIGTERM/SIGINT stop gracefully (after the
// lameduck), SIGHUP or a changed file reloads (config_watcher.h).
// RunServe runs the daemon's main io_context on the calling thread until it stops.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dnscore/clock.h"

namespace meshdns {

struct ServeOptions {
  std::string config_path;            // empty: the embedded default
  bool corefile = false;              // config_path is a Corefile (serve --corefile)
  bool ignore_unsupported = false;    // a Corefile's unsupported directives are skipped with a warning
  std::vector<std::string> listen;    // overrides the file's `listen`
  int threads = 0;                    // 0: one per core
  std::optional<Millis> lameduck;     // overrides the file's `lameduck`
};

// Returns the process exit status (contract section 2).
int RunServe(const ServeOptions& options);

}  // namespace meshdns
