// UpstreamChannel's UDP exchanges against a resolver played by the test on
// loopback, on the channel's own io_context.
#include "server/upstream_channel.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <functional>
#include <optional>

#include "dnscore/upstream_query.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Answers what `answer` says yes to (by the copy's number, from 1), echoing
// the question with QR set; `forge` answers first with a wrong question.
class TestResolver {
 public:
  explicit TestResolver(asio::io_context& io) : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    Receive();
  }
  udp::endpoint endpoint() const { return socket_.local_endpoint(); }
  int received = 0;
  std::function<bool(int copy)> answer = [](int) { return true; };
  bool forge = false;

 private:
  void Receive() {
    socket_.async_receive_from(asio::buffer(buffer_), from_, [this](boost::system::error_code ec, size_t n) {
      if (ec) return;
      ++received;
      if (answer(received)) {
        std::vector<uint8_t> reply(buffer_.begin(), buffer_.begin() + n);
        reply[2] |= 0x80;  // QR
        if (forge) {
          std::vector<uint8_t> forged = reply;
          forged[kHeaderSize + 1] = 'x';  // another name in the question
          socket_.send_to(asio::buffer(forged), from_);
        }
        socket_.send_to(asio::buffer(reply), from_);
      }
      Receive();
    });
  }
  udp::socket socket_;
  std::array<uint8_t, 512> buffer_;
  udp::endpoint from_;
};

struct Outcome final : UpstreamChannel::Waiter {
  void OnUdpReply(std::span<const uint8_t> reply, bool resent) override {
    this->reply.emplace(reply.begin(), reply.end());
    retransmitted = resent;
    ended = Clock::now();
    if (then) then();
  }
  void OnUdpFailure(absl::Status status) override {
    failure = std::move(status);
    ended = Clock::now();
    if (then) then();
  }
  bool done() const { return reply.has_value() || !failure.ok(); }
  std::optional<std::vector<uint8_t>> reply;
  bool retransmitted = false;
  absl::Status failure;
  Clock::time_point ended;
  std::function<void()> then;
};

class UpstreamChannelTest : public ::testing::Test {
 protected:
  UpstreamChannelTest() : resolver_(io_) {}

  UpstreamChannel& Channel(const udp::endpoint& to) {
    channel_ = std::make_unique<UpstreamChannel>(io_, to, rng_, inbox_, wheel_);
    return *channel_;
  }
  std::span<uint8_t> Query(const char* name) {
    name_ = DnsName::FromText(name).value();
    const size_t size = WriteUpstreamQuery(0, UpstreamQuestion{name_, kTypeA, kClassIN, true, false, false}, query_);
    return std::span<uint8_t>(query_.data(), size);
  }
  void RunUntil(const std::function<bool()>& done, milliseconds limit = milliseconds(3000)) {
    const auto end = Clock::now() + limit;
    while (!done() && Clock::now() < end) io_.run_one_for(milliseconds(10));
  }

  asio::io_context io_;
  absl::BitGen rng_;
  UpstreamChannel::Inbox inbox_;
  DeadlineWheel wheel_{io_};
  TestResolver resolver_;
  std::unique_ptr<UpstreamChannel> channel_;
  DnsName name_;
  std::array<uint8_t, 512> query_;
};

TEST_F(UpstreamChannelTest, ReplyReachesTheWaiter) {
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  Outcome out;
  const std::span<uint8_t> q = Query("svc.ns.svc.cluster.local.");
  ASSERT_TRUE(channel.StartUdp(q, {.timeout = 2000}, &out).ok());
  EXPECT_FALSE(out.done()) << "never told from inside StartUdp";
  RunUntil([&] { return out.done(); });
  ASSERT_TRUE(out.reply.has_value()) << out.failure;
  EXPECT_TRUE(ReplyMatchesQuery(*out.reply, q));
  EXPECT_FALSE(out.retransmitted);
  EXPECT_EQ(resolver_.received, 1);
  EXPECT_EQ(channel.counters().sent, 1u);
}

