// TcpConnectionCaps: the daemon's count of open client TCP connections, in
// total (limits.tcp_connections) and per client address
// (limits.tcp_connections_per_client). One per daemon, shared by every
// worker's listeners: thread-safe, touched on accept and close only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "dnscore/acl.h"

namespace meshdns {

class TcpConnectionCaps {
 public:
  enum class Admit { kAccepted, kOverTotal, kOverPerClient };

  // On kAccepted the connection holds a slot until Release(client).
  [[nodiscard]] Admit TryAcquire(const IpAddress& client, uint32_t total_limit, uint32_t per_client_limit);
  void Release(const IpAddress& client);
  // Client connections open now, over every worker and listen address.
  uint32_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    std::mutex mu;
    absl::flat_hash_map<std::array<uint8_t, 16>, uint32_t> count;
  };
  Shard& ShardFor(const IpAddress& ip);

  std::atomic<uint32_t> open_{0};
  // Sharded so that accepts on different workers rarely wait for each other.
  std::array<Shard, 16> shards_;
};

}  // namespace meshdns
