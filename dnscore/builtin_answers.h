// The replies CoreDNS's local, any, chaos and whoami plugins give: made from
// the question alone (and the client's address for whoami), never asked of a
// resolver, with the records, TTLs, flags and rcodes those plugins write.
// Each plugin is one small type; BuiltinAnswers is a block's set of them and
// knows which answer before rewrite, acl and cache (local, any, chaos: their
// place in CoreDNS's plugin.cfg) and which after forward (whoami).
// Pure; immutable once built, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dnscore/dns_name.h"
#include "dnscore/question.h"

namespace meshdns {

using ReplyWire = absl::StatusOr<std::vector<uint8_t>>;

// `local`: RFC 6761's localhost. and the 0, 127 and 255 in-addr.arpa zones;
// names under .localhost. and, with localhost_prefix (the default), names
// starting localhost. get loopback addresses.
class LocalZones {
 public:
  explicit LocalZones(bool localhost_prefix = true) : localhost_prefix_(localhost_prefix) {}
  // Whether `qname` gets local's reply rather than going on to the next plugin.
  bool Holds(const DnsName& qname) const;
  ReplyWire Answer(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;

  static constexpr uint32_t kTtl = 604800;  // CoreDNS's, a week

 private:
  bool localhost_prefix_;
};

// `any`: RFC 8482's HINFO reply to every ANY question.
ReplyWire AnyAnswer(const DnsName& qname, uint16_t qclass);
inline constexpr uint32_t kAnyTtl = 8482;

// `chaos [VERSION [AUTHORS…]]`: CH TXT version.bind, version.server,
// authors.bind, hostname.bind and id.server.
class ChaosAnswers {
 public:
  ChaosAnswers(std::string version, std::vector<std::string> authors, std::string hostname);
  bool Holds(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;
  // authors.bind lists the authors in an order `shuffle` picks (CoreDNS
  // shuffles them on every query).
  ReplyWire Answer(const DnsName& qname, uint16_t qclass, uint64_t shuffle) const;

  const std::string& version() const { return version_; }
  const std::vector<std::string>& authors() const { return authors_; }

 private:
  std::string version_, hostname_;  // each at most 255 bytes, one TXT string
  std::vector<std::string> authors_;
};

// `whoami`: an empty answer with the client's address (A or AAAA) and an
// SRV `_udp.`/`_tcp.` record carrying its port in the additional section.
ReplyWire WhoamiAnswer(const DnsName& qname, uint16_t qtype, uint16_t qclass, const ClientAddress& client);

// A block's built-in answerers, as its Corefile enables them.
struct BuiltinAnswers {
  std::optional<LocalZones> local;
  bool any = false;
  std::optional<ChaosAnswers> chaos;
  bool whoami = false;

  // Whether local, any or chaos answer the question (they come first in
  // CoreDNS's plugin order: before rewrite, acl and cache). No allocation.
  bool AnswersFirst(const DnsName& qname, uint16_t qtype, uint16_t qclass) const;
  // Their reply, in plugin.cfg order (local, any, chaos); only when AnswersFirst.
  ReplyWire AnswerFirst(const DnsName& qname, uint16_t qtype, uint16_t qclass, uint64_t shuffle) const;
};

}  // namespace meshdns
