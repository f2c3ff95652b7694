// view NAME { expr EXPRESSION… }, read as CoreDNS's setup reads it
// (plugin/view/setup.go): one NAME, any number of `expr` lines (all must be
// true), nothing else. Each EXPRESSION is the line's words joined by one
// space, as Caddy hands them to expr-lang, and compiled here once; a problem
// is reported at the word it falls in.
#include "config/plugins/registry.h"
#include "dnscore/view_expr.h"

namespace meshdns {
namespace {

// Where offset `at` of the words joined by spaces was written.
SourcePos PositionOf(const std::vector<CorefileToken>& words, size_t at) {
  size_t start = 0;
  for (const CorefileToken& w : words) {
    const size_t end = start + w.text.size();
    if (at < end || &w == &words.back()) {
      SourcePos pos = w.pos;
      // In a "quoted" word the column is off by the quote: close enough.
      pos.column += static_cast<int>(std::min(at >= start ? at - start : 0, w.text.size()));
      return pos;
    }
    start = end + 1;
  }
  return words.front().pos;
}

}  // namespace

void PlanView(const CorefileDirective& d, PlanContext& context, ServerPlan& plan) {
  if (d.args.size() != 1) {
    context.Error(d.name.pos, "view takes exactly one NAME");
    return;
  }
  ViewPlan view{.name = d.args[0].text, .pos = d.name.pos};
  bool ok = true;
  for (const CorefileDirective& line : d.block) {
    if (line.name.text != "expr") {
      context.Error(line.name.pos, absl::StrCat("view: unknown property '", line.name.text, "'"));
      ok = false;
      continue;
    }
    if (line.args.empty()) {
      context.Error(line.name.pos, "view: expr needs an EXPRESSION");
      ok = false;
      continue;
    }
    std::string text;
    for (const CorefileToken& w : line.args) absl::StrAppend(&text, text.empty() ? "" : " ", w.text);
    ViewExpression::Error error;
    std::optional<ViewExpression> compiled = ViewExpression::Compile(text, error);
    if (!compiled) {
      context.Error(PositionOf(line.args, error.offset), absl::StrCat("view: expr: ", error.reason));
      ok = false;
      continue;
    }
    view.exprs.push_back(*std::move(compiled));
  }
  if (ok) plan.view = std::move(view);
}

}  // namespace meshdns
