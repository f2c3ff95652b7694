// The Corefile corpus (tests/config/corefiles/): the shapes operators bring
// (the stretch-cluster seed of each of three clusters, CoreDNS's Kubernetes
// default, several keys per block, snippets and imported files, environment
// placeholders) must read, pass the directive check and plan without a
// single error; each file under broken/ names in its first line the first
// error it must produce, as `# expect: LINE:COL: message`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "config/corefile.h"
#include "config/corefile_listen.h"
#include "config/corefile_import.h"
#include "config/corefile_plugins.h"

namespace meshdns {
namespace {

namespace fs = std::filesystem;
const fs::path kCorpus = MESHDNS_COREFILE_CORPUS;

std::optional<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads from the corpus, with the machine's resolv.conf swapped for one of
// the test's own (a build machine's may list no nameserver at all).
CorefileReadOptions Options() {
  static const std::string resolv = [] {
    const std::string path = ::testing::TempDir() + "/corpus-resolv.conf";
    std::ofstream(path) << "nameserver 192.0.2.53\n";
    return path;
  }();
  CorefileReadOptions o;
  o.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "PEER_RESOLVER") return "192.0.2.3:30053";
    if (name == "UPSTREAM") return "192.0.2.53";
    return std::nullopt;
  };
  o.read_file = [](const std::string& path) -> std::optional<std::string> {
    if (!fs::is_regular_file(path)) return std::nullopt;
    std::optional<std::string> text = Slurp(path);
    if (text) *text = absl::StrReplaceAll(*text, {{"/etc/resolv.conf", resolv}});
    return text;
  };
  return o;
}

// Every error of every stage, in the order `meshdns check --corefile` reports them.
std::vector<ConfigError> Check(const fs::path& file, bool ignore_unsupported, std::optional<Corefile>* out = nullptr) {
  CorefileResult r = ReadCorefileFile(file.string(), Options());
  std::vector<ConfigError> errors = r.errors;
  if (!r.corefile) return errors;
  DirectiveCheck d = CheckCorefileDirectives(*r.corefile, ignore_unsupported);
  errors.insert(errors.end(), d.errors.begin(), d.errors.end());
  CorefilePlan p = PlanCorefile(*r.corefile);
  errors.insert(errors.end(), p.errors.begin(), p.errors.end());
  // Where it listens: a zone defined twice on one address is found there.
  ListenPlan listen = PlanListeners(p, MachineInterfaces());
  errors.insert(errors.end(), listen.errors.begin(), listen.errors.end());
  if (out) *out = std::move(r.corefile);
  return errors;
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".Corefile") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CorefileCorpusTest, EveryRealWorldShapeReadsChecksAndPlans) {
  const std::vector<fs::path> files = Files(kCorpus);
  ASSERT_GE(files.size(), 7u);
  for (const fs::path& f : files) {
    std::optional<Corefile> corefile;
    for (const ConfigError& e : Check(f, /*ignore_unsupported=*/true, &corefile)) ADD_FAILURE() << e.ToString();
    EXPECT_TRUE(corefile.has_value()) << f;
  }
}

TEST(CorefileCorpusTest, EachSeedImportsIntoAMeshFile) {
  for (int n = 1; n <= 3; ++n) {
    const fs::path f = kCorpus / ("seed-cluster" + std::to_string(n) + ".Corefile");
    std::optional<Corefile> corefile;
    ASSERT_TRUE(Check(f, true, &corefile).empty()) << f;
    const ImportResult imported = ImportCorefile(*corefile, std::nullopt);
    for (const ConfigError& e : imported.errors) ADD_FAILURE() << f << ": " << e.ToString();
    const LoadResult loaded = LoadConfigText(imported.yaml, "imported.yaml");
    ASSERT_TRUE(loaded.config) << imported.yaml;
    EXPECT_EQ(loaded.config->cluster, "cluster" + std::to_string(n)) << imported.yaml;
    for (const ConfigError& w : imported.warnings) {
      // The own cluster's rewrite in the root block is what meshdns does anyway.
      EXPECT_FALSE(absl::StrContains(w.message, "rewrite")) << f << ": " << w.ToString();
    }
  }
}

TEST(CorefileCorpusTest, EachBrokenFileFailsWhereItSays) {
  const std::vector<fs::path> files = Files(kCorpus / "broken");
  ASSERT_GE(files.size(), 15u);
  for (const fs::path& f : files) {
    const std::string text = *Slurp(f.string());
    absl::string_view first_line = absl::string_view(text).substr(0, text.find('\n'));
    ASSERT_TRUE(absl::ConsumePrefix(&first_line, "# expect: ")) << f << " has no expectation";
    const std::vector<ConfigError> errors = Check(f, /*ignore_unsupported=*/false);
    ASSERT_FALSE(errors.empty()) << f;
    const ConfigError& e = errors.front();
    EXPECT_EQ(e.file, f.string());
    const std::string got = std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
    EXPECT_TRUE(absl::StartsWith(got, first_line)) << f << "\n  got:  " << got << "\n  want: " << first_line;
  }
}

}  // namespace
}  // namespace meshdns
