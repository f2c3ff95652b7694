// The Corefile reader: CoreDNS's configuration syntax (Caddy v1's, which
// CoreDNS embeds) as its users write it, into plain values with every token's
// file:line:col. Syntax only: which directives meshdns can run, and what
// they mean, is the directive registry's (corefile_plugins.h, config/plugins/).
// Reading is plain functions over values; each call is independent.
//
// What is understood: server blocks with one or more keys (`zone:port`, `.`,
// trailing dots or not, `dns://`, keys split by spaces or commas, also over
// several lines ending in a comma); nested option blocks; "quoted strings"
// with \" escapes, spanning lines if they must; `#` comments; `{$ENV}` (and
// `{$ENV:default}`) in any token; snippets `(name) { … }` and `import` of a
// snippet or of files (a path or glob, relative to the importing file).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/config.h"
#include "dnscore/dns_name.h"

namespace meshdns {

struct SourcePos {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes

  // A problem found here.
  ConfigError Error(std::string message) const { return ConfigError{file, line, column, std::move(message)}; }
};

struct CorefileToken {
  std::string text;
  SourcePos pos;
};

// One line of a block: `name args… [{ nested lines }]`.
struct CorefileDirective {
  CorefileToken name;
  std::vector<CorefileToken> args;
  bool has_block = false;
  std::vector<CorefileDirective> block;
};

// A server block key, normalised: `dns://Cluster2.SVC.cluster.local:5300`
// is zone cluster2.svc.cluster.local. on port 5300.
struct CorefileKey {
  DnsName zone;
  uint16_t port = 53;
  SourcePos pos;
};

struct CorefileServerBlock {
  std::vector<CorefileKey> keys;
  std::vector<CorefileDirective> directives;
  SourcePos pos;
};

struct Corefile {
  std::vector<CorefileServerBlock> blocks;
};

struct CorefileReadOptions {
  // Looks up `{$NAME}`; unset variables read as empty, as in CoreDNS.
  std::function<std::optional<std::string>(const std::string&)> env;
  // Reads an imported file; by default from disk.
  std::function<std::optional<std::string>(const std::string&)> read_file;
};

struct CorefileResult {
  std::optional<Corefile> corefile;  // set when there are no errors
  std::vector<ConfigError> errors;
};

CorefileResult ReadCorefileText(absl::string_view text, const std::string& file_name,
                                const CorefileReadOptions& options = {});
CorefileResult ReadCorefileFile(const std::string& path, const CorefileReadOptions& options = {});

// Directives meshdns runs (and the side services it maps), against those it
// does not: each of the latter is an error naming the directive and what to
// do instead, or with `ignore_unsupported` a warning. Unknown names are errors.
// Answered by the directive registry (defined in corefile_plugins.cc).
struct DirectiveCheck {
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;
};
DirectiveCheck CheckCorefileDirectives(const Corefile& corefile, bool ignore_unsupported);

}  // namespace meshdns
