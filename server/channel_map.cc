#include "server/channel_map.h"

#include "absl/strings/str_cat.h"
#include "server/upstream_channel.h"

namespace meshdns {

ChannelMap::ChannelMap(asio::io_context& io) : io_(io) {}

ChannelMap::~ChannelMap() = default;

UpstreamChannel& ChannelMap::Get(const SocketAddress& resolver) {
  auto& slot = channels_[{resolver.ip.bytes, resolver.port}];
  if (!slot) {
    slot = std::make_unique<UpstreamChannel>(io_, udp::endpoint(ToAsioAddress(resolver), resolver.port), rng_,
                                             *inbox_, wheel_);
  }
  return *slot;
}

std::vector<std::pair<std::string, ChannelCounters>> ChannelMap::Counters() const {
  std::vector<std::pair<std::string, ChannelCounters>> out;
  for (const auto& [key, channel] : channels_) {
    const udp::endpoint& ep = channel->resolver();
    const std::string host = ep.address().is_v6() ? absl::StrCat("[", ep.address().to_string(), "]")
                                                  : ep.address().to_string();
    out.emplace_back(absl::StrCat(host, ":", ep.port()), channel->counters());
  }
  return out;
}

}  // namespace meshdns
