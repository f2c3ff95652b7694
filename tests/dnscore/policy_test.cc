#include "dnscore/policy.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace meshdns {
namespace {

// A pool of `n` resolvers and the plans PlanAttempts makes for it.
class Pool {
 public:
  explicit Pool(size_t n) : health_(n) {
    for (ResolverHealth& h : health_) view_.push_back(&h);
  }
  ResolverHealth& operator[](size_t i) { return health_[i]; }
  bool Down() const { return PoolDown(view_); }

  std::vector<int> Plan(Policy policy, uint64_t ticket) {
    std::array<uint8_t, 16> out{};
    size_t n = PlanAttempts(policy, ticket, view_, out);
    return std::vector<int>(out.begin(), out.begin() + n);
  }
  // Fails resolver i until it leaves the rotation.
  void TakeDown(size_t i, const HealthOptions& options, Millis now = 1000) {
    for (uint32_t k = 0; k < options.max_fails; ++k) (void)health_[i].RecordFailure(options, now);
    ASSERT_FALSE(health_[i].IsUp());
  }

 private:
  std::vector<ResolverHealth> health_;
  std::vector<ResolverHealth*> view_;
};

using V = std::vector<int>;

TEST(PlanAttemptsTest, RoundRobinStartsWhereTheTicketSays) {
  Pool pool(3);
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{0, 1, 2}));
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 1), (V{1, 2, 0}));
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 2), (V{2, 0, 1}));
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 5), (V{2, 0, 1}));
  EXPECT_EQ(pool.Plan(Policy::kRandom, 4), (V{1, 2, 0})) << "random: the ticket is the random number";
}

TEST(PlanAttemptsTest, SequentialAlwaysStartsAtTheFirst) {
  Pool pool(3);
  for (uint64_t ticket : {0, 1, 2, 7, 1000}) {
    EXPECT_EQ(pool.Plan(Policy::kSequential, ticket), (V{0, 1, 2})) << ticket;
  }
}

TEST(PlanAttemptsTest, DownResolversAreSkipped) {
  const HealthOptions options{.max_fails = 2};
  Pool pool(3);
  EXPECT_FALSE(pool[1].RecordFailure(options, 1000));
  EXPECT_TRUE(pool[1].IsUp()) << "one failure of two allowed";
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{0, 1, 2}));

  EXPECT_TRUE(pool[1].RecordFailure(options, 1000)) << "this failure took it out";
  EXPECT_FALSE(pool[1].IsUp());
  EXPECT_FALSE(pool[1].RecordFailure(options, 1500)) << "already out";
  EXPECT_EQ(pool[1].failures(), 3u);
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{0, 2}));
  EXPECT_FALSE(pool.Down());
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 1), (V{2, 0}));
  EXPECT_EQ(pool.Plan(Policy::kSequential, 1), (V{0, 2}));
}

TEST(PlanAttemptsTest, WhenAllAreDownNoneIsPlanned) {
  const HealthOptions options{.max_fails = 1};
  Pool pool(3);
  pool.TakeDown(0, options);
  pool.TakeDown(2, options);
  EXPECT_FALSE(pool.Down());
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{1}));
  pool.TakeDown(1, options);
  EXPECT_TRUE(pool.Down());
  for (Policy policy : {Policy::kRoundRobin, Policy::kRandom, Policy::kSequential}) {
    EXPECT_EQ(pool.Plan(policy, 5), V{}) << "a silent pool is not waited for";
  }
  EXPECT_FALSE(pool[1].RecordProbe(/*answered=*/false, 2000));
  EXPECT_EQ(pool[1].probe_failures(), 1u);
  EXPECT_TRUE(pool.Down()) << "a probe that went unanswered changes nothing";
  EXPECT_TRUE(pool[1].RecordProbe(/*answered=*/true, 2500)) << "a probe's reply brings it back";
  EXPECT_FALSE(pool.Down());
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 5), (V{1}));
  EXPECT_FALSE(pool[1].RecordProbe(/*answered=*/true, 2600)) << "already back";
}

TEST(PlanAttemptsTest, RecordSuccessBringsAResolverBack) {
  const HealthOptions options{.max_fails = 2};
  Pool pool(2);
  pool.TakeDown(0, options);
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{1}));
  EXPECT_EQ(pool[0].last_answer(), 0) << "never answered";
  pool[0].RecordSuccess(1500);
  EXPECT_TRUE(pool[0].IsUp());
  EXPECT_EQ(pool[0].failures(), 0u);
  EXPECT_EQ(pool[0].last_answer(), 1500) << "readiness reads when it last answered";
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{0, 1}));
  pool.TakeDown(0, options);
  pool[0].RecordAnswer(1600);
  EXPECT_FALSE(pool[0].IsUp()) << "a readiness probe's answer says nothing of queries";
  EXPECT_EQ(pool[0].last_answer(), 1600);
  pool[0].RecordSuccess(1700);
  // Failures are counted consecutively: the success started the count again.
  EXPECT_FALSE(pool[0].RecordFailure(options, 2000));
  EXPECT_TRUE(pool[0].IsUp());
}

