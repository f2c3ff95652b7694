// What `meshdns serve --corefile` runs: a Corefile read, checked and planned
// (corefile.h, corefile_plugins.h), compiled into server blocks whose plugins
// are dnscore's stages, plus the plain Config the daemon needs around them
// (listen address, side services, logging). The query path that walks the
// blocks is QueryEngine's (server/corefile_chain.cc).
//
// Immutable once compiled and shared by every worker.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile.h"
#include "config/runtime.h"
#include "dnscore/hosts_table.h"
#include "dnscore/rewrite.h"
#include "dnscore/stored_reply.h"
#include "dnscore/template_handler.h"

namespace meshdns {

// One server block's plugins, each in its own slot: the chain runs them in
// CoreDNS's plugin.cfg order (rewrite → cache → template → hosts → forward),
// whatever order the Corefile wrote them in.
struct CorefileBlock {
  struct Cache {
    std::vector<DnsName> zones;
    TtlPolicy ttl;
    Millis serve_stale = 0;
  };
  struct Forward {
    DnsName from;
    std::vector<DnsName> except;
    size_t pool = 0;  // index into Runtime::pools
  };

  std::vector<DnsName> zones;  // the block's keys
  std::string name;            // its first key, for logs and pool names
  Rewriter rewrite;
  std::optional<Cache> cache;
  TemplateHandler templates;
  std::optional<HostsTable> hosts;
  std::vector<Forward> forwards;  // in Corefile order; the first whose FROM holds the name
  bool loadbalance = false;

  const Forward* ForwardFor(const DnsName& name) const;
  const Cache* CacheFor(const DnsName& name) const;
};

class CorefileProgram {
 public:
  explicit CorefileProgram(std::vector<CorefileBlock> blocks) : blocks_(std::move(blocks)) {}
  // CoreDNS's dispatch: the block with the longest zone holding the name;
  // null when none does (then the answer is REFUSED).
  const CorefileBlock* Dispatch(const DnsName& qname) const;
  const std::vector<CorefileBlock>& blocks() const { return blocks_; }

 private:
  std::vector<CorefileBlock> blocks_;
};

struct CorefileLoad {
  std::optional<Config> config;
  CorefileServing serving;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // directives skipped with --ignore-unsupported
};

struct CorefileLoadOptions {
  bool ignore_unsupported = false;
  CorefileReadOptions read;
};

CorefileLoad LoadCorefile(const std::string& path, const CorefileLoadOptions& options = {});
// The same from a Corefile already read (tests, and `check` after reading).
CorefileLoad CompileCorefile(const Corefile& corefile, const CorefileLoadOptions& options = {});

}  // namespace meshdns
