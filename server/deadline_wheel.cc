#include "server/deadline_wheel.h"

#include <algorithm>

namespace meshdns {

namespace {

constexpr int64_t kTickMicros = std::chrono::duration_cast<std::chrono::microseconds>(DeadlineWheel::kTick).count();

int64_t MicrosOf(DeadlineWheel::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

// A deadline belongs to the first tick that starts at or after it (never early) ...
int64_t DeadlineWheel::TickOf(Clock::time_point t) { return (MicrosOf(t) + kTickMicros - 1) / kTickMicros; }

// ... and a tick is due once it has started.
int64_t DeadlineWheel::LastStartedTick(Clock::time_point t) { return MicrosOf(t) / kTickMicros; }

DeadlineWheel::DeadlineWheel(asio::io_context& io, size_t buckets)
    : timer_(io), buckets_(buckets, kNone), done_tick_(LastStartedTick(Clock::now())) {}

void DeadlineWheel::Add(Clock::time_point when, Target* target, uint64_t cookie) {
  uint32_t index = free_;
  if (index == kNone) {
    index = static_cast<uint32_t>(entries_.size());
    entries_.push_back({});
  } else {
    free_ = entries_[index].next;
  }
  // A deadline already past goes in the next bucket to be handed out.
  entries_[index] = {target, cookie, std::max(TickOf(when), done_tick_ + 1), kNone};
  Link(index);
  ++pending_;
  Arm();
}

void DeadlineWheel::Link(uint32_t index) {
  uint32_t& head = buckets_[static_cast<size_t>(entries_[index].tick) % buckets_.size()];
  entries_[index].next = head;
  head = index;
}

void DeadlineWheel::Arm() {
  if (armed_ || pending_ == 0) return;
  armed_ = true;
  timer_.expires_at(Clock::time_point(done_tick_ * kTick + kTick));
  timer_.async_wait(InMemory(timer_memory_, [this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // the wheel is gone
    armed_ = false;
    Advance();
    Arm();
  }));
}

void DeadlineWheel::Advance() {
  const int64_t now = LastStartedTick(Clock::now());
  // An idle stretch longer than a lap has nothing older than a lap in any bucket.
  int64_t tick = std::max(done_tick_ + 1, now - static_cast<int64_t>(buckets_.size()) + 1);
  for (; tick <= now && pending_ > 0; ++tick) {
    // The bucket is taken whole first: targets may add deadlines while they are told.
    uint32_t index = std::exchange(buckets_[static_cast<size_t>(tick) % buckets_.size()], kNone);
    done_tick_ = tick;
    while (index != kNone) {
      const uint32_t next = entries_[index].next;
      if (entries_[index].tick > tick) {
        Link(index);  // a later lap's
      } else {
        const Entry due = entries_[index];
        entries_[index].next = free_;
        free_ = index;
        --pending_;
        due.target->Expired(due.cookie);  // may Add(), and so move entries_
      }
      index = next;
    }
  }
  done_tick_ = std::max(done_tick_, now);
}

}  // namespace meshdns
