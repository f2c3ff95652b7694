#include <gtest/gtest.h>

#include "server/asio.h"

namespace meshdns {
namespace {

TEST(HandlerMemoryTest, ReArmedHandlerUsesItsOwnRoom) {
  asio::io_context io;
  asio::steady_timer timer(io);
  HandlerMemory memory;
  int fired = 0;
  std::function<void()> arm = [&] {
    timer.expires_after(std::chrono::milliseconds(1));
    timer.async_wait(InMemory(memory, [&](const boost::system::error_code& ec) {
      // The operation's room is given back before the handler runs, so it can arm again.
      EXPECT_FALSE(memory.block()->in_use);
      if (!ec && ++fired < 3) arm();
    }));
    EXPECT_TRUE(memory.block()->in_use) << "the operation sits in the handler's room";
  };
  arm();
  io.run();
  EXPECT_EQ(fired, 3);
}

TEST(HandlerMemoryTest, RoomOutlivesItsOwnerWhileAnOperationIsInIt) {
  // At shutdown the io_context destroys pending operations after their owners
  // (a listener, a channel) are gone; the sanitizer build would report the
  // room's use after free or its leak.
  asio::io_context io;
  asio::steady_timer timer(io, std::chrono::hours(1));
  HandlerMemory::Block* block = nullptr;
  {
    HandlerMemory memory;
    block = memory.block();
    timer.async_wait(InMemory(memory, [](const boost::system::error_code&) {}));
  }
  // Still there, left for the operation to free.
  EXPECT_TRUE(block->in_use);
  EXPECT_TRUE(block->orphaned);
  EXPECT_EQ(block->outstanding, 1u);
}

}  // namespace
}  // namespace meshdns
