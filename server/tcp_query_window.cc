#include "server/tcp_query_window.h"

#include <algorithm>

#include "dnscore/wire.h"

namespace meshdns {

TcpQueryWindow::Next TcpQueryWindow::Replied(std::span<const uint8_t> reply) {
  if (aborted_) {
    --open_;
    return Next{.finished = 1};
  }
  std::vector<uint8_t>& slot = replies_[(first_ + queued_) % max_open_];
  ++queued_;
  slot.resize(reply.size() + 2);
  WriteU16(slot.data(), static_cast<uint16_t>(reply.size()));
  std::copy(reply.begin(), reply.end(), slot.begin() + 2);
  if (writing_) return Next{};
  writing_ = true;
  return Next{.write = true};
}

TcpQueryWindow::Next TcpQueryWindow::Unanswered() {
  --open_;
  return Left(Next{.finished = 1});
}

TcpQueryWindow::Next TcpQueryWindow::Written() {
  std::vector<uint8_t>& written = replies_[first_];
  if (written.capacity() > kKeptReplyCapacity) std::vector<uint8_t>().swap(written);
  first_ = (first_ + 1) % max_open_;
  --queued_;
  writing_ = false;
  --open_;
  Next next{.finished = 1};
  if (queued_ != 0) {
    writing_ = true;
    next.write = true;
  }
  return Left(next);
}

TcpQueryWindow::Next TcpQueryWindow::StopReading() {
  reading_ended_ = true;
  return Next{.close = open_ == 0 && !aborted_};
}

TcpQueryWindow::Next TcpQueryWindow::Abort() {
  aborted_ = true;
  reading_ended_ = true;
  // The reply being written stays until its write returns: the write reads it.
  const size_t dropped = queued_ - (writing_ ? 1 : 0);
  queued_ -= dropped;
  open_ -= dropped;
  return Next{.finished = dropped};
}

size_t TcpQueryWindow::buffered() const {
  size_t bytes = 0;
  for (const std::vector<uint8_t>& r : replies_) bytes += r.capacity();
  return bytes;
}

TcpQueryWindow::Next TcpQueryWindow::Left(Next next) const {
  if (aborted_) return Next{.finished = next.finished};
  next.room = HasRoom();
  next.client_turn = open_ == 0 && !reading_ended_;
  next.close = open_ == 0 && reading_ended_;
  return next;
}

}  // namespace meshdns
