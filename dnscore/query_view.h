// QueryView: what the pipeline needs from a client's query, read straight off
// the wire (header, the one question, EDNS) without a full message parse and
// without allocation. ParseQuery decides, too, how a bad packet is answered.
#pragma once

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
};

struct QueryView {
  Header header;
  DnsName qname;  // as the client wrote it, case preserved
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t question_end = 0;  // offset just past the question
  Edns edns;

  bool rd() const { return header.flags & kFlagRD; }
  bool cd() const { return header.flags & kFlagCD; }
  // The most a UDP reply may carry (RFC 6891 6.2.5: never below 512).
  size_t MaxUdpReply() const { return edns.present && edns.udp_size > 512 ? edns.udp_size : 512; }
};

enum class QueryCheck {
  kOk,
  kDrop,     // no readable header, or a response: answering could start a reflection loop
  kFormErr,  // header readable, the rest malformed
  kNotImp,   // an opcode or a transfer type this server does not serve
  kBadVers,  // EDNS version other than 0 (RFC 6891 6.1.3)
};

// Reads `msg` into `out`. On anything but kDrop, out.header is valid; when
// out.question_end is not 0 the question (and what was read of EDNS) is too.
[[nodiscard]] QueryCheck ParseQuery(std::span<const uint8_t> msg, QueryView& out);

}  // namespace meshdns
