// CoreDNS's `errors { consolidate DURATION REGEXP [LEVEL] [show_first] }`
// (plugin/errors/errors.go): errors whose text matches a pattern are counted
// instead of logged one by one, and once DURATION after the first of them one
// line says how many came: "N errors like 'REGEXP' occurred in last DURATION".
// With show_first the first is logged too (at LEVEL), and a period with only
// that one says nothing more. The first pattern that matches takes the error.
//
// Shared by every worker of a configuration: a pattern's count is behind a
// lock of its own, taken only on the error path. Time is an argument; the
// daemon asks for the due summaries once a second (TakeDue).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "dnscore/clock.h"
#include "re2/re2.h"

namespace meshdns {

enum class ErrorLevel { kDebug, kInfo, kWarning, kError };

struct ConsolidateRule {
  Millis period = 0;
  std::string pattern;
  ErrorLevel level = ErrorLevel::kError;
  bool show_first = false;
};

class ErrorConsolidation {
 public:
  explicit ErrorConsolidation(std::vector<ConsolidateRule> rules);

  struct Verdict {
    bool log = true;  // log this error's own line
    ErrorLevel level = ErrorLevel::kError;
  };
  Verdict Offer(absl::string_view why, Millis now);

  struct Summary {
    ErrorLevel level;
    std::string line;
  };
  // The summaries of periods ended by `now` (all that are counted, with
  // `now` at its largest: the configuration is being replaced).
  void TakeDue(Millis now, std::vector<Summary>& out);

 private:
  struct Pattern {
    ConsolidateRule rule;
    std::unique_ptr<RE2> re;
    std::mutex mu;
    uint64_t count = 0;  // since the period began
    Millis ends = 0;     // when the period that the first count began ends
  };
  std::vector<std::unique_ptr<Pattern>> patterns_;
};

}  // namespace meshdns
