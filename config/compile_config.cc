// The compile stage: templates' regexes and answers compiled once, at load.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/config_source.h"
#include "re2/re2.h"

namespace meshdns {
namespace {

// Contract rule 2's default: H.C.SVC.NS.svc.S -> CNAME H.SVC.NS.C.svc.D.
TemplateConfig DefaultTemplate(const Config& c) {
  TemplateConfig t;
  const std::string label = "[a-zA-Z0-9-]+";
  t.match = absl::StrCat("^(?P<host>", label, ")\\.(?P<cluster>", label, ")\\.(?P<service>", label, ")\\.(?P<ns>",
                         label, ")\\.svc\\.", RE2::QuoteMeta(c.clusterset_domain.ToText()), "$");
  t.answer = {absl::StrCat("{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}."
                           "{{ .Group.cluster }}.svc.",
                           c.domain.ToText())};
  return t;
}

}  // namespace

void CompileConfig(ConfigSource& source, ConfigProblems& problems) {
  Config& c = source.config;
  if (!source.templates) {
    TemplateConfig t = DefaultTemplate(c);
    absl::StatusOr<std::shared_ptr<const Template>> compiled = Template::Compile(t.match, t.answer);
    if (!compiled.ok()) {
      return problems.Add(source.keys_end, source.root,
                          absl::StrCat("the default template: ", compiled.status().message()));
    }
    t.compiled = *std::move(compiled);
    c.templates.push_back(std::move(t));
    return;
  }
  for (TemplateSource& t : *source.templates) {
    if (t.match && t.answer) {
      absl::StatusOr<std::shared_ptr<const Template>> compiled = Template::Compile(t.config.match, t.config.answer);
      if (compiled.ok()) {
        t.config.compiled = *std::move(compiled);
      } else {
        // A regex RE2 refuses is the match's fault; anything else the answer's.
        const bool regex_problem = absl::StartsWith(compiled.status().message(), "bad regex");
        problems.Add(t.read_end, regex_problem ? *t.match : *t.answer, std::string(compiled.status().message()));
      }
    }
    c.templates.push_back(std::move(t.config));
  }
}

}  // namespace meshdns
