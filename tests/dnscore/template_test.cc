#include "dnscore/template.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meshdns {
namespace {

// The template of the contract's section 3, as an operator writes it.
constexpr absl::string_view kContractMatch =
    R"((?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<service>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$)";
const std::vector<std::string> kContractAnswer = {
    "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"};

std::shared_ptr<const Template> Compile(absl::string_view regex, const std::vector<std::string>& answers) {
  absl::StatusOr<std::shared_ptr<const Template>> t = Template::Compile(regex, answers);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : nullptr;
}

const TemplateData kData{.name = "web.cluster2.nginx.default.svc.clusterset.local.",
                         .zone = "clusterset.local.",
                         .qclass = "IN",
                         .qtype = "AAAA"};

TEST(TemplateTest, CompileRejectsWhatItCannotRender) {
  const struct {
    std::string regex;
    std::string answer;
    std::string message_part;
  } cases[] = {
      {"(unclosed", "{{ .Name }} 60 IN A 1.2.3.4", "bad regex"},
      {"(?P<host>[a-z]+)", "{{ .Foo }} 60 IN A 1.2.3.4", "unsupported"},
      {"(?P<host>[a-z]+)", "{{ .Name }} 60 IN CNAME {{ .Group.nope }}.example.", "nope"},
      {"(?P<host>[a-z]+)", "{{ index .Match 2 }} 60 IN A 1.2.3.4", "group 2"},
      {"(?P<host>[a-z]+)", "{{ index .Match x }} 60 IN A 1.2.3.4", "bad index"},
      {"(?P<host>[a-z]+)", "{{ .Name 60 IN A 1.2.3.4", "unclosed"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::shared_ptr<const Template>> t = Template::Compile(c.regex, {c.answer});
    ASSERT_FALSE(t.ok()) << c.regex << " / " << c.answer;
    EXPECT_NE(t.status().message().find(c.message_part), absl::string_view::npos) << t.status();
  }
}

TEST(TemplateTest, MatchFindsTheGroupsInALowerCasedFqdn) {
  auto t = Compile(kContractMatch, kContractAnswer);
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match("web.cluster2.nginx.default.svc.clusterset.local.", m));
  ASSERT_EQ(m.groups.size(), 5u);
  EXPECT_EQ(m.groups[0], "web.cluster2.nginx.default.svc.clusterset.local.");
  EXPECT_EQ(m.groups[1], "web");
  EXPECT_EQ(m.groups[2], "cluster2");
  EXPECT_EQ(*t->Group(m, "host"), "web");
  EXPECT_EQ(*t->Group(m, "cluster"), "cluster2");
  EXPECT_EQ(*t->Group(m, "service"), "nginx");
  EXPECT_EQ(*t->Group(m, "ns"), "default");
  EXPECT_FALSE(t->Group(m, "nope").has_value());

  EXPECT_FALSE(t->Match("nginx.default.svc.clusterset.local.", m)) << "too few labels";
  EXPECT_FALSE(t->Match("web.cluster2.nginx.default.svc.cluster.local.", m)) << "other zone";
  EXPECT_FALSE(t->Match("web.cluster2.nginx.default.svc.clusterset.local", m)) << "not an FQDN: '$' wants the dot";
}

TEST(TemplateTest, RendersTheContractsDefaultTemplate) {
  auto t = Compile(kContractMatch, kContractAnswer);
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match(kData.name, m));
  EXPECT_EQ(*t->RenderText(m, kData), std::vector<std::string>{
      "web.cluster2.nginx.default.svc.clusterset.local. 60 IN CNAME web.nginx.default.cluster2.svc.cluster.local"});

  absl::StatusOr<std::vector<RrPtr>> records = t->Render(m, kData);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  const ldns_rr* rr = (*records)[0].get();
  EXPECT_EQ(ldns_rr_get_type(rr), LDNS_RR_TYPE_CNAME);
  EXPECT_EQ(ldns_rr_ttl(rr), 60u);
  DnsName target;
  ASSERT_TRUE(RdfToName(ldns_rr_rdf(rr, 0), target));
  EXPECT_EQ(target.ToText(), "web.nginx.default.cluster2.svc.cluster.local.");  // taken as absolute
}

TEST(TemplateTest, RendersIndexMatchAndTheQuestionFields) {
  auto t = Compile(R"(^([a-z]+)\.(?P<rest>.*)$)", {
      "{{ index .Match 1 }}|{{index .Match 0}}|{{ index .Group \"rest\" }}",
      "{{ .Zone }} {{ .Class }} {{ .Type }}",
      "{{- .Name -}}!",
      "no actions at all",
  });
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match(kData.name, m));
  EXPECT_EQ(*t->RenderText(m, kData), (std::vector<std::string>{
      "web|web.cluster2.nginx.default.svc.clusterset.local.|cluster2.nginx.default.svc.clusterset.local.",
      "clusterset.local. IN AAAA",
      "web.cluster2.nginx.default.svc.clusterset.local.!",
      "no actions at all",
  }));
}

TEST(TemplateTest, RenderFailsOnTextThatIsNotARecord) {
  auto t = Compile("(?P<host>[a-z]+)", {"{{ .Name }} 60 IN A not-an-address"});
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match("web.", m));
  EXPECT_FALSE(t->Render(m, kData).ok());
}

