// The corpus of real Corefiles (tests/config/corefiles/real/): Corefiles other
// people wrote and run, each naming its source in its header. EXPECTED holds
// one line per file: the file, what CoreDNS v1.14.7 does with it (judged from
// CoreDNS's setup code, kept by hand) and what meshdns does today, which this
// test recomputes with the same steps as `meshdns check --corefile` and
// compares both ways. When meshdns learns something, regenerate the meshdns
// column with MESHDNS_PRINT_CORPUS=1 (the lines go to stderr, the CoreDNS
// column copied from EXPECTED) and review the difference.
//
// The meshdns column is one of
//   loads                        plain `check` accepts it;
//   loads-ignoring a,b           only with --ignore-unsupported, and every
//                                directive it drops is out of scope for #19
//                                (another system's API, zone files, signing);
//   refused LINE:COL: message    the first error not caused by an
//                                out-of-scope directive: what to build next.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "config/corefile.h"
#include "config/corefile_import.h"
#include "config/corefile_runtime.h"
#include "config/plugins/registry.h"

namespace meshdns {
namespace {

namespace fs = std::filesystem;
const fs::path kCorpus = MESHDNS_REAL_COREFILE_CORPUS;
const fs::path kManifest = kCorpus / "EXPECTED";

// Issue #19 leaves these to the systems they need: the Kubernetes API, etcd,
// Nomad, cloud DNS back-ends, zone files and DNSSEC signing.
const absl::flat_hash_set<std::string> kOutOfScope = {
    "kubernetes", "k8s_external", "etcd", "nomad",    "route53", "azure", "clouddns",
    "file",       "auto",         "secondary", "transfer", "dnssec",  "sign",
};

std::optional<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// What the files are read with: the machine's resolv.conf swapped for the
// test's own (a build machine's may list no nameserver), no environment
// (CoreDNS reads an unset {$VAR} as empty), and fixed interfaces for `bind IFACE`.
CorefileLoadOptions Options(bool ignore_unsupported) {
  static const std::string resolv = [] {
    const std::string path = ::testing::TempDir() + "/real-corpus-resolv.conf";
    std::ofstream(path) << "nameserver 192.0.2.53\n";
    return path;
  }();
  static const Interfaces interfaces = {
      {"lo", {{"127.0.0.1"}, {"::1"}}},
      {"eth0", {{"192.0.2.10"}, {"fe80::1", 2}}},
  };
  CorefileLoadOptions o;
  o.ignore_unsupported = ignore_unsupported;
  o.interfaces = &interfaces;
  o.read.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  o.read.read_file = [](const std::string& path) -> std::optional<std::string> {
    if (!fs::is_regular_file(path)) return std::nullopt;
    std::optional<std::string> text = Slurp(path);
    if (text) *text = absl::StrReplaceAll(*text, {{"/etc/resolv.conf", resolv}});
    return text;
  };
  return o;
}

struct Dropped {
  std::string name;
  SourcePos pos;
};

// The directives --ignore-unsupported would skip, in file order.
std::vector<Dropped> DroppedDirectives(const Corefile& corefile) {
  std::vector<Dropped> out;
  for (const CorefileServerBlock& block : corefile.blocks) {
    for (const CorefileDirective& d : block.directives) {
      const DirectiveEntry* entry = FindDirective(d.name.text);
      if (!entry || !entry->plan) out.push_back({d.name.text, d.name.pos});
    }
  }
  return out;
}

std::string Describe(const ConfigError& e, const fs::path& file) {
  const std::string where = e.file == file.string() ? "" : fs::path(e.file).filename().string() + ":";
  return absl::StrCat(where, e.line, ":", e.column, ": ", e.message);
}

// meshdns's verdict on one file, as the manifest writes it.
std::string Verdict(const fs::path& file) {
  const CorefileLoad plain = LoadCorefile(file.string(), Options(false));
  if (plain.config) return "loads";
  if (plain.errors.empty()) return "refused without an error";  // would be a bug of its own
  const CorefileResult read = ReadCorefileFile(file.string(), Options(false).read);
  if (!read.corefile) return "refused " + Describe(plain.errors.front(), file);

  const std::vector<Dropped> dropped = DroppedDirectives(*read.corefile);
  std::vector<std::string> out_of_scope;
  bool drops_in_scope = false;
  for (const Dropped& d : dropped) {
    if (!kOutOfScope.contains(d.name)) {
      drops_in_scope = true;
    } else if (std::find(out_of_scope.begin(), out_of_scope.end(), d.name) == out_of_scope.end()) {
      out_of_scope.push_back(d.name);
    }
  }
  const CorefileLoad lax = LoadCorefile(file.string(), Options(true));
  if (lax.config && !drops_in_scope) return "loads-ignoring " + absl::StrJoin(out_of_scope, ",");

  // The first error that is not an out-of-scope directive being named.
  auto out_of_scope_at = [&](const ConfigError& e) {
    return std::any_of(dropped.begin(), dropped.end(), [&](const Dropped& d) {
      return kOutOfScope.contains(d.name) && d.pos.file == e.file && d.pos.line == e.line && d.pos.column == e.column;
    });
  };
  for (const ConfigError& e : plain.errors) {
    if (!out_of_scope_at(e)) return "refused " + Describe(e, file);
  }
  // Only out-of-scope directives are named, yet dropping them does not load.
  return "refused " + (lax.errors.empty() ? std::string("without an error") : Describe(lax.errors.front(), file));
}

struct Line {
  std::string coredns;  // accepts | refuses
  std::string meshdns;
};

// EXPECTED: `FILE COREDNS MESHDNS...`; '#' starts a comment line.
std::map<std::string, Line> ReadManifest(std::vector<std::string>& problems) {
  std::map<std::string, Line> out;
  std::optional<std::string> text = Slurp(kManifest.string());
  if (!text) {
    problems.push_back("cannot read " + kManifest.string());
    return out;
  }
  std::istringstream in(*text);
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#') continue;
    const size_t a = line.find_first_of(" \t");
    const size_t b = a == line.npos ? a : line.find_first_not_of(" \t", a);
    const size_t c = b == line.npos ? b : line.find_first_of(" \t", b);
    if (c == line.npos) {
      problems.push_back(absl::StrCat("EXPECTED:", n, ": want FILE COREDNS MESHDNS"));
      continue;
    }
    const std::string name(line.substr(0, a));
    Line l{std::string(line.substr(b, c - b)), std::string(absl::StripAsciiWhitespace(line.substr(c)))};
    if (l.coredns != "accepts" && l.coredns != "refuses") {
      problems.push_back(absl::StrCat("EXPECTED:", n, ": CoreDNS column is accepts or refuses, not ", l.coredns));
    }
    if (!out.emplace(name, l).second) problems.push_back(absl::StrCat("EXPECTED:", n, ": ", name, " listed twice"));
  }
  return out;
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    if (e.path().extension() == ".Corefile") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ManifestLine(const std::string& name, const std::string& coredns, const std::string& meshdns) {
  std::string out = name;
  out.resize(std::max<size_t>(out.size() + 1, 50), ' ');
  out += coredns;
  out.resize(std::max<size_t>(out.size() + 1, 59), ' ');
  return out + meshdns;
}

TEST(CorefileRealCorpusTest, ManifestAndFilesMatchBothWays) {
  std::vector<std::string> problems;
  const std::map<std::string, Line> manifest = ReadManifest(problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  const std::vector<std::string> files = CorpusFiles();
  EXPECT_GE(files.size(), 60u);

  const bool print = std::getenv("MESHDNS_PRINT_CORPUS") && std::string(std::getenv("MESHDNS_PRINT_CORPUS")) == "1";
  std::string printed;
  for (const std::string& name : files) {
    const std::string got = Verdict(kCorpus / name);
    const auto it = manifest.find(name);
    const std::string coredns = it == manifest.end() ? "UNJUDGED" : it->second.coredns;
    printed += ManifestLine(name, coredns, got) + "\n";
    if (it == manifest.end()) {
      ADD_FAILURE() << name << " has no line in EXPECTED; meshdns today: " << got;
    } else if (it->second.meshdns != got) {
      ADD_FAILURE() << name << "\n  EXPECTED: " << it->second.meshdns << "\n  now:      " << got;
    }
  }
  for (const auto& [name, line] : manifest) {
    if (!std::binary_search(files.begin(), files.end(), name)) {
      ADD_FAILURE() << "EXPECTED lists " << name << ", which is not in " << kCorpus;
    }
  }
  // On stderr: gtest reports its failures on stdout, so the lines come out clean.
  if (print) std::cerr << printed;
}

// The manifest's meshdns column is only worth reading if the verdicts can
// tell files apart: a loading file, a refused one and one that loads only
// without out-of-scope directives each get their own kind of line.
TEST(CorefileRealCorpusTest, VerdictsTellTheKindsApart) {
  const std::string dir = ::testing::TempDir() + "/real-corpus-kinds";
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return fs::path(dir) / name;
  };
  EXPECT_EQ(Verdict(write("a", ". {\n  forward . 192.0.2.1\n}\n")), "loads");
  EXPECT_EQ(Verdict(write("b", ". {\n  kubernetes cluster.local\n  etcd\n  forward . 192.0.2.1\n}\n")),
            "loads-ignoring kubernetes,etcd");
  EXPECT_EQ(Verdict(write("c", ". {\n  kubernetes cluster.local\n  no_such_plugin\n  forward . 192.0.2.1\n}\n")),
            "refused 3:3: unknown directive no_such_plugin");
  EXPECT_EQ(Verdict(write("d", ". {\n  forward . 192.0.2.1 {\n    no_such_option\n  }\n}\n")).substr(0, 12),
            "refused 3:5:");
}

// The acceptance 3, over the corpus: `import` either gives a YAML
// that loads or refuses with the position of the reason, never a YAML that
// `check` would refuse.
TEST(CorefileRealCorpusTest, ImportGivesAYamlThatLoadsOrSaysWhereItCannot) {
  size_t imported = 0;
  for (const std::string& name : CorpusFiles()) {
    const CorefileResult read = ReadCorefileFile((kCorpus / name).string(), Options(false).read);
    if (!read.corefile) continue;  // a syntax error: check's verdict says so already
    const ImportResult r = ImportCorefile(*read.corefile, std::nullopt);
    if (!r.yaml.empty()) {
      ++imported;
      const LoadResult loaded = LoadConfigText(r.yaml, name + ".yaml");
      EXPECT_TRUE(loaded.config.has_value()) << name << ": the imported YAML does not load:\n" << r.yaml;
      continue;
    }
    ASSERT_FALSE(r.errors.empty()) << name << ": no YAML and no reason";
    for (const ConfigError& e : r.errors) {
      EXPECT_FALSE(e.message.empty()) << name;
      EXPECT_GT(e.line, 0) << name << ": " << e.message << " names no line";
    }
  }
  // None of the corpus follows the mesh pattern (peer blocks that strip a
  // cluster label): the stretch-cluster seeds in tests/config/corefiles/ do,
  // and integration_corefile_test serves their imports beside them.
  EXPECT_EQ(imported, 0u) << "a corpus file imports now: serve it beside its YAML in corefile_corpus_test";
}

}  // namespace
}  // namespace meshdns
