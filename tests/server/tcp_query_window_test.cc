#include "server/tcp_query_window.h"

#include <vector>

#include "gtest/gtest.h"

namespace meshdns {
namespace {

std::vector<uint8_t> Reply(uint8_t tag) { return {tag}; }

uint8_t Tag(const TcpQueryWindow& w) { return w.writing()[2]; }

void Take(TcpQueryWindow& w, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(w.HasRoom());
    w.Taken();
  }
}

TEST(TcpQueryWindowTest, WritesOneReplyAtATimeInTheOrderTheyBecameReady) {
  TcpQueryWindow w(16);
  Take(w, 3);
  EXPECT_TRUE(w.Replied(Reply(3)).write);  // the last query taken, answered first
  EXPECT_EQ(Tag(w), 3);
  EXPECT_FALSE(w.Replied(Reply(1)).write) << "one write at a time";
  EXPECT_FALSE(w.Replied(Reply(2)).write);
  EXPECT_EQ(w.waiting_replies(), 2u);

  TcpQueryWindow::Next next = w.Written();
  EXPECT_TRUE(next.write);
  EXPECT_EQ(next.finished, 1u);
  EXPECT_EQ(Tag(w), 1);
  ASSERT_TRUE(w.Written().write);
  EXPECT_EQ(Tag(w), 2);
  next = w.Written();
  EXPECT_FALSE(next.write);
  EXPECT_EQ(w.open(), 0u);
  EXPECT_TRUE(next.client_turn) << "nothing open: the client's read deadline runs again";
  EXPECT_FALSE(next.close);
}

TEST(TcpQueryWindowTest, KeepsTheOrderWhenTheRingWrapsAround) {
  TcpQueryWindow w(3);
  Take(w, 3);
  ASSERT_TRUE(w.Replied(Reply(1)).write);
  ASSERT_FALSE(w.Replied(Reply(2)).write);
  ASSERT_TRUE(w.Written().write);
  Take(w, 1);
  ASSERT_FALSE(w.Replied(Reply(3)).write);
  ASSERT_FALSE(w.Replied(Reply(4)).write);
  for (uint8_t want : {2, 3, 4}) {
    EXPECT_EQ(Tag(w), want);
    (void)w.Written();
  }
  EXPECT_EQ(w.open(), 0u);
}

TEST(TcpQueryWindowTest, FramesEachReplyAndKeepsOnlySmallBuffers) {
  TcpQueryWindow w(16);
  Take(w, 1);
  ASSERT_TRUE(w.Replied(std::vector<uint8_t>(300, 7)).write);
  ASSERT_EQ(w.writing().size(), 302u);
  EXPECT_EQ(w.writing()[0], 1);  // 300, big-endian
  EXPECT_EQ(w.writing()[1], 44);
  (void)w.Written();
  EXPECT_GE(w.buffered(), 302u) << "a small buffer is reused";
  Take(w, 1);
  ASSERT_TRUE(w.Replied(std::vector<uint8_t>(20000, 7)).write);
  EXPECT_GE(w.buffered(), 20002u);
  (void)w.Written();
  EXPECT_LT(w.buffered(), 2048u) << "a large one is freed once written";
}

TEST(TcpQueryWindowTest, ReaderWaitsAtTheBoundUntilAReplyIsWritten) {
  TcpQueryWindow w(2);
  Take(w, 2);
  EXPECT_FALSE(w.HasRoom());
  ASSERT_TRUE(w.Replied(Reply(1)).write);
  EXPECT_FALSE(w.HasRoom()) << "a reply the client has not taken still counts";
  ASSERT_FALSE(w.Replied(Reply(2)).write);
  const TcpQueryWindow::Next next = w.Written();
  EXPECT_TRUE(next.room);
  EXPECT_FALSE(next.client_turn) << "one reply is still owed";
  EXPECT_TRUE(w.HasRoom());
}

TEST(TcpQueryWindowTest, AQueryWithoutReplyFreesItsRoom) {
  TcpQueryWindow w(1);
  Take(w, 1);
  EXPECT_FALSE(w.HasRoom());
  const TcpQueryWindow::Next next = w.Unanswered();
  EXPECT_EQ(next.finished, 1u);
  EXPECT_TRUE(next.room);
  EXPECT_TRUE(next.client_turn);
  EXPECT_FALSE(next.write);
}

TEST(TcpQueryWindowTest, ClosesOnlyOnceEveryTakenQueryIsDone) {
  TcpQueryWindow w(16);
  Take(w, 2);
  EXPECT_FALSE(w.StopReading().close) << "two queries are still open";
  EXPECT_FALSE(w.HasRoom()) << "and no more are taken";
  ASSERT_TRUE(w.Replied(Reply(1)).write);
  TcpQueryWindow::Next next = w.Written();
  EXPECT_FALSE(next.close);
  EXPECT_FALSE(next.client_turn);
  EXPECT_FALSE(next.room);
  next = w.Unanswered();
  EXPECT_TRUE(next.close);
  EXPECT_FALSE(next.client_turn);
}

TEST(TcpQueryWindowTest, StoppingWithNothingOpenClosesAtOnce) {
  TcpQueryWindow w(16);
  EXPECT_TRUE(w.StopReading().close);
}

TEST(TcpQueryWindowTest, AbortDropsWaitingRepliesButNotTheOneBeingWritten) {
  TcpQueryWindow w(16);
  Take(w, 3);
  ASSERT_TRUE(w.Replied(Reply(1)).write);
  ASSERT_FALSE(w.Replied(Reply(2)).write);
  TcpQueryWindow::Next next = w.Abort();
  EXPECT_EQ(next.finished, 1u) << "the waiting reply";
  EXPECT_EQ(w.waiting_replies(), 0u);
  EXPECT_EQ(Tag(w), 1) << "the write under way still reads its reply";
  EXPECT_FALSE(w.HasRoom());

  next = w.Written();
  EXPECT_EQ(next.finished, 1u);
  EXPECT_FALSE(next.write);
  EXPECT_FALSE(next.close) << "the connection closed itself when it aborted";
  next = w.Replied(Reply(3));  // a resolution that ends after the connection did
  EXPECT_EQ(next.finished, 1u);
  EXPECT_FALSE(next.write);
  EXPECT_EQ(w.open(), 0u);
  EXPECT_FALSE(w.StopReading().close);
}

}  // namespace
}  // namespace meshdns
