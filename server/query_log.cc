#include "server/query_log.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dnscore/log_rule.h"
#include "dnscore/message.h"
#include "server/stats.h"

namespace meshdns {
namespace {

// Go's strconv.FormatFloat(seconds, 'f', -1, 64) for microsecond durations.
std::string Seconds(int64_t micros) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld.%06lld", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "s";
}

// The reply's flags as CoreDNS lists them: "qr,aa,rd".
void AppendFlags(std::string& out, std::span<const uint8_t> reply) {
  if (reply.size() < kHeaderSize) {
    out += "-";
    return;
  }
  const uint16_t f = ReadU16(&reply[2]);
  bool first = true;
  for (const auto& [bit, name] : {std::pair{kFlagQR, "qr"}, {kFlagAA, "aa"}, {kFlagTC, "tc"}, {kFlagRD, "rd"},
                                  {kFlagRA, "ra"}, {uint16_t{0x0040}, "z"}, {kFlagAD, "ad"}, {kFlagCD, "cd"}}) {
    if (!(f & bit)) continue;
    absl::StrAppend(&out, first ? "" : ",", name);
    first = false;
  }
}

// Appends the value of `label` ("{type}", "{>id}", …); false for a label
// that is not one of CoreDNS's replacer's.
bool AppendLabel(std::string& out, absl::string_view label, const QueryLogLine& line) {
  const QueryView& q = *line.query;
  if (label == "{type}") {
    out += TypeMnemonic(q.qtype);
  } else if (label == "{name}") {
    out += absl::AsciiStrToLower(q.qname.ToText());
  } else if (label == "{class}") {
    out += ClassMnemonic(q.qclass);
  } else if (label == "{proto}") {
    out += line.tcp ? "tcp" : "udp";
  } else if (label == "{size}") {
    absl::StrAppend(&out, line.request_size);
  } else if (label == "{remote}") {
    out += line.remote;
  } else if (label == "{port}") {
    absl::StrAppend(&out, line.port);
  } else if (label == "{>id}") {
    absl::StrAppend(&out, q.header.id);
  } else if (label == "{>opcode}") {
    absl::StrAppend(&out, (q.header.flags >> 11) & 0xf);
  } else if (label == "{>do}") {
    out += q.edns.dnssec_ok ? "true" : "false";
  } else if (label == "{>bufsize}") {
    absl::StrAppend(&out, line.tcp ? size_t{65535} : q.MaxUdpReply());
  } else if (label == "{rcode}") {
    out += line.reply.size() >= kHeaderSize ? RcodeLabel(line.reply[3] & 0xf) : "-";
  } else if (label == "{rsize}") {
    absl::StrAppend(&out, line.reply.size());
  } else if (label == "{duration}") {
    out += Seconds(line.micros);
  } else if (label == "{>rflags}") {
    AppendFlags(out, line.reply);
  } else {
    return false;
  }
  return true;
}

}  // namespace

// Read as CoreDNS's replacer reads a format (plugin/pkg/replacer parseFormat):
// each `}` closes the nearest `{` before it; a known label is replaced, a
// metadata label `{/…}` is "-" (meshdns runs no metadata plugin), and
// anything else is kept as written.
std::string FormatQueryLog(const QueryLogLine& line) {
  absl::string_view s = line.format.empty() ? absl::string_view(kDefaultLogFormat) : line.format;
  std::string out;
  out.reserve(128);
  for (;;) {
    const size_t close = s.find('}');
    if (close == absl::string_view::npos) break;
    const size_t open = s.substr(0, close).rfind('{');
    if (open == absl::string_view::npos) {
      absl::StrAppend(&out, s.substr(0, close + 1));
      s.remove_prefix(close + 1);
      continue;
    }
    const absl::string_view label = s.substr(open, close + 1 - open);
    std::string value;
    if (absl::StartsWith(label, "{/")) {
      value = "-";
    } else if (!AppendLabel(value, label, line)) {
      absl::StrAppend(&out, s.substr(0, close + 1));
      s.remove_prefix(close + 1);
      continue;
    }
    absl::StrAppend(&out, s.substr(0, open));
    out += value;
    s.remove_prefix(close + 1);
  }
  absl::StrAppend(&out, s);
  return out;
}

}  // namespace meshdns
