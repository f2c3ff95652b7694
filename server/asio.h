// The one place Boost.Asio is included. Boost 1.74's awaitable.hpp needs
// <utility> first.
#pragma once

#include <utility>

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

inline IpAddress FromAsioAddress(const asio::ip::address& a) {
  if (a.is_v4()) return IpAddress::FromV4(a.to_v4().to_bytes());
  return IpAddress::FromV6(a.to_v6().to_bytes());
}

}  // namespace meshdns
