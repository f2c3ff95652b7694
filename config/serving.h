// What `meshdns serve` runs, whichever front-end reads it: a meshdns YAML
// (or the embedded default) through CompileMesh, a Corefile through
// CompileCorefile. Both give a Config and the one compiled Program, so the
// daemon never asks which it was. Pure reading and compiling; no threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/runtime.h"

namespace meshdns {

enum class ConfigFormat { kMeshYaml, kCorefile };

struct ServingSource {
  std::string path;  // empty: the embedded default (YAML only)
  ConfigFormat format = ConfigFormat::kMeshYaml;
  bool ignore_unsupported = false;  // a Corefile's unsupported directives are skipped with a warning
};

struct ServingLoad {
  std::optional<Config> config;  // set when there are no errors
  Compiled compiled;
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;
  std::vector<std::string> watch;  // files besides `path` whose change means reload (a Corefile's hosts)
};

ServingLoad LoadServing(const ServingSource& source);

}  // namespace meshdns