TEST_F(UpstreamChannelTest, ResendsUntilACopyIsAnswered) {
  resolver_.answer = [](int copy) { return copy == 3; };
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  Outcome out;
  const auto start = Clock::now();
  ASSERT_TRUE(channel.StartUdp(Query("a.b."), {.timeout = 2000, .retransmit_every = 20}, &out).ok());
  RunUntil([&] { return out.done(); });
  ASSERT_TRUE(out.reply.has_value()) << out.failure;
  EXPECT_TRUE(out.retransmitted) << "Karn: the round trip of a resent query means nothing";
  EXPECT_EQ(resolver_.received, 3);
  EXPECT_GE(out.ended - start, milliseconds(40)) << "two resends, 20 ms apart";
}

TEST_F(UpstreamChannelTest, SilenceEndsAtTheDeadlineWithoutResendsUnlessAsked) {
  resolver_.answer = [](int) { return false; };
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  Outcome out;
  const auto start = Clock::now();
  ASSERT_TRUE(channel.StartUdp(Query("a.b."), {.timeout = 60}, &out).ok());
  RunUntil([&] { return out.done(); });
  EXPECT_TRUE(absl::IsDeadlineExceeded(out.failure)) << out.failure;
  EXPECT_GE(out.ended - start, milliseconds(60)) << "never early";
  io_.run_for(milliseconds(20));  // anything still in the wheel would go out now
  EXPECT_EQ(resolver_.received, 1) << "no retransmit_every: one copy only";
}

TEST_F(UpstreamChannelTest, ForgedReplyIsDroppedAndTheRealOneCounts) {
  resolver_.forge = true;
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  Outcome out;
  const std::span<uint8_t> q = Query("real.name.");
  ASSERT_TRUE(channel.StartUdp(q, {.timeout = 2000}, &out).ok());
  RunUntil([&] { return out.done(); });
  ASSERT_TRUE(out.reply.has_value()) << out.failure;
  EXPECT_TRUE(ReplyMatchesQuery(*out.reply, q));
  EXPECT_EQ(channel.counters().mismatched, 1u);
}

TEST_F(UpstreamChannelTest, ClosedPortFailsAtOnce) {
  // A port nothing listens on: the kernel's port-unreachable fails the exchange
  // long before its timeout.
  udp::endpoint closed;
  {
    udp::socket probe(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = probe.local_endpoint();
  }
  UpstreamChannel& channel = Channel(closed);
  Outcome out;
  const auto start = Clock::now();
  ASSERT_TRUE(channel.StartUdp(Query("a.b."), {.timeout = 2000}, &out).ok());
  RunUntil([&] { return out.done(); });
  EXPECT_TRUE(absl::IsUnavailable(out.failure)) << out.failure;
  EXPECT_LT(out.ended - start, milliseconds(1000));
}

TEST_F(UpstreamChannelTest, WaiterMayStartTheNextExchangeWhenTold) {
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  Outcome first, second;
  std::array<uint8_t, 512> other;
  const DnsName name = DnsName::FromText("second.query.").value();
  const size_t size = WriteUpstreamQuery(0, UpstreamQuestion{name, kTypeA, kClassIN, true, false, false}, other);
  first.then = [&] { ASSERT_TRUE(channel.StartUdp(std::span<uint8_t>(other.data(), size), {.timeout = 2000}, &second).ok()); };
  ASSERT_TRUE(channel.StartUdp(Query("first.query."), {.timeout = 2000}, &first).ok());
  RunUntil([&] { return second.done(); });
  EXPECT_TRUE(first.reply.has_value()) << first.failure;
  EXPECT_TRUE(second.reply.has_value()) << second.failure;
  EXPECT_EQ(resolver_.received, 2);
}

TEST_F(UpstreamChannelTest, ASocketThatCannotOpenSaysWhy) {
  UpstreamChannel& channel = Channel(resolver_.endpoint());
  // No descriptor left: a new one takes the lowest free number, which the
  // soft limit then excludes.
  rlimit before;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const int lowest_free = dup(0);
  ASSERT_GE(lowest_free, 0);
  close(lowest_free);
  rlimit none = before;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &none), 0);
  Outcome out;
  const absl::Status started = channel.StartUdp(Query("a.b."), {.timeout = 2000}, &out);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &before), 0);
  EXPECT_TRUE(absl::IsUnavailable(started)) << started;
  EXPECT_NE(started.message().find("Too many open files"), std::string::npos)
      << "the reason, not what closing the socket said: " << started;
}

}  // namespace
}  // namespace meshdns
