// The one place Boost.Asio is included. Boost 1.74's awaitable.hpp needs
// <utility> first.
#pragma once

#include <utility>

#include <cstddef>
#include <new>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "config/config.h"
#include "dnscore/acl.h"

namespace meshdns {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

inline asio::ip::address ToAsioAddress(const SocketAddress& a) {
  if (a.v6) {
    asio::ip::address_v6::bytes_type b;
    std::copy(a.ip.bytes.begin(), a.ip.bytes.end(), b.begin());
    return asio::ip::address_v6(b);
  }
  return asio::ip::address_v4({a.ip.bytes[12], a.ip.bytes[13], a.ip.bytes[14], a.ip.bytes[15]});
}

// Room for the operation of a handler that is armed again and again, one at
// a time (a socket's readiness wait, the wheel's timer, a flush posted once
// per turn of the loop). Asio allocates every handler's operation, and its
// per-thread recycling keeps a single block, which whatever else runs in
// between takes; with its own room such a handler never allocates.
//
// The room outlives its owner while an operation sits in it: at shutdown the
// io_context destroys pending operations after the objects that armed them.
class HandlerMemory {
 public:
  struct Block {
    void* Allocate(size_t size) {
      ++outstanding;
      if (in_use || size > sizeof(storage)) return ::operator new(size);  // a second at once, or too big
      in_use = true;
      return storage;
    }
    void Deallocate(void* p) {
      if (p == storage) {
        in_use = false;
      } else {
        ::operator delete(p);
      }
      if (--outstanding == 0 && orphaned) delete this;
    }
    alignas(std::max_align_t) unsigned char storage[256];
    bool in_use = false;
    size_t outstanding = 0;  // operations allocated through it, in `storage` or not
    bool orphaned = false;   // its HandlerMemory is gone: the last operation frees it
  };

  HandlerMemory() : block_(new Block) {}
  ~HandlerMemory() {
    if (block_->outstanding > 0) {
      block_->orphaned = true;
    } else {
      delete block_;
    }
  }
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;
  Block* block() const { return block_; }

 private:
  Block* block_;
};

template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory::Block* block) : block_(block) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : block_(other.block_) {}
  T* allocate(size_t n) { return static_cast<T*>(block_->Allocate(sizeof(T) * n)); }
  void deallocate(T* p, size_t) { block_->Deallocate(p); }
  template <typename U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return block_ == other.block_;
  }

 private:
  template <typename>
  friend class HandlerAllocator;
  HandlerMemory::Block* block_;
};

// `handler`, with its operation placed in `memory` (Asio asks for it through
// get_allocator()).
template <typename Handler>
class InMemory {
 public:
  using allocator_type = HandlerAllocator<Handler>;
  InMemory(HandlerMemory& memory, Handler handler) : block_(memory.block()), handler_(std::move(handler)) {}
  allocator_type get_allocator() const noexcept { return allocator_type(block_); }
  template <typename... Args>
  void operator()(Args&&... args) {
    handler_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory::Block* block_;
  Handler handler_;
};

// Lets a coroutine wait for a callback: Wait() returns once Wake() has been
// called, at once if it already was. Nothing but Wake() ends the wait.
class Wakeup {
 public:
  explicit Wakeup(asio::io_context& io) : timer_(io, asio::steady_timer::time_point::max()) {}
  void Wake() {
    woken_ = true;
    timer_.cancel();
  }
  asio::awaitable<void> Wait() {
    if (woken_) co_return;
    boost::system::error_code cancelled;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
  }

 private:
  asio::steady_timer timer_;
  bool woken_ = false;
};

inline IpAddress FromAsioAddress(const asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::FromV4(a.to_v4().to_bytes());
  return IpAddress::FromV6(a.to_v6().to_bytes());
}

}  // namespace meshdns
