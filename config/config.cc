// Loading the YAML configuration: read, validate, compile (config_source.h),
// and the small methods of the config.h values.
#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "config/config_source.h"

namespace meshdns {
namespace {

constexpr absl::string_view kEmbeddedDefault = R"(# meshdns embedded default: one cluster on a laptop
cluster: local
listen: ["127.0.0.1:5353"]
clusters:
  local:
    resolvers: ["/etc/resolv.conf"]
upstream: ["/etc/resolv.conf"]
)";

}  // namespace

void ConfigProblems::SetRead(std::vector<ConfigError> errors) { read_ = std::move(errors); }

void ConfigProblems::Add(ReadMark after, const YamlPos& at, std::string message) {
  later_.emplace_back(after, ConfigError{file_, at.line, at.column, std::move(message)});
}

std::vector<ConfigError> ConfigProblems::Ordered() && {
  // Stable: problems with the same mark keep the order their stages added them in.
  std::stable_sort(later_.begin(), later_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ConfigError> out;
  out.reserve(read_.size() + later_.size());
  auto next = later_.begin();
  for (size_t i = 0; i <= read_.size(); ++i) {
    for (; next != later_.end() && next->first <= i; ++next) out.push_back(std::move(next->second));
    if (i < read_.size()) out.push_back(std::move(read_[i]));
  }
  return out;
}

Affinity ClustersetConfig::AffinityFor(absl::string_view service, absl::string_view ns) const {
  const std::string name = absl::AsciiStrToLower(absl::StrCat(service, ".", ns));
  for (const AffinityOverride& o : affinity_overrides) {
    if (fnmatch(absl::AsciiStrToLower(o.service).c_str(), name.c_str(), 0) == 0) return o.affinity;
  }
  return affinity;
}

std::string ConfigError::ToString() const { return absl::StrCat(file, ":", line, ":", column, ": ", message); }

size_t Config::LocalCluster() const {
  for (size_t i = 0; i < clusters.size(); ++i) {
    if (absl::EqualsIgnoreCase(clusters[i].name, cluster)) return i;
  }
  return 0;
}

std::vector<ListenAddress> Config::Listeners() const {
  if (!listeners.empty()) return listeners;
  std::vector<ListenAddress> out;
  for (const SocketAddress& a : listen) out.push_back(ListenAddress{.address = a});
  return out;
}

std::string ListenAddress::ToString() const {
  if (scope_id == 0) return address.ToString();
  return absl::StrCat("[", address.HostString(), "%", scope_id, "]:", address.port);
}

LoadResult LoadConfigText(absl::string_view yaml, const std::string& file_name) {
  ConfigProblems problems(file_name);
  std::optional<ConfigSource> source = ReadConfigYaml(yaml, file_name, problems);
  if (source) {
    ValidateConfig(*source, problems);
    CompileConfig(*source, problems);
  }
  LoadResult result;
  result.errors = std::move(problems).Ordered();
  if (result.errors.empty() && source) result.config = std::move(source->config);
  return result;
}

LoadResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, 0, "cannot read the file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadConfigText(ss.str(), path);
}

LoadResult EmbeddedDefaultConfig() { return LoadConfigText(kEmbeddedDefault, "<embedded default>"); }

}  // namespace meshdns
