#include "server/deadline_wheel.h"

#include <gtest/gtest.h>

#include <vector>

namespace meshdns {
namespace {

using Clock = DeadlineWheel::Clock;
using std::chrono::milliseconds;

struct Recorder final : DeadlineWheel::Target {
  void Expired(uint64_t cookie) override {
    fired.push_back({cookie, Clock::now()});
    if (on_expired) on_expired(cookie);
  }
  struct Fired {
    uint64_t cookie;
    Clock::time_point at;
  };
  std::vector<Fired> fired;
  std::function<void(uint64_t)> on_expired;
};

// Runs `io` until the wheel has nothing left, for at most `limit`.
void RunUntilEmpty(asio::io_context& io, const DeadlineWheel& wheel, milliseconds limit = milliseconds(3000)) {
  const auto end = Clock::now() + limit;
  while (wheel.pending() > 0 && Clock::now() < end) io.run_one_for(milliseconds(10));
}

TEST(DeadlineWheelTest, FiresInOrderAndNeverEarly) {
  asio::io_context io;
  DeadlineWheel wheel(io);
  Recorder r;
  const auto start = Clock::now();
  // Each in a tick of its own: within one tick the wheel keeps no order.
  const std::vector<milliseconds> after = {milliseconds(37), milliseconds(9), milliseconds(20), milliseconds(0)};
  for (size_t i = 0; i < after.size(); ++i) wheel.Add(start + after[i], &r, i);
  RunUntilEmpty(io, wheel);
  ASSERT_EQ(r.fired.size(), 4u);
  EXPECT_EQ(r.fired[0].cookie, 3u);
  EXPECT_EQ(r.fired[1].cookie, 1u);
  EXPECT_EQ(r.fired[2].cookie, 2u);
  EXPECT_EQ(r.fired[3].cookie, 0u);
  for (const Recorder::Fired& f : r.fired) {
    EXPECT_GE(f.at, start + after[f.cookie]) << "deadline " << f.cookie << " fired early";
  }
}

TEST(DeadlineWheelTest, TimerStopsWhenNothingWaits) {
  asio::io_context io;
  DeadlineWheel wheel(io);
  Recorder r;
  wheel.Add(Clock::now() + milliseconds(5), &r, 7);
  // run() returns only once no work is left: the wheel's timer must not tick on idle.
  const auto start = Clock::now();
  io.run_for(milliseconds(2000));
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
  ASSERT_EQ(r.fired.size(), 1u);
  EXPECT_EQ(wheel.pending(), 0u);
}

TEST(DeadlineWheelTest, DeadlineBeyondALapWaitsForItsOwn) {
  asio::io_context io;
  DeadlineWheel wheel(io, /*buckets=*/4);  // a lap of 16 ms
  Recorder r;
  const auto start = Clock::now();
  wheel.Add(start + milliseconds(60), &r, 1);  // shares a bucket with earlier ticks, laps later
  wheel.Add(start + milliseconds(2), &r, 2);
  RunUntilEmpty(io, wheel);
  ASSERT_EQ(r.fired.size(), 2u);
  EXPECT_EQ(r.fired[0].cookie, 2u);
  EXPECT_EQ(r.fired[1].cookie, 1u);
  EXPECT_GE(r.fired[1].at, start + milliseconds(60));
}

TEST(DeadlineWheelTest, TargetsMayAddWhileTold) {
  asio::io_context io;
  DeadlineWheel wheel(io);
  Recorder r;
  int rounds = 0;
  r.on_expired = [&](uint64_t cookie) {
    // A deadline already past, from inside the hand-out: told on a later tick, not lost, not looping.
    if (++rounds < 3) wheel.Add(Clock::now() - milliseconds(50), &r, cookie + 1);
  };
  wheel.Add(Clock::now(), &r, 0);
  RunUntilEmpty(io, wheel);
  ASSERT_EQ(r.fired.size(), 3u);
  EXPECT_EQ(r.fired[2].cookie, 2u);
}

TEST(DeadlineWheelTest, IdleLongerThanALapLosesNothing) {
  asio::io_context io;
  DeadlineWheel wheel(io, /*buckets=*/4);
  Recorder r;
  // The loop is not run for several laps; every deadline still fires once.
  const auto start = Clock::now();
  for (uint64_t i = 0; i < 8; ++i) wheel.Add(start + milliseconds(3 * i), &r, i);
  std::this_thread::sleep_for(milliseconds(80));
  RunUntilEmpty(io, wheel);
  EXPECT_EQ(r.fired.size(), 8u);
}

}  // namespace
}  // namespace meshdns
