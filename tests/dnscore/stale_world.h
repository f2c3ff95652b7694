// The pipeline around a replayed forward, for scenarios that check what the
// client gets: one root block that caches (serving stale answers or not) and
// forwards to pool 0. Every question finds in the cache an answer that
// expired ten minutes ago, so whether it is served stale is the block's
// serve_stale alone. Test-only; single-threaded.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "dnscore/forward_attempts.h"
#include "dnscore/packet_cache.h"
#include "dnscore/pipeline.h"
#include "dnscore/program.h"

namespace meshdns::testing {

class StaleWorld {
 public:
  // The virtual clock's zero as dnscore sees it: far enough from 0 for a
  // cache entry to have expired before a scenario starts.
  static constexpr Millis kEpoch = 1'000'000'000;

  struct Options {
    bool serve_stale = false;
  };
  StaleWorld(const Options& options, std::span<ResolverHealth* const> pool);

  // Starts question `name`. The client's line ("client stale") when the
  // pipeline answers at once (the whole pool is down); nullopt: forward it.
  std::optional<std::string> Start(absl::string_view name, QueryState& state, Millis now);
  // The client's line once the attempts ended; `rcode`: the kept reply's.
  std::string Forwarded(absl::string_view name, QueryState& state, AttemptOutcome outcome,
                        std::optional<uint8_t> rcode, Millis now);

 private:
  // "client NOERROR", "client stale", "client SERVFAIL", "client REFUSED".
  std::string Client(const Answer& answer, uint64_t stale_before) const;

  Program program_;
  PacketCache cache_{1024};
  PipelineCounters counters_;
  RenameScratch scratch_;
  std::vector<PoolHealth> pools_;
};

}  // namespace meshdns::testing
