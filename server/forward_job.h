// ForwardJob: one question through one pool of resolvers, the way CoreDNS's
// forward and dnsdist's pools go about it:
//   - an attempt plan by the pool's policy, healthy resolvers first;
//   - one adaptive timeout per resolver, and for the last of a pass the rest
//     of the budget with resends, so a lossy link still answers;
//   - SERVFAIL and REFUSED retried on the next resolver before they count;
//   - a truncated reply asked again over TCP at once (contract rule 9);
//   - CoreDNS's max_concurrent and the per-resolver in-flight limit (REFUSED).
//
// Driven by callbacks, not a coroutine, and reused from query to query (the
// engine keeps finished jobs), so a forwarded miss costs no frame and no
// allocation here. TCP exchanges (force_tcp, truncated replies) are rare and
// still run as coroutines.
//
// Worker-local: used only from its worker's io_context thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "config/runtime.h"
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
  // Starts attempts until one is in flight, or ends the job when none is left.
  void Next();
  void OnUdpReply(std::span<const uint8_t> reply, bool retransmitted) override;
  void OnUdpFailure(absl::Status status) override;
  void StartTcp(Millis timeout, bool after_truncation);
  // `micros`: since the attempt was sent, read once for health and metrics.
  void Answered(std::span<const uint8_t> reply, int64_t micros);
  void Failed(const absl::Status& status, bool count_timeout);
  void Finish();
  Millis Left() const { return budget_ - (NowMillis() - started_); }
  ResolverHealth& health() const { return *pool_->health[resolver_]; }

  asio::io_context& io_;
  ChannelMap& channels_;
  absl::BitGen& rng_;
  EngineCounters& counters_;

  // The query under way.
  std::shared_ptr<const Runtime> runtime_;  // keeps pool_ alive
  const Pool* pool_ = nullptr;
  Done* done_ = nullptr;
  std::array<uint8_t, kHeaderSize + DnsName::kMaxWireSize + 4 + kOptSize> query_;
  size_t query_size_ = 0;
  Millis started_ = 0;
  Millis budget_ = 0;
  std::atomic<uint32_t>* concurrent_ = nullptr;  // the max_concurrent count taken, if any
  std::array<uint8_t, 256> order_;
  size_t planned_ = 0;
  size_t attempts_ = 0;
  size_t attempt_ = 0;
  size_t at_limit_ = 0;
  // The attempt in flight.
  size_t resolver_ = 0;
  UpstreamChannel* channel_ = nullptr;
  std::chrono::steady_clock::time_point sent_;
  // The outcome; reply_ keeps its capacity from query to query.
  std::vector<uint8_t> reply_;
  bool answered_ = false;
  bool overloaded_ = false;
};

}  // namespace meshdns
