// Replays a forwarding scenario (tests/scenario/*.scenario, described in its
// README) against ForwardAttempts on a fake network and a virtual clock, and
// checks every expectation in it. When the scenario keeps a cache, each
// question also goes through the pipeline, so the client's answer (a fresh
// reply, a stale one, SERVFAIL, REFUSED) is checked where that rule lives.
//
// Test-only; single-threaded; a run takes microseconds of real time.
#pragma once


#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace meshdns::testing {

// Runs `text`; an error names `file`:line and what went wrong there (a line
// it cannot read, an expectation not met, an action nobody expected).
absl::Status RunAttemptScenario(absl::string_view file, absl::string_view text);

}  // namespace meshdns::testing
