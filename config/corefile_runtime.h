// What `meshdns serve --corefile` runs: a Corefile read, checked and planned
// (corefile.h, corefile_plugins.h), compiled into the same Program a meshdns
// YAML compiles into (dnscore/program.h): each server block's plugins become
// the block's stages, each `forward` a pool. Plus the plain Config the
// daemon needs around them (listeners and the server each belongs to, side
// services, logging).
// Pure compilation; the result is immutable and shared by every worker.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/corefile.h"
#include "config/corefile_listen.h"
#include "config/runtime.h"
#include "dnscore/program.h"

namespace meshdns {

struct CorefileLoad {
  std::optional<Config> config;
  Compiled serving;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;  // directives skipped with --ignore-unsupported
  std::vector<std::string> watch;     // files besides the Corefile whose change means reload (hosts)
};

struct CorefileLoadOptions {
  bool ignore_unsupported = false;
  CorefileReadOptions read;
  // What `bind IFACE` names; null: this machine's interfaces (tests give their own).
  const Interfaces* interfaces = nullptr;
};

CorefileLoad LoadCorefile(const std::string& path, const CorefileLoadOptions& options = {});
// The same from a Corefile already read (tests, and `check` after reading).
CorefileLoad CompileCorefile(const Corefile& corefile, const CorefileLoadOptions& options = {});

}  // namespace meshdns
