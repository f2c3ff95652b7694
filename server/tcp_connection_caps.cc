#include "server/tcp_connection_caps.h"

#include "absl/hash/hash.h"

namespace meshdns {

TcpConnectionCaps::Admit TcpConnectionCaps::TryAcquire(const IpAddress& client, uint32_t total_limit,
                                                       uint32_t per_client_limit) {
  if (open_.fetch_add(1, std::memory_order_relaxed) >= total_limit) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Admit::kOverTotal;
  }
  Shard& s = ShardFor(client);
  std::lock_guard lock(s.mu);
  uint32_t& n = s.count[client.bytes];
  if (n >= per_client_limit) {
    if (n == 0) s.count.erase(client.bytes);
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Admit::kOverPerClient;
  }
  ++n;
  return Admit::kAccepted;
}

void TcpConnectionCaps::Release(const IpAddress& client) {
  {
    Shard& s = ShardFor(client);
    std::lock_guard lock(s.mu);
    auto it = s.count.find(client.bytes);
    if (it != s.count.end() && --it->second == 0) s.count.erase(it);
  }
  open_.fetch_sub(1, std::memory_order_relaxed);
}

// On the whole address: IPv6 clients of one /64 may share their last byte.
TcpConnectionCaps::Shard& TcpConnectionCaps::ShardFor(const IpAddress& ip) {
  return shards_[absl::HashOf(ip.bytes) % shards_.size()];
}

}  // namespace meshdns
