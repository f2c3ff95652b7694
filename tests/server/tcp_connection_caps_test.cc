#include "server/tcp_connection_caps.h"

#include "gtest/gtest.h"

namespace meshdns {
namespace {

using Admit = TcpConnectionCaps::Admit;

IpAddress Client(uint8_t last) { return IpAddress::FromV4({10, 0, 0, last}); }

TEST(TcpConnectionCapsTest, CapsEachClientAndFreesOnRelease) {
  TcpConnectionCaps caps;
  EXPECT_EQ(caps.TryAcquire(Client(1), 10, 2), Admit::kAccepted);
  EXPECT_EQ(caps.TryAcquire(Client(1), 10, 2), Admit::kAccepted);
  EXPECT_EQ(caps.TryAcquire(Client(1), 10, 2), Admit::kOverPerClient);
  EXPECT_EQ(caps.TryAcquire(Client(2), 10, 2), Admit::kAccepted);
  EXPECT_EQ(caps.open(), 3u);
  caps.Release(Client(1));
  EXPECT_EQ(caps.TryAcquire(Client(1), 10, 2), Admit::kAccepted);
  EXPECT_EQ(caps.open(), 3u);
}

TEST(TcpConnectionCapsTest, CapsTheTotalOverEveryClient) {
  TcpConnectionCaps caps;
  EXPECT_EQ(caps.TryAcquire(Client(1), 2, 5), Admit::kAccepted);
  EXPECT_EQ(caps.TryAcquire(Client(2), 2, 5), Admit::kAccepted);
  EXPECT_EQ(caps.TryAcquire(Client(3), 2, 5), Admit::kOverTotal);
  EXPECT_EQ(caps.open(), 2u);
  caps.Release(Client(2));
  EXPECT_EQ(caps.TryAcquire(Client(3), 2, 5), Admit::kAccepted);
}

// A refused per-client connection gives its total slot back.
TEST(TcpConnectionCapsTest, RefusalHoldsNoSlot) {
  TcpConnectionCaps caps;
  EXPECT_EQ(caps.TryAcquire(Client(1), 1, 0), Admit::kOverPerClient);
  EXPECT_EQ(caps.open(), 0u);
  EXPECT_EQ(caps.TryAcquire(Client(2), 1, 1), Admit::kAccepted);
}

}  // namespace
}  // namespace meshdns
