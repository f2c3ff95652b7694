// meshdns command line (contract section 2): parses arguments and hands off.
// Exit status: 0 success, 2 bad usage or configuration, 1 runtime failure.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <boost/version.hpp>

#include "absl/base/config.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "config/config.h"
#include "config/corefile.h"
#include "config/corefile_import.h"
#include "config/corefile_stanza.h"
#include "config/corefile_runtime.h"
#include "config/manifest_values.h"
#include "config/manifests.h"
#include "dnscore/message.h"
#include "server/daemon.h"

namespace {

constexpr const char* kUsage = R"(usage:
  meshdns serve [--config FILE | --corefile FILE [--ignore-unsupported]] [--listen ADDR:PORT]... [--threads N]
                [--lameduck DURATION]
  meshdns check (--config FILE | --corefile FILE [--ignore-unsupported])
  meshdns import COREFILE [--cluster NAME]
  meshdns corefile --config FILE [--to ADDR:PORT] [--node-local ADDR[,ADDR...] | --format kubespray]
  meshdns manifests --values FILE      # Kubernetes objects for `kubectl apply -f -`
  meshdns version
)";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "meshdns: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

// Flags as `--name value` or `--name=value`; --listen may repeat.
struct Args {
  std::string config, corefile, cluster, to, node_local, format, values;
  std::vector<std::string> listen, positional;
  int threads = 0;
  std::optional<meshdns::Millis> lameduck;
  bool ignore_unsupported = false;
};

bool ParseArgs(int argc, char** argv, int first, Args& args, std::string& problem) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      args.positional.push_back(arg);
      continue;
    }
    if (arg == "--ignore-unsupported") {
      args.ignore_unsupported = true;
      continue;
    }
    std::string name = arg, value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      problem = name + " needs a value";
      return false;
    }
    if (name == "--config") args.config = value;
    else if (name == "--corefile") args.corefile = value;
    else if (name == "--cluster") args.cluster = value;
    else if (name == "--to") args.to = value;
    else if (name == "--node-local") args.node_local = value;
    else if (name == "--format") args.format = value;
    else if (name == "--values") args.values = value;
    else if (name == "--listen") args.listen.push_back(value);
    else if (name == "--threads") {
      if (!absl::SimpleAtoi(value, &args.threads) || args.threads < 1 || args.threads > 1024) {
        problem = "--threads needs a number from 1 to 1024";
        return false;
      }
    } else if (name == "--lameduck") {
      absl::StatusOr<meshdns::Millis> d = meshdns::ParseDuration(value);
      if (!d.ok()) {
        problem = "--lameduck: " + std::string(d.status().message());
        return false;
      }
      args.lameduck = *d;
    } else {
      problem = "unknown flag " + name;
      return false;
    }
  }
  return true;
}

// Everything `serve --corefile` would check: syntax, directives, their
// options, and what serving needs (one port, templates that render).
int CheckCorefile(const Args& args) {
  meshdns::CorefileLoad c = meshdns::LoadCorefile(args.corefile, {.ignore_unsupported = args.ignore_unsupported});
  for (const auto& w : c.warnings) {
    std::fprintf(stderr, "%s:%d:%d: warning: %s\n", w.file.c_str(), w.line, w.column, w.message.c_str());
  }
  for (const auto& e : c.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!c.config) return 2;
  std::printf("%s: ok\n", args.corefile.c_str());
  return 0;
}

// Prints the meshdns YAML for a mesh Corefile; warnings go to stderr.
int Import(const Args& args) {
  if (args.positional.size() != 1) return Usage("import needs exactly one COREFILE");
  meshdns::CorefileResult r = meshdns::ReadCorefileFile(args.positional[0]);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!r.corefile) return 2;
  std::optional<std::string> cluster;
  if (!args.cluster.empty()) cluster = args.cluster;
  meshdns::ImportResult imported = meshdns::ImportCorefile(*r.corefile, cluster);
  for (const auto& w : imported.warnings) {
    std::fprintf(stderr, "%s:%d:%d: warning: %s\n", w.file.c_str(), w.line, w.column, w.message.c_str());
  }
  for (const auto& e : imported.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!imported.errors.empty()) return 2;
  std::printf("%s", imported.yaml.c_str());
  return 0;
}

