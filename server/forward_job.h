// ForwardJob: one question through one pool of resolvers. The decisions (which
// resolver, how long, when to give up) are dnscore's ForwardAttempts; this is
// its I/O shell: it carries out each Action on an UpstreamChannel and turns
// what the channel reports into the next event, reading the clock once each.
//
// Driven by callbacks, not a coroutine, and reused from query to query (the
// engine keeps finished jobs), so a forwarded miss costs no frame and no
// allocation here. TCP exchanges (force_tcp, truncated replies) are rare and
// still run as coroutines.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "config/runtime.h"
#include "dnscore/forward_attempts.h"
#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"
#include "server/asio.h"
#include "server/stats.h"
#include "server/upstream_channel.h"

namespace meshdns {

class ForwardJob final : private UpstreamChannel::Waiter {
 public:
  class Done {
   public:
    // The job has ended: reply() and overloaded() tell how. The job may be
    // started again from here on.
    virtual void Forwarded(ForwardJob& job) = 0;

   protected:
    ~Done() = default;
  };

  ForwardJob(asio::io_context& io, ChannelMap& channels, absl::BitGen& rng, EngineCounters& counters)
      : io_(io), channels_(channels), rng_(rng), counters_(counters) {}
  ForwardJob(const ForwardJob&) = delete;
  ForwardJob& operator=(const ForwardJob&) = delete;

  // Forwards `question` to `pool` (which `runtime` owns); `done` hears of the
  // end, which may come before Start() returns (nothing could be sent).
  void Start(std::shared_ptr<const Runtime> runtime, const Pool& pool, const UpstreamQuestion& question, Done* done);

  // The resolver's reply (empty: none came); valid until the next Start().
  std::span<const uint8_t> reply() const { return answered_ ? std::span<const uint8_t>(reply_) : std::span<const uint8_t>(); }
  // Every resolver at its in-flight limit, or the pool at max_concurrent: REFUSED.
  bool overloaded() const { return overloaded_; }

 private:
  // Carries out `action` and those that follow from it at once, until an
  // attempt is under way or the query is over.
  void Do(Action action);
  void OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) override;
  void OnUdpFailure(absl::Status status) override;
  void StartTcp(Millis timeout);
  // A reply to the attempt in flight, `micros` after it was sent.
  [[nodiscard]] Action Replied(std::span<const uint8_t> reply, const AttemptReply& event);
  // The attempt failed: `status` says how, for the log and the next event.
  [[nodiscard]] Action Failed(const absl::Status& status);
  void Finish(AttemptOutcome outcome);

  asio::io_context& io_;
  ChannelMap& channels_;
  absl::BitGen& rng_;
  EngineCounters& counters_;

  // The query under way.
  std::shared_ptr<const Runtime> runtime_;  // keeps pool_ alive
  const Pool* pool_ = nullptr;
  Done* done_ = nullptr;
  ForwardAttempts attempts_;
  std::array<uint8_t, kMaxUpstreamQuery> query_;
  size_t query_size_ = 0;
  // The attempt in flight.
  UpstreamChannel* channel_ = nullptr;
  std::chrono::steady_clock::time_point sent_;
  // The outcome; reply_ keeps its capacity from query to query.
  std::vector<uint8_t> reply_;
  bool answered_ = false;
  bool overloaded_ = false;
};

}  // namespace meshdns
