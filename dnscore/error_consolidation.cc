#include "dnscore/error_consolidation.h"

#include "absl/strings/str_cat.h"

namespace meshdns {
namespace {

// Go's time.Duration text for whole milliseconds: 30s, 1m0s, 1.5s, 250ms.
std::string GoDuration(Millis ms) {
  if (ms < 1000) return absl::StrCat(ms, "ms");
  const Millis minutes = ms / 60000, hours = minutes / 60;
  std::string seconds = absl::StrCat((ms % 60000) / 1000);
  if (ms % 1000 != 0) {
    std::string frac = absl::StrCat(1000 + ms % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    absl::StrAppend(&seconds, ".", frac);
  }
  if (hours > 0) return absl::StrCat(hours, "h", minutes % 60, "m", seconds, "s");
  if (minutes > 0) return absl::StrCat(minutes, "m", seconds, "s");
  return seconds + "s";
}

}  // namespace

ErrorConsolidation::ErrorConsolidation(std::vector<ConsolidateRule> rules) {
  for (ConsolidateRule& rule : rules) {
    auto p = std::make_unique<Pattern>();
    p->re = std::make_unique<RE2>(rule.pattern);
    p->rule = std::move(rule);
    patterns_.push_back(std::move(p));
  }
}

ErrorConsolidation::Verdict ErrorConsolidation::Offer(absl::string_view why, Millis now) {
  for (const std::unique_ptr<Pattern>& p : patterns_) {
    if (!RE2::PartialMatch(re2::StringPiece(why.data(), why.size()), *p->re)) continue;
    std::lock_guard<std::mutex> lock(p->mu);
    if (++p->count == 1) {
      p->ends = now + p->rule.period;
      return Verdict{.log = p->rule.show_first, .level = p->rule.level};
    }
    return Verdict{.log = false, .level = p->rule.level};
  }
  return Verdict{};
}

void ErrorConsolidation::TakeDue(Millis now, std::vector<Summary>& out) {
  for (const std::unique_ptr<Pattern>& p : patterns_) {
    uint64_t count = 0;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      if (p->count == 0 || now < p->ends) continue;
      count = p->count;
      p->count = 0;
    }
    if (count > 1 || !p->rule.show_first) {
      out.push_back(Summary{p->rule.level, absl::StrCat(count, " errors like '", p->rule.pattern, "' occurred in last ",
                                                        GoDuration(p->rule.period))});
    }
  }
}

}  // namespace meshdns
