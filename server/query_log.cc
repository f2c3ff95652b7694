#include "server/query_log.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

}  // namespace

std::string FormatQueryLog(const QueryLogLine& line) {
  const QueryView& q = *line.query;
  const std::string type = TypeMnemonic(q.qtype);
  const std::string qclass = ClassMnemonic(q.qclass);
  std::string rcode = "-", flags = "-";
  if (line.reply.size() >= kHeaderSize) {
    const uint16_t f = ReadU16(&line.reply[2]);
    rcode = RcodeLabel(f & 0xf);
    std::vector<const char*> set;
    for (const auto& [bit, name] : {std::pair{kFlagQR, "qr"}, {kFlagAA, "aa"}, {kFlagTC, "tc"}, {kFlagRD, "rd"},
                                    {kFlagRA, "ra"}, {uint16_t{0x0040}, "z"}, {kFlagAD, "ad"}, {kFlagCD, "cd"}}) {
      if (f & bit) set.push_back(name);
    }
    flags = absl::StrJoin(set, ",");
  }
  return absl::StrCat(line.remote, ":", line.port, " - ", q.header.id, " \"", type, " ", qclass, " ",
                      absl::AsciiStrToLower(q.qname.ToText()), " ", line.tcp ? "tcp" : "udp", " ",
                      line.request_size, " ", q.edns.dnssec_ok ? "true" : "false", " ",
                      line.tcp ? size_t{65535} : q.MaxUdpReply(), "\" ",
                      rcode, " ", flags, " ", line.reply.size(), " ", Seconds(line.micros));
}

}  // namespace meshdns
