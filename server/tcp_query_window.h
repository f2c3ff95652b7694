// TcpQueryWindow: the bookkeeping of one client TCP connection's pipelined
// queries (RFC 7766 §6.2.1.1): how many are being worked on, the replies
// waiting to be written (one write at a time, in the order they became
// ready), and when the reader may take another query or the connection is
// done. No I/O and no clock: TcpConnection carries out what each event returns.
// Not thread-safe: one per connection, used on its worker's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace meshdns {

class TcpQueryWindow {
 public:
  // What the connection does after an event.
  struct Next {
    bool write = false;        // start writing writing(): no write was under way
    bool room = false;         // the reader may take a query (it may be waiting for room)
    bool client_turn = false;  // nothing is open and more may come: the client's read deadline runs
    bool close = false;        // no query will come and none is open: close the connection
    size_t finished = 0;       // queries that left the window with this event (written or dropped)
  };

  // A query is open from Taken() until its reply is written or dropped, so
  // replies a client does not read count against `max_open` too.
  explicit TcpQueryWindow(size_t max_open) : max_open_(max_open), replies_(max_open) {}

  // The reader reads the next query only once this holds: a client past the
  // bound is held back by TCP flow control, not by memory.
  bool HasRoom() const { return open_ < max_open_ && !reading_ended_; }
  void Taken() { ++open_; }
  // A taken query's reply: copied, its length first, into a buffer of the window's.
  [[nodiscard]] Next Replied(std::span<const uint8_t> reply);
  // A taken query that gets no reply.
  [[nodiscard]] Next Unanswered();
  // The write of writing() has ended, done or failed (the connection calls
  // Abort() first when it failed).
  [[nodiscard]] Next Written();
  // No further query will be taken (end of stream, a message that is not DNS, shutdown).
  [[nodiscard]] Next StopReading();
  // The connection is gone: waiting replies are dropped, and so is any still to come.
  [[nodiscard]] Next Abort();

  // The reply being written: valid from a Next with `write` until Written().
  std::span<const uint8_t> writing() const { return replies_[first_]; }
  size_t open() const { return open_; }
  size_t waiting_replies() const { return queued_ - (writing_ ? 1 : 0); }
  // Bytes the window holds for replies, written or not.
  size_t buffered() const;

 private:
  // Most replies fit (UDP's own ceiling is 1232 bytes) and their buffers are
  // reused; a larger one's is freed once written, so between bursts a
  // connection keeps at most max_open small buffers.
  static constexpr size_t kKeptReplyCapacity = 1024;

  // After a query left the window.
  Next Left(Next next) const;

  size_t max_open_;
  size_t open_ = 0;
  // A ring of max_open_ buffers (replies never outnumber open queries):
  // queued_ replies from first_, the first being written while writing_.
  std::vector<std::vector<uint8_t>> replies_;
  size_t first_ = 0;
  size_t queued_ = 0;
  bool writing_ = false;
  bool reading_ended_ = false;
  bool aborted_ = false;
};

}  // namespace meshdns
