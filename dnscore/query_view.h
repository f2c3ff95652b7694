// QueryView: what the pipeline needs from a client's query, read straight off
// the wire (header, the one question, EDNS) without a full message parse and
// without allocation. ParseQuery decides, too, how a bad packet is answered.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "dnscore/dns_name.h"
#include "dnscore/wire.h"

namespace meshdns {

struct Edns {
  bool present = false;
  uint16_t udp_size = 512;
  uint8_t version = 0;
  bool dnssec_ok = false;
  // Where the OPT's options (its RDATA) lie in the query.
  uint16_t options_at = 0;
  uint16_t options_size = 0;
};

struct QueryView {
  Header header;
  DnsName qname;  // as the client wrote it, case preserved
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t question_end = 0;  // offset just past the question
  Edns edns;
  uint16_t size = 0;   // the query's length in bytes
  // Set at admission when the program has views: the block that takes the
  // query (Program::RouteOf); 0 otherwise.
  uint16_t route = 0;

  bool rd() const { return header.flags & kFlagRD; }
  // The OPT's options in `wire`, the query this view was read from.
  std::span<const uint8_t> EdnsOptions(std::span<const uint8_t> wire) const {
    if (!edns.present || size_t{edns.options_at} + edns.options_size > wire.size()) return {};
    return wire.subspan(edns.options_at, edns.options_size);
  }
  bool cd() const { return header.flags & kFlagCD; }
  // The most a UDP reply may carry (RFC 6891 6.2.5: never below 512).
  size_t MaxUdpReply() const { return edns.present && edns.udp_size > 512 ? edns.udp_size : 512; }
  // What a UDP reply may carry: the client's size, but never more than the
  // server's cap (limits.udp_reply_size), however much the client offers.
  size_t UdpReplyLimit(size_t cap) const { return std::min(MaxUdpReply(), cap); }
};

enum class QueryCheck {
  kOk,
  kDrop,     // no readable header, or a response: answering could start a reflection loop
  kFormErr,  // header readable, the rest malformed
  kNotImp,   // an opcode or a transfer type this server does not serve
  kBadVers,  // EDNS version other than 0 (RFC 6891 6.1.3)
  // TSIG-signed (RFC 8945). meshdns holds no keys and writes every query it
  // forwards itself, so it could neither check the signature nor pass it on
  // unchanged (8945 5.5): refused rather than answered unsigned.
  kSigned,
};

// Reads `msg` into `out`. On anything but kDrop, out.header is valid; when
// out.question_end is not 0 the question is too. out.edns is what could be
// read of EDNS: on a bad packet, the OPT when the records up to it were sound.
[[nodiscard]] QueryCheck ParseQuery(std::span<const uint8_t> msg, QueryView& out);

}  // namespace meshdns
