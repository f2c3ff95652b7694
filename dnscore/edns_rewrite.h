// EdnsRewrite: CoreDNS's `rewrite edns0` rules, which edit the EDNS options of
// the query the resolver gets: `local CODE DATA` (raw bytes, 0xHEX, or a
// variable such as {client_ip}), `nsid` (an empty NSID) and `subnet V4BITS
// V6BITS` (an ECS option of the client's address), each with set, append,
// replace or unset, as plugin/rewrite/edns0.go does them, quirks included:
// `local append` and `nsid append` add a second option when one is there
// already, while `subnet append` and a variable's `append` then do nothing.
//
// The options edited are the client's own (its OPT's RDATA), as CoreDNS's
// forward sends the client's request after rewrite. `revert` needs nothing
// here: meshdns writes the OPT of the client's reply itself, and it never
// carries the resolver's options or the request's, so the client never sees
// what a rule added, which is what `revert` asks for.
//
// Pure functions over plain values; immutable rules, thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "dnscore/acl.h"

namespace meshdns {

inline constexpr uint16_t kEdnsNsid = 3;
inline constexpr uint16_t kEdnsSubnet = 8;

struct EdnsOption {
  uint16_t code = 0;
  std::vector<uint8_t> data;
  bool operator==(const EdnsOption&) const = default;
};
using EdnsOptions = absl::InlinedVector<EdnsOption, 4>;

// An OPT record's RDATA as its options, in order; false (and `out` empty) if
// an option runs past the end.
bool ParseEdnsOptions(std::span<const uint8_t> rdata, EdnsOptions& out);
// The options as OPT RDATA, appended to `out`.
void EncodeEdnsOptions(const EdnsOptions& options, std::vector<uint8_t>& out);

// What a rule may read of the request: the question as the rules before it
// left it, and the addresses it came between.
struct EdnsRequest {
  std::string qname;  // presentation form with its trailing dot, case as asked
  uint16_t qtype = 0;
  bool has_client = false;  // false: the server's own question (prefetch)
  IpAddress client_ip;
  uint16_t client_port = 0;
  bool tcp = false;
  IpAddress server_ip;  // the listener's address (0.0.0.0 for a wildcard one, as CoreDNS's LocalAddr)
  uint16_t server_port = 0;
};

struct Edns0Rule {
  enum class Kind { kLocal, kNsid, kSubnet };
  enum class Action { kSet, kAppend, kReplace, kUnset };
  // {qname} … {server_port}; kMetadata is a `{plugin/label}`, which only
  // CoreDNS's metadata plugin fills in: without it (meshdns runs none) the
  // rule does nothing, as in CoreDNS without that plugin.
  enum class Variable { kNone, kQname, kQtype, kClientIp, kClientPort, kProtocol, kServerIp, kServerPort, kMetadata };

  Kind kind = Kind::kLocal;
  Action action = Action::kSet;
  uint16_t code = 0;          // kLocal
  std::vector<uint8_t> data;  // kLocal without a variable
  Variable variable = Variable::kNone;
  uint8_t v4_bits = 0, v6_bits = 0;  // kSubnet
  bool revert = false;

  // Edits `options`; true when CoreDNS counts the rule as applied (its
  // RewriteDone, which ends the rule list for a `stop` rule).
  bool Apply(const EdnsRequest& request, EdnsOptions& options) const;
};

// Reads a rule's variable word ("{qname}", …, or "{plugin/label}"); false if
// it is none CoreDNS accepts.
bool ParseEdns0Variable(absl::string_view word, Edns0Rule::Variable& out);

}  // namespace meshdns
