// ExchangeTable: the UDP exchanges one upstream channel has under way, by
// query ID, and the decision that lets a datagram end one: it came to the
// port the query left from (that opening, not a successor on the same index),
// carries the ID and answers the question. Sans-I/O: the channel does the I/O.
// Worker-local, not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "dnscore/wire.h"

namespace meshdns {

// One of a channel's UDP sockets: its index, and which opening of that index
// (a retired port is reopened on a fresh one at the same index).
struct PortRef {
  uint32_t index = 0;
  uint32_t opening = 0;
  bool operator==(const PortRef&) const = default;
};

// Why a datagram does or does not end an exchange.
enum class ReplyMatch {
  kAnswers,
  kTooShort,       // no room for an ID
  kUnknownId,      // no exchange under way with that ID
  kOtherSocket,    // the ID's query left on another socket of the channel
  kRetiredPort,    // it left on the same index, but that port has since been retired and reopened
  kOtherQuestion,  // not a reply, or to another question (ReplyMatchesQuery)
};

// The decision alone, for an exchange sent as `query` on `sent_on`.
[[nodiscard]] ReplyMatch MatchReply(std::span<const uint8_t> reply, PortRef arrived_on, std::span<const uint8_t> query,
                                    PortRef sent_on);

// `Waiting` is what the caller keeps per exchange (its waiter, deadlines).
template <typename Waiting>
class ExchangeTable {
 public:
  struct Exchange {
    uint16_t id = 0;
    std::span<const uint8_t> query;  // the caller's bytes, ID written in
    PortRef port;                    // set once the query is queued on a socket
    // Tells this exchange from an earlier one under the same ID, so a stale
    // deadline or failure (which carries ID and serial) cannot end it.
    uint32_t serial = 0;
    Waiting waiting{};
  };

  bool Contains(uint16_t id) const { return exchanges_.contains(id); }
  size_t size() const { return exchanges_.size(); }

  // Starts an exchange under `id`, which must be unused.
  Exchange& Open(uint16_t id, std::span<const uint8_t> query, Waiting waiting) {
    Exchange& e = exchanges_[id];
    e = Exchange{.id = id, .query = query, .serial = ++last_serial_, .waiting = std::move(waiting)};
    return e;
  }

  // The exchange under `id`, if `serial` (when given) is still its serial.
  Exchange* Find(uint16_t id, std::optional<uint32_t> serial = std::nullopt) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end() || (serial && it->second.serial != *serial)) return nullptr;
    return &it->second;
  }

  // Which exchange `reply`, read from `arrived_on`, ends; null when none,
  // and the reason in `why` if asked.
  Exchange* Match(std::span<const uint8_t> reply, PortRef arrived_on, ReplyMatch* why = nullptr) {
    Exchange* e = reply.size() >= 2 ? Find(ReadU16(reply.data())) : nullptr;
    const ReplyMatch match = e == nullptr ? (reply.size() >= 2 ? ReplyMatch::kUnknownId : ReplyMatch::kTooShort)
                                          : MatchReply(reply, arrived_on, e->query, e->port);
    if (why != nullptr) *why = match;
    return match == ReplyMatch::kAnswers ? e : nullptr;
  }

  // Ends the exchange (see Find); the caller gets what it was, the table forgets it.
  std::optional<Exchange> Close(uint16_t id, std::optional<uint32_t> serial = std::nullopt) {
    auto it = exchanges_.find(id);
    if (it == exchanges_.end() || (serial && it->second.serial != *serial)) return std::nullopt;
    std::optional<Exchange> closed(std::move(it->second));
    exchanges_.erase(it);
    return closed;
  }

  // Calls f(const Exchange&) for each exchange sent on socket `index`.
  template <typename F>
  void ForEachOn(uint32_t index, F f) const {
    for (const auto& [id, e] : exchanges_) {
      if (e.port.index == index) f(e);
    }
  }

 private:
  // flat_hash_map: erasing keeps its capacity, so a warm table allocates nothing.
  absl::flat_hash_map<uint16_t, Exchange> exchanges_;
  uint32_t last_serial_ = 0;
};

}  // namespace meshdns
