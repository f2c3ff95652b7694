// ViewExpression: the expressions of CoreDNS's `view` plugin (expr-lang, with
// the functions of CoreDNS's expression.DefaultEnv), compiled once at load into
// a checked tree and evaluated per query without allocation. What meshdns does
// not run (pipes, member access, builtins such as len or upper, string
// concatenation, a `matches` pattern that is not a constant…) is refused at
// compile time with the offset and the reason, never read as true or false.
// Immutable once compiled; Matches may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "dnscore/acl.h"
#include "dnscore/dns_name.h"
#include "re2/re2.h"

namespace meshdns {

// What a view expression may ask of a query, as CoreDNS's request.Request
// answers it.
struct ViewQuery {
  const DnsName* name = nullptr;  // the question as the client asked it
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  IpAddress client;
  uint16_t client_port = 0;
  bool tcp = false;
  IpAddress server;  // the listener's address
  uint16_t server_port = 0;
  uint16_t id = 0;
  uint8_t opcode = 0;
  size_t size = 0;            // the query's length in bytes
  bool edns = false;          // the query has an OPT
  uint16_t edns_size = 0;     // its UDP size
  bool dnssec_ok = false;
};

class ViewExpression {
 public:
  struct Error {
    size_t offset = 0;  // into the expression's text
    std::string reason;
  };
  // The expression, or nullopt with `error` saying where and why.
  static std::optional<ViewExpression> Compile(absl::string_view text, Error& error);

  // True when the value is the boolean true. Any other value, and an error
  // while evaluating (incidr of something that is not an address, a modulo
  // by zero), is false, as CoreDNS's view.Filter has it.
  bool Matches(const ViewQuery& query) const;

  // The compiled tree (view_expr.cc): public for the compiler's helpers only.
  struct Node;
  struct Tree;

 private:
  explicit ViewExpression(std::shared_ptr<const Tree> tree) : tree_(std::move(tree)) {}
  std::shared_ptr<const Tree> tree_;
};

// CoreDNS's name for a type or class (miekg/dns's TypeToString and
// ClassToString): "AAAA", "IN", "TYPE65280". Writes into `buf` (16 bytes at
// least) when the code has no name.
absl::string_view TypeText(uint16_t qtype, char* buf);
absl::string_view ClassText(uint16_t qclass, char* buf);

}  // namespace meshdns