TEST(PlanAttemptsTest, MarkingDownWorksAtTimeZero) {
  // A manual clock may start at 0; "down since 0" must not read as "up".
  Pool pool(2);
  EXPECT_TRUE(pool[0].RecordFailure({.max_fails = 1}, 0));
  EXPECT_FALSE(pool[0].IsUp());
  EXPECT_EQ(pool.Plan(Policy::kRoundRobin, 0), (V{1}));
}

TEST(PlanAttemptsTest, NeedsAnOutputAsLargeAsThePool) {
  ResolverHealth a, b;
  std::array<ResolverHealth*, 2> view = {&a, &b};
  std::array<uint8_t, 1> small{};
  EXPECT_EQ(PlanAttempts(Policy::kRoundRobin, 0, view, small), 0u);
  std::array<uint8_t, 4> out{};
  EXPECT_EQ(PlanAttempts(Policy::kRoundRobin, 0, std::span<ResolverHealth* const>(), out), 0u);
}

TEST(ResolverHealthTest, AttemptTimeoutFollowsMeasuredRoundTrips) {
  ResolverHealth h;
  EXPECT_EQ(h.AttemptTimeout(2000), ResolverHealth::kInitialTimeout) << "nothing measured yet";
  EXPECT_EQ(h.AttemptTimeout(300), 300) << "never above the configured timeout";

  // RFC 6298: first sample R gives srtt = R, rttvar = R/2, timeout = srtt + 4 * rttvar.
  h.RecordRtt(300'000);  // 300 ms
  EXPECT_EQ(h.AttemptTimeout(5000), 900);
  // Then srtt = 7/8 srtt + 1/8 R, rttvar = 3/4 rttvar + 1/4 |srtt - R|.
  h.RecordRtt(100'000);
  EXPECT_EQ(h.AttemptTimeout(5000), (275'000 + 4 * 162'500) / 1000);

  ResolverHealth fast;
  fast.RecordRtt(2'000);  // 2 ms on a LAN
  EXPECT_EQ(fast.AttemptTimeout(2000), ResolverHealth::kMinTimeout) << "never below the floor";
}

TEST(ResolverHealthTest, TimeoutsDoubleUpToTheCeiling) {
  ResolverHealth h;
  h.RecordTimeout(2000);
  EXPECT_EQ(h.AttemptTimeout(2000), 800);
  h.RecordTimeout(2000);
  EXPECT_EQ(h.AttemptTimeout(2000), 1600);
  h.RecordTimeout(2000);
  EXPECT_EQ(h.AttemptTimeout(2000), 2000);
  h.RecordTimeout(2000);
  EXPECT_EQ(h.AttemptTimeout(2000), 2000);

  ResolverHealth fast;
  fast.RecordRtt(1'000);
  fast.RecordTimeout(2000);
  EXPECT_EQ(fast.AttemptTimeout(2000), 2 * ResolverHealth::kMinTimeout) << "doubling starts from the floor";
}

TEST(ResolverHealthTest, RetransmitIntervalIsHalfTheRoundTripAndDoesNotBackOff) {
  ResolverHealth h;
  EXPECT_EQ(h.RetransmitInterval(), ResolverHealth::kInitialTimeout / 2) << "nothing measured yet";
  h.RecordRtt(400'000);
  EXPECT_EQ(h.RetransmitInterval(), 200);
  for (int i = 0; i < 5; ++i) h.RecordTimeout(2000);  // a lossy link: timeouts pile up
  EXPECT_EQ(h.AttemptTimeout(2000), 2000);
  EXPECT_EQ(h.RetransmitInterval(), 200) << "resends keep their pace";
  h.RecordRtt(1'000);
  for (int i = 0; i < 20; ++i) h.RecordRtt(1'000);
  EXPECT_EQ(h.RetransmitInterval(), ResolverHealth::kMinTimeout) << "a LAN peer: never below the floor";
}

TEST(ResolverHealthTest, InflightIsCappedAtTheLimit) {
  ResolverHealth h;
  EXPECT_TRUE(h.TryAcquire(2));
  EXPECT_TRUE(h.TryAcquire(2));
  EXPECT_FALSE(h.TryAcquire(2));
  EXPECT_EQ(h.inflight(), 2u) << "a refused acquire takes nothing";
  h.Release();
  EXPECT_EQ(h.inflight(), 1u);
  EXPECT_TRUE(h.TryAcquire(2));
}

}  // namespace
}  // namespace meshdns