// Prints what hands the mesh's names to meshdns: the server block for kube-dns's
// Corefile, for a node-local cache's (--node-local), or kubespray's inventory variables.
int Corefile(const Args& args) {
  if (args.config.empty()) return Usage("corefile needs --config FILE");
  meshdns::LoadResult r = meshdns::LoadConfigFile(args.config);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!r.config) return 2;
  std::optional<meshdns::SocketAddress> to;
  if (!args.to.empty()) {
    absl::StatusOr<meshdns::SocketAddress> a = meshdns::SocketAddress::Parse(args.to);
    if (!a.ok()) return Usage("--to: " + std::string(a.status().message()));
    to = *a;
  }
  absl::StatusOr<std::string> stanza;
  if (args.format == "kubespray") {
    // kubespray's template binds nodelocaldns_ip itself.
    if (!args.node_local.empty()) return Usage("--format kubespray takes no --node-local");
    stanza = meshdns::KubesprayZones(*r.config, to);
  } else if (!args.format.empty() && args.format != "corefile") {
    return Usage("--format is corefile or kubespray");
  } else if (!args.node_local.empty()) {
    stanza = meshdns::NodeLocalStanza(*r.config, to, absl::StrSplit(args.node_local, ','));
  } else {
    stanza = meshdns::CorednsStanza(*r.config, to);
  }
  if (!stanza.ok()) {
    std::fprintf(stderr, "meshdns: %s\n", std::string(stanza.status().message()).c_str());
    return 2;
  }
  std::printf("%s", stanza->c_str());
  return 0;
}

// Prints one cluster's install as a YAML stream; the values file and the mesh
// file it names are checked as `check` does, every problem to stderr.
int Manifests(const Args& args) {
  if (args.values.empty()) return Usage("manifests needs --values FILE");
  if (!args.positional.empty()) return Usage("unexpected argument " + args.positional[0]);
  meshdns::ManifestValuesLoad r = meshdns::LoadManifestValuesFile(args.values);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!r.values) return 2;
  std::printf("%s", meshdns::RenderManifests(*r.values).c_str());
  return 0;
}

int Check(const Args& args) {
  if (!args.corefile.empty()) return CheckCorefile(args);
  if (args.config.empty()) return Usage("check needs --config FILE");
  meshdns::LoadResult r = meshdns::LoadConfigFile(args.config);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
  if (!r.config) return 2;
  std::printf("%s: ok\n", args.config.c_str());
  return 0;
}

int Version() {
  std::printf("meshdns %s\n", MESHDNS_VERSION);
  std::printf("  ldns %s\n", meshdns::LdnsVersion());
  std::printf("  boost %d.%d.%d\n", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100);
  std::printf("  re2 %s\n", MESHDNS_RE2_VERSION);
  std::printf("  yaml-cpp %s\n", MESHDNS_YAMLCPP_VERSION);
#ifdef ABSL_LTS_RELEASE_VERSION
  std::printf("  abseil %d.%d\n", ABSL_LTS_RELEASE_VERSION, ABSL_LTS_RELEASE_PATCH_LEVEL);
#endif
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("no command given");
  const std::string command = argv[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  if (command == "version" || command == "--version") return Version();
  Args args;
  std::string problem;
  if (!ParseArgs(argc, argv, 2, args, problem)) return Usage(problem);
  if (command == "check") return Check(args);
  if (command == "serve") {
    if (!args.positional.empty()) return Usage("unexpected argument " + args.positional[0]);
    if (!args.corefile.empty() && !args.config.empty()) return Usage("serve takes --config or --corefile, not both");
    const bool corefile = !args.corefile.empty();
    return meshdns::RunServe({.source = {.path = corefile ? args.corefile : args.config,
                                         .format = corefile ? meshdns::ConfigFormat::kCorefile
                                                            : meshdns::ConfigFormat::kMeshYaml,
                                         .ignore_unsupported = args.ignore_unsupported},
                              .listen = args.listen,
                              .threads = args.threads,
                              .lameduck = args.lameduck});
  }
  if (command == "import") return Import(args);
  if (command == "corefile") return Corefile(args);
  if (command == "manifests") return Manifests(args);
  return Usage("unknown command " + command);
}
