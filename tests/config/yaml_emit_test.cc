// The YAML printer of `meshdns manifests`: strings read back as strings,
// numbers as numbers, multi-line text unchanged.
#include "config/yaml_emit.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace meshdns {
namespace {

YAML::Node RoundTrip(const YAML::Node& n) {
  std::vector<YAML::Node> docs = YAML::LoadAll(EmitDocuments({n}));
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? YAML::Node() : docs[0];
}

TEST(YamlEmitTest, StringsThatLookLikeOtherTypesAreQuoted) {
  YAML::Node n;
  for (const char* s : {"1", "0x1F", "1e3", "-1.5", "true", "no", "On", "null", "~", "", "1:30", ".inf", "10.96.0.53"}) {
    n[s] = Str(s);
  }
  n["port"] = 53;
  n["flag"] = true;
  n["plain"] = Str("100m");
  const std::string text = EmitDocuments({n});
  EXPECT_TRUE(absl::StrContains(text, "\"1\": \"1\"\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "port: 53\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "flag: true\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "plain: 100m\n")) << "quoted only where needed: " << text;
  const YAML::Node back = YAML::Load(text);
  for (const char* s : {"1", "0x1F", "1e3", "-1.5", "true", "no", "On", "null", "~", "", "1:30", ".inf", "10.96.0.53"}) {
    // A quoted scalar parses with the non-specific tag "!": a string.
    EXPECT_EQ(back[s].Tag(), "!") << s << " in " << text;
    EXPECT_EQ(back[s].Scalar(), s);
  }
}

TEST(YamlEmitTest, MultiLineTextIsALiteralBlockAndReadsBackUnchanged) {
  YAML::Node n;
  n["data"]["mesh.yaml"] = Str("# comment\ncluster: c1\nlisten: [\"0.0.0.0:53\"]\n");
  n["data"]["indented"] = Str("  starts with spaces\nsecond\n");
  const std::string text = EmitDocuments({n});
  EXPECT_TRUE(absl::StrContains(text, "mesh.yaml: |\n    # comment\n")) << text;
  const YAML::Node back = RoundTrip(n);
  EXPECT_EQ(back["data"]["mesh.yaml"].Scalar(), "# comment\ncluster: c1\nlisten: [\"0.0.0.0:53\"]\n");
  EXPECT_EQ(back["data"]["indented"].Scalar(), "  starts with spaces\nsecond\n");
}

TEST(YamlEmitTest, EmptyCollectionsAndDocuments) {
  YAML::Node a;
  a["map"] = YAML::Node(YAML::NodeType::Map);
  a["list"] = YAML::Node(YAML::NodeType::Sequence);
  YAML::Node b;
  b["kind"] = Str("Service");
  const std::string text = EmitDocuments({a, b});
  EXPECT_EQ(text, "---\nmap: {}\nlist: []\n---\nkind: Service\n");
}

}  // namespace
}  // namespace meshdns
