#include "server/tcp_query_window.h"

#include <utility>

namespace meshdns {

TcpQueryWindow::Next TcpQueryWindow::Replied(std::vector<uint8_t> framed) {
  if (aborted_) {
    --open_;
    return Next{.finished = 1};
  }
  replies_.push_back(std::move(framed));
  if (writing_) return Next{};
  writing_ = true;
  return Next{.write = true};
}

TcpQueryWindow::Next TcpQueryWindow::Unanswered() {
  --open_;
  return Left(Next{.finished = 1});
}

TcpQueryWindow::Next TcpQueryWindow::Written() {
  replies_.pop_front();
  writing_ = false;
  --open_;
  Next next{.finished = 1};
  if (!replies_.empty()) {
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
  const size_t keep = writing_ ? 1 : 0;
  const size_t dropped = replies_.size() - keep;
  replies_.resize(keep);
  open_ -= dropped;
  return Next{.finished = dropped};
}

TcpQueryWindow::Next TcpQueryWindow::Left(Next next) const {
  if (aborted_) return Next{.finished = next.finished};
  next.room = HasRoom();
  next.client_turn = open_ == 0 && !reading_ended_;
  next.close = open_ == 0 && reading_ended_;
  return next;
}

}  // namespace meshdns
