// The first stages of every query, decided from the packet alone and without
// allocation: decode the header and question, answer bad packets (FORMERR,
// NOTIMP, BADVERS) or drop them, refuse clients the ACL does not admit (the
// YAML's, or the acl of the Corefile block the question goes to: block,
// filter, drop), and answer from the cache. What is left needs resolving. Stateless: the cache
// it reads is thread-safe, and the rotation turn is the calling worker's.
#pragma once

#include <cstdint>
#include <span>

#include "dnscore/acl.h"
#include "dnscore/packet_cache.h"
#include "dnscore/program.h"
#include "dnscore/query_view.h"
#include "dnscore/question.h"

namespace meshdns {

enum class Verdict { kReply, kDrop, kResolve };

struct Admitted {
  Verdict verdict = Verdict::kDrop;
  size_t size = 0;        // with kReply: bytes written to `out`
  bool prefetch = false;  // answered from cache, and the entry should be refreshed in the background
  bool acl_refused = false;  // answered REFUSED because the ACL does not admit the client
  bool acl_filtered = false; // a block's acl answered an empty NOERROR
  bool acl_allowed = false;  // a block's acl let the query on
  bool acl_dropped = false;  // kDrop: a block's acl drops the question (not a malformed packet)
};

struct AdmitOptions {
  const Acl* acl = nullptr;     // null admits everyone
  const Program* program = nullptr;  // a Corefile's blocks, whose acl decides before the cache; null: none
  PacketCache* cache = nullptr; // null disables caching
  bool udp = true;              // UDP replies are cut to the client's size, within udp_reply_size
  uint16_t udp_reply_size = kAdvertisedUdpSize;  // limits.udp_reply_size; also what replies' OPT announces
  Millis now = 0;
  const PrefetchPolicy* prefetch = nullptr;  // null: no prefetching
  RotationTurn* rotation = nullptr;          // the worker's; null: rotated runs served as stored
  uint16_t server = 0;                       // the listener's server (program.h): part of the cache key
  // The client's port and transport and the listener's address, for the
  // program's views; null: the client address alone.
  const ClientAddress* who = nullptr;
};

[[nodiscard]] Admitted AdmitQuery(std::span<const uint8_t> query, const IpAddress& client, const AdmitOptions& options,
                                  QueryView& view, std::span<uint8_t> out);

}  // namespace meshdns
