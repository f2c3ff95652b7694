#include "server/lifecycle.h"

#include <vector>

#include "gtest/gtest.h"

namespace meshdns {
namespace {

using Locals = std::vector<LocalResolverState>;

ProbeAnswer Ready(const Lifecycle& l, Millis now, const Locals& local) {
  return l.Ready(now, LocalCluster{"c1", local});
}

TEST(LifecycleTest, NotReadyUntilALocalResolverHasAnswered) {
  Lifecycle l;
  Locals local = {{"10.96.0.10:53", true, 0}};
  EXPECT_EQ(Ready(l, 1000, local).status, 503) << "not serving yet";
  l.Serving();
  const ProbeAnswer before = Ready(l, 1000, local);
  EXPECT_EQ(before.status, 503) << "in rotation, but never heard from";
  EXPECT_NE(before.body.find("10.96.0.10:53 has not answered yet"), std::string::npos) << before.body;
  local[0].last_answer = 1200;
  EXPECT_EQ(Ready(l, 1300, local).status, 200);
}

TEST(LifecycleTest, NotReadyAgainWhileNoLocalResolverAnswers) {
  Lifecycle l;
  l.Serving();
  Locals local = {{"10.96.0.10:53", true, 5000}, {"10.96.0.11:53", false, 5000}};
  EXPECT_EQ(Ready(l, 5000 + Lifecycle::kAnswerWindow, local).status, 200);
  const ProbeAnswer silent = Ready(l, 5001 + Lifecycle::kAnswerWindow, local);
  EXPECT_EQ(silent.status, 503) << "its last answer is too old";
  EXPECT_NE(silent.body.find("local cluster c1"), std::string::npos) << silent.body;
  EXPECT_NE(silent.body.find("10.96.0.11:53 is out of rotation"), std::string::npos) << silent.body;
  const Millis later = 5000 + 2 * Lifecycle::kAnswerWindow;
  local[1] = {"10.96.0.11:53", true, later - 100};
  EXPECT_EQ(Ready(l, later, local).status, 200) << "one answering resolver is enough";
  local[1].up = false;
  EXPECT_EQ(Ready(l, later, local).status, 503) << "a fresh answer does not count while out of rotation";
}

TEST(LifecycleTest, WithoutALocalClusterServingIsReady) {
  Lifecycle l;
  EXPECT_EQ(l.Ready(0, std::nullopt).status, 503);
  l.Serving();
  EXPECT_EQ(l.Ready(0, std::nullopt).status, 200) << "as CoreDNS's ready plugin, for a plain Corefile";
}

TEST(LifecycleTest, LameduckFailsBothProbesAtOnceAndEndsOnTime) {
  Lifecycle l;
  l.Serving();
  const Locals local = {{"10.96.0.10:53", true, 100}};
  const std::vector<Millis> beats = {100, 100};
  EXPECT_EQ(l.Health(200, beats).status, 200);
  EXPECT_EQ(l.BeginStop(200, 5000), 5200);
  EXPECT_TRUE(l.stopping());
  EXPECT_EQ(l.Health(200, beats).status, 503);
  EXPECT_EQ(Ready(l, 200, local).status, 503);
  EXPECT_EQ(l.BeginStop(1000, 5000), 1000) << "a second signal stops at once";
}

TEST(LifecycleTest, NoLameduckStopsAtOnce) {
  Lifecycle l;
  l.Serving();
  EXPECT_EQ(l.BeginStop(300, 0), 300);
}

TEST(LifecycleTest, HealthFailsWhenAWorkerIsStuck) {
  Lifecycle l;
  l.Serving();
  const std::vector<Millis> beats = {10000, 10000 - Lifecycle::kStuckAfter - 1};
  const ProbeAnswer a = l.Health(10000, beats);
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.body.find("worker 1"), std::string::npos) << a.body;
}

}  // namespace
}  // namespace meshdns
