// Which replies a Corefile block's `log` writes, as CoreDNS's log plugin
// decides (plugin/log/log.go): the first rule whose name scope holds the
// question's name decides, by the reply's class (response.Classify of
// response.Typify): success, denial or error. A name no rule holds is not
// logged. Nothing here allocates: it runs per reply when a block logs.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "dnscore/dns_name.h"

namespace meshdns {

enum LogClass : uint8_t {
  kLogSuccess = 1,  // NOERROR with an answer, a referral
  kLogDenial = 2,   // NXDOMAIN, NODATA
  kLogError = 4,    // SERVFAIL, REFUSED, FORMERR, any other
  kLogAll = kLogSuccess | kLogDenial | kLogError,
};

// CoreDNS's {common} line, and {combined}: the same with the opcode.
inline constexpr char kDefaultLogFormat[] =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} "
    "{duration}";
inline constexpr char kCombinedLogFormat[] =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} {>do} {>bufsize}\" {rcode} {>rflags} {rsize} "
    "{duration} \"{>opcode}\"";

struct LogRule {
  DnsName scope;               // `log NAME`; the root for a plain `log`
  uint8_t classes = kLogAll;   // `class …` of its block
  std::string format;          // its FORMAT with {common}/{combined} spelled out; empty: the default line
};

// The class of a reply in wire form; kLogError for one that cannot be read.
LogClass ClassifyReply(std::span<const uint8_t> reply);

// The rule that logs `reply`, or null when none does.
const LogRule* LogRuleFor(std::span<const LogRule> rules, const DnsName& qname, std::span<const uint8_t> reply);

}  // namespace meshdns
