// What `meshdns serve --corefile` runs: a Corefile read, checked and planned
// (corefile.h, corefile_plugins.h), compiled into server blocks whose plugins
// are dnscore's stages, plus the plain Config the daemon needs around them
// (listen address, side services, logging). The query path that walks the
// blocks is QueryEngine's (server/corefile_chain.cc).
//
// Immutable once compiled and shared by every worker.
#pragma once

#include <atomic>
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
  bool errors = false;  // log why a query got no answer, as CoreDNS's errors plugin

  const Forward* ForwardFor(const DnsName& name) const;
  const Cache* CacheFor(const DnsName& name) const;
};

// CoreDNS's `loop`: at start the server asks itself an HINFO question for a
// random name in the block's zone; seeing that question more than twice
// means forwarding comes back to this server, and the process must stop.
struct LoopProbe {
  DnsName name;
  // How often the question has arrived, over all workers and reloads of this program.
  std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>(0);
  static constexpr int kMaxSeen = 2;
};

class CorefileProgram {
 public:
  explicit CorefileProgram(std::vector<CorefileBlock> blocks, std::optional<LoopProbe> loop = std::nullopt)
      : blocks_(std::move(blocks)), loop_(std::move(loop)) {}
  // CoreDNS's dispatch: the block with the longest zone holding the name;
  // null when none does (then the answer is REFUSED).
  const CorefileBlock* Dispatch(const DnsName& qname) const;
  const std::vector<CorefileBlock>& blocks() const { return blocks_; }
  // Set when a block has `loop`.
  const std::optional<LoopProbe>& loop() const { return loop_; }

 private:
  std::vector<CorefileBlock> blocks_;
  std::optional<LoopProbe> loop_;
};

struct CorefileLoad {
  std::optional<Config> config;
  CorefileServing serving;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // directives skipped with --ignore-unsupported
  std::vector<std::string> watch;     // files besides the Corefile whose change means reload (hosts)
};

struct CorefileLoadOptions {
  bool ignore_unsupported = false;
  CorefileReadOptions read;
};

CorefileLoad LoadCorefile(const std::string& path, const CorefileLoadOptions& options = {});
// The same from a Corefile already read (tests, and `check` after reading).
CorefileLoad CompileCorefile(const Corefile& corefile, const CorefileLoadOptions& options = {});

}  // namespace meshdns