// CoreDNS's README example "Resolve hexadecimal ip pattern using parseInt"
// (plugin/template/README.md, v1.14.7), and template_test.go's
// exampleDomainAParseIntTemplate case: ip0a5f0c09.example. → 10.95.12.9.
TEST(TemplateTest, ParseIntReadsHexGroupsAsGoDoes) {
  auto t = Compile("^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$",
                   {"{{ .Name }} 60 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}."
                    "{{ parseInt .Group.d 16 8 }}"});
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match("ip0a5f0c09.example.", m));
  EXPECT_EQ(*t->RenderText(m, kData), std::vector<std::string>{
      "web.cluster2.nginx.default.svc.clusterset.local. 60 IN A 10.95.12.9"});
  ASSERT_TRUE(t->Render(m, kData).ok());
}

TEST(TemplateTest, ParseIntFollowsStrconvParseUint) {
  const struct {
    std::string action;
    std::string out;  // empty: the answer fails
    std::string error_part;
  } cases[] = {
      {R"({{ parseInt "ff" 16 8 }})", "255", ""},
      {R"({{ parseInt "100" 16 8 }})", "", "value out of range"},
      {R"({{ parseInt "gg" 16 8 }})", "", "strconv.ParseUint: parsing \"gg\": invalid syntax"},  // brokenParseIntTemplate
      {R"({{ parseInt "0x1f" 0 64 }})", "31", ""},
      {R"({{ parseInt "017" 0 0 }})", "15", ""},
      {R"({{ parseInt "0b101" 0 8 }})", "5", ""},
      {R"({{ parseInt "0" 0 8 }})", "0", ""},
      {R"({{ parseInt "1_000" 0 32 }})", "1000", ""},
      {R"({{ parseInt "1__0" 0 32 }})", "", "invalid syntax"},
      {R"({{ parseInt "1_0" 10 32 }})", "", "invalid syntax"},
      {R"({{ parseInt "18446744073709551615" 10 0 }})", "18446744073709551615", ""},
      {R"({{ parseInt "18446744073709551616" 10 64 }})", "", "value out of range"},
      {R"({{ parseInt "z" 36 8 }})", "35", ""},
      {R"({{ parseInt "1" 37 8 }})", "", "invalid base 37"},
      {R"({{ parseInt "1" 10 65 }})", "", "invalid bit size 65"},
      {R"({{ parseInt "" 10 8 }})", "", "invalid syntax"},
      {R"({{ parseInt "-1" 10 8 }})", "", "invalid syntax"},
      {R"({{ parseInt (index .Match 1) 10 16 }})", "42", ""},
      {R"({{ parseInt .Group.n 8 16 }})", "34", ""},
      // setup_test.go TestSetupParse #13 loads `{{ parseInt }}`; Go fails it when it runs.
      {R"({{ parseInt }})", "", "wrong number of args for parseInt: want 3 got 0"},
      {R"({{ parseInt .Group.n 16 }})", "", "want 3 got 2"},
      {R"({{ parseInt (index .Match 1) 16 8 1 }})", "", "want 3 got 4"},
  };
  for (const auto& c : cases) {
    auto t = Compile(R"(^(?P<n>[0-9]+)\.)", {c.action});
    ASSERT_NE(t, nullptr) << c.action;
    TemplateMatch m;
    ASSERT_TRUE(t->Match("42.example.", m));
    absl::StatusOr<std::vector<std::string>> text = t->RenderText(m, kData);
    if (c.out.empty()) {
      ASSERT_FALSE(text.ok()) << c.action << " gave " << (*text)[0];
      EXPECT_NE(text.status().message().find(c.error_part), absl::string_view::npos) << text.status();
      EXPECT_FALSE(t->Render(m, kData).ok());
    } else {
      ASSERT_TRUE(text.ok()) << c.action << ": " << text.status();
      EXPECT_EQ((*text)[0], c.out) << c.action;
    }
  }
}

// .Meta is empty without CoreDNS's metadata plugin (template.go Meta), which
// meshdns does not have; .Regex is the regex that matched; a string constant
// prints itself.
TEST(TemplateTest, RendersMetaRegexAndStringConstants) {
  auto t = Compile(R"(^(?P<b>[a-z]+)\.)", {
      R"({{ .Meta "foo" }}-{{ .Name }})",
      R"({{ .Regex }}|{{ "a \"quoted\" word" }}|{{ `raw` }})",
  });
  ASSERT_NE(t, nullptr);
  TemplateMatch m;
  ASSERT_TRUE(t->Match("web.", m));
  EXPECT_EQ(*t->RenderText(m, kData), (std::vector<std::string>{
      "-web.cluster2.nginx.default.svc.clusterset.local.",
      R"(^(?P<b>[a-z]+)\.|a "quoted" word|raw)",
  }));
}

TEST(TemplateTest, CompileRejectsFunctionsItCannotRun) {
  const struct {
    std::string answer;
    std::string message_part;
  } cases[] = {
      {"{{ .Remote }} 60 IN A 1.2.3.4", ".Remote"},
      {"{{ printf \"%s\" .Name }} 60 IN A 1.2.3.4", "unsupported"},
      {"{{ parseInt .Group.b sixteen 8 }} 60 IN A 1.2.3.4", "parseInt takes"},
      {"{{ parseInt .Group.nope 16 8 }} 60 IN A 1.2.3.4", "nope"},
      {"{{ parseInt (.Group.b 16 8 }} 60 IN A 1.2.3.4", "not closed"},
      {"{{ .Meta foo }} 60 IN A 1.2.3.4", ".Meta takes"},
      {"{{ .Name .Zone }} 60 IN A 1.2.3.4", "unsupported"},
      {"{{ \"open }} 60 IN A 1.2.3.4", "unterminated"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::shared_ptr<const Template>> t = Template::Compile("(?P<b>[a-z]+)", {c.answer});
    ASSERT_FALSE(t.ok()) << c.answer;
    EXPECT_NE(t.status().message().find(c.message_part), absl::string_view::npos) << t.status();
  }
}

}  // namespace
}  // namespace meshdns
