#include "server/lifecycle.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshdns {

Millis Lifecycle::BeginStop(Millis now, Millis lameduck) {
  stop_at_ = stopping() || lameduck <= 0 ? now : now + lameduck;
  return stop_at_;
}

ProbeAnswer Lifecycle::Health(Millis now, std::span<const Millis> worker_beats) const {
  if (stopping()) return {503, "lameduck: stopping\n"};
  for (size_t i = 0; i < worker_beats.size(); ++i) {
    if (now - worker_beats[i] > kStuckAfter) {
      return {503, absl::StrCat("worker ", i, " has not turned its event loop for ", now - worker_beats[i], "ms\n")};
    }
  }
  return {};
}

ProbeAnswer Lifecycle::Ready(Millis now, const std::optional<LocalCluster>& local) const {
  if (!serving_) return {503, "starting\n"};
  if (stopping()) return {503, "lameduck: stopping\n"};
  if (!local) return {};
  std::vector<std::string> why;
  for (const LocalResolverState& r : local->resolvers) {
    const bool recent = r.last_answer > 0 && now - r.last_answer <= kAnswerWindow;
    if (r.up && recent) return {};
    if (!r.up) {
      why.push_back(absl::StrCat(r.address, " is out of rotation"));
    } else if (r.last_answer == 0) {
      why.push_back(absl::StrCat(r.address, " has not answered yet"));
    } else {
      why.push_back(absl::StrCat(r.address, " last answered ", now - r.last_answer, "ms ago"));
    }
  }
  return {503, absl::StrCat("no resolver of the local cluster ", local->name, " answers: ", absl::StrJoin(why, "; "),
                            "\n")};
}

}  // namespace meshdns
