// The optional query log (`log: {queries: true}`): one line per answered
// query in CoreDNS's `log` plugin default format, so existing log parsing
// keeps working. Off by default: formatting costs more than a cache hit.
// Pure formatting, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/string_view.h"
#include "dnscore/query_view.h"

namespace meshdns {

// A line reads:
//   10.244.0.1:55325 - 42107 "A IN example.org. udp 29 false 512" NOERROR qr,rd,ra 68 0.000126s
struct QueryLogLine {
  std::string remote;  // the client's address, IPv6 in brackets
  uint16_t port = 0;
  const QueryView* query = nullptr;
  bool tcp = false;
  size_t request_size = 0;
  std::span<const uint8_t> reply;
  int64_t micros = 0;
  // A `log` FORMAT of CoreDNS's placeholders (plugin/pkg/replacer); empty:
  // the line above. Metadata ({/label}) is "-", as in CoreDNS without the
  // metadata plugin; what is not a placeholder stays as written.
  absl::string_view format;
};

std::string FormatQueryLog(const QueryLogLine& line);

}  // namespace meshdns
