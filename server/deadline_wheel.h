// DeadlineWheel: the timeouts of one worker's upstream exchanges on a single
// asio timer, as entries in a hashed wheel that fire up to one tick late.
// Worker-local: used only from its io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "server/asio.h"

namespace meshdns {

// A forwarded query used to carry its own steady_timer: a heap insert, an
// operation allocated per wait, and a cancellation posted back through the
// event loop when the reply came first — which is nearly always. Here a
// deadline is an entry in a bucket of a hashed wheel (one bucket per tick),
// and nothing is cancelled: when the bucket comes due each entry's target is
// told, and a target whose exchange has ended ignores the stale cookie.
// The timer runs only while entries wait, and wakes the loop once a tick.
//
// Entries fire at the first tick at or after their deadline (up to one tick
// late, never early). Deadlines beyond the wheel's horizon wait a lap and
// are looked at again.
class DeadlineWheel {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTick{4};
  static constexpr size_t kBuckets = 1024;  // a lap: ~4.1 s

  class Target {
   public:
    // `cookie` is what Add() was given; the target decides whether it still means anything.
    virtual void Expired(uint64_t cookie) = 0;

   protected:
    ~Target() = default;
  };

  // `buckets` other than kBuckets: for tests of deadlines beyond a lap.
  explicit DeadlineWheel(asio::io_context& io, size_t buckets = kBuckets);
  DeadlineWheel(const DeadlineWheel&) = delete;
  DeadlineWheel& operator=(const DeadlineWheel&) = delete;

  // Tells `target` at `when` (or up to a tick later). `target` must outlive
  // the wheel or the deadline.
  void Add(Clock::time_point when, Target* target, uint64_t cookie);
  size_t pending() const { return pending_; }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};
  // Entries live in one pool, linked into their bucket by index, so the wheel
  // allocates only when more deadlines wait at once than ever before.
  struct Entry {
    Target* target;
    uint64_t cookie;
    int64_t tick;  // the tick it is due at: a later lap's entries wait in the same bucket
    uint32_t next;
  };
  static int64_t TickOf(Clock::time_point t);
  static int64_t LastStartedTick(Clock::time_point t);
  void Link(uint32_t index);
  void Arm();
  void Advance();

  asio::steady_timer timer_;
  HandlerMemory timer_memory_;
  std::vector<Entry> entries_;
  uint32_t free_ = kNone;
  std::vector<uint32_t> buckets_;  // each bucket's first entry
  int64_t done_tick_;              // every tick up to this one has been handed out
  size_t pending_ = 0;
  bool armed_ = false;
};

}  // namespace meshdns
