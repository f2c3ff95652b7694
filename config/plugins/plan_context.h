// What a Corefile directive's parser is handed: the server block's zones and
// the plan's problem lists, with the readers every plugin shares (a token as a
// zone, a bounded number, a duration, a regex), each reporting at the
// token's file:line:col. One per server block while it is planned; not thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/corefile.h"
#include "dnscore/dns_name.h"
#include "re2/re2.h"

namespace meshdns {

using Tokens = std::span<const CorefileToken>;

class PlanContext {
 public:
  // `unsupported`: where what meshdns cannot run is reported as a warning
  // (PlanCorefileOptions::ignore_unsupported); null: it is an error.
  PlanContext(const std::vector<DnsName>& block_zones, std::vector<ConfigError>& errors,
              std::vector<ConfigError>* unsupported)
      : block_zones_(block_zones), errors_(errors), unsupported_(unsupported) {}

  // The zones of the server block's keys: a plugin's zones when it names none.
  const std::vector<DnsName>& block_zones() const { return block_zones_; }

  void Error(const SourcePos& pos, std::string message);
  // Something CoreDNS runs and meshdns does not (a tls:// upstream, an
  // option): the parser leaves it out of the plan either way.
  void Unsupported(const SourcePos& pos, std::string message);
  void NoBlock(const CorefileDirective& d);
  void MaxArgs(const CorefileDirective& d, size_t n);

  std::optional<DnsName> Zone(const CorefileToken& t);
  std::vector<DnsName> Zones(Tokens tokens);

  template <typename T>
  bool Number(const CorefileToken& t, absl::string_view what, T& out, uint64_t min = 0,
              uint64_t max = std::numeric_limits<T>::max()) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(t.text, &v) || v < min || v > max) {
      Error(t.pos, absl::StrCat(what, ": '", t.text, "' is not a whole number from ", min, " to ", max));
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }
  bool Duration(const CorefileToken& t, absl::string_view what, Millis& out);
  // Compiled, or null with the reason reported at the token.
  std::shared_ptr<const re2::RE2> Regex(const CorefileToken& t);

 private:
  const std::vector<DnsName>& block_zones_;
  std::vector<ConfigError>& errors_;
  std::vector<ConfigError>* unsupported_;
};

}  // namespace meshdns
