#include "dnscore/rewrite.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "dnscore/wire.h"

namespace meshdns {
namespace {

using Groups = absl::InlinedVector<absl::string_view, 8>;

// Go's FindStringSubmatch: unanchored, [0] the whole match, [i] group i.
bool Find(const re2::RE2& re, absl::string_view text, Groups& groups) {
  const int n = re.NumberOfCapturingGroups() + 1;
  absl::InlinedVector<re2::StringPiece, 8> found(n);
  if (!re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), re2::RE2::UNANCHORED, found.data(), n)) {
    return false;
  }
  groups.clear();
  for (const re2::StringPiece& g : found) groups.push_back(absl::string_view(g.data() ? g.data() : "", g.size()));
  return true;
}

// `to` with every {n} replaced by group n.
std::string Substitute(absl::string_view to, const Groups& groups) {
  std::string out;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == '{') {
      const size_t close = to.find('}', i);
      size_t n = 0;
      if (close != absl::string_view::npos && absl::SimpleAtoi(to.substr(i + 1, close - i - 1), &n) &&
          n < groups.size()) {
        out.append(groups[n].data(), groups[n].size());
        i = close;
        continue;
      }
    }
    out.push_back(to[i]);
  }
  return out;
}

std::string Fqdn(std::string s) {
  absl::AsciiStrToLower(&s);
  if (s.empty() || s.back() != '.') s.push_back('.');
  return s;
}

}  // namespace

std::optional<std::string> RewriteText(const RewriteRule& rule, const std::string& name) {
  const std::string& from = rule.from;
  switch (rule.match) {
    case RewriteRule::Match::kExact:
      if (name == from) return rule.to;
      return std::nullopt;
    case RewriteRule::Match::kPrefix:
      if (absl::StartsWith(name, from)) return absl::StrCat(rule.to, name.substr(from.size()));
      return std::nullopt;
    case RewriteRule::Match::kSuffix:
      if (absl::EndsWith(name, from)) return absl::StrCat(name.substr(0, name.size() - from.size()), rule.to);
      return std::nullopt;
    case RewriteRule::Match::kSubstring:
      if (absl::StrContains(name, from)) return absl::StrReplaceAll(name, {{from, rule.to}});
      return std::nullopt;
    case RewriteRule::Match::kRegex: {
      Groups groups;
      if (!Find(*rule.regex, name, groups)) return std::nullopt;
      return Fqdn(Substitute(rule.to, groups));
    }
  }
  return std::nullopt;
}

namespace {

// `text` ends with `suffix` where a label begins.
bool EndsWithLabels(absl::string_view text, absl::string_view suffix) {
  if (!absl::EndsWith(text, suffix)) return false;
  return text.size() == suffix.size() || suffix.front() == '.' || text[text.size() - suffix.size() - 1] == '.';
}

// The response side of one step: the name `text` maps back to, if it does.
std::optional<std::string> MapBack(const RewriteOutcome::Step& step, bool value, const std::string& text) {
  const RewriteRule& rule = *step.rule;
  for (const RewriteRule::AnswerRule& a : rule.answers) {
    if (a.value != value) continue;
    Groups groups;
    if (Find(*a.from, text, groups)) return Fqdn(Substitute(a.to, groups));
  }
  if (!rule.answer_auto) return std::nullopt;
  // CoreDNS's mapping for every match type: the rewritten name, and names
  // below it, go back to the client's.
  if (step.after != "." && EndsWithLabels(text, step.after)) {
    return absl::StrCat(text.substr(0, text.size() - step.after.size()), step.before);
  }
  // A new ending maps back wherever it appears (contract rule 1; CoreDNS
  // does this for suffix rules only, matching the plain string).
  if (rule.match == RewriteRule::Match::kSuffix && absl::EndsWith(text, rule.to)) {
    return absl::StrCat(text.substr(0, text.size() - rule.to.size()), rule.from);
  }
  if (rule.match == RewriteRule::Match::kSubstring && absl::EndsWith(step.before, rule.from) &&
      absl::EndsWith(step.after, rule.to) && rule.to != "." && EndsWithLabels(text, rule.to)) {
    return absl::StrCat(text.substr(0, text.size() - rule.to.size()), rule.from);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<RewriteOutcome> Rewriter::Apply(const DnsName& qname, uint16_t qtype, uint16_t qclass,
                                               const EdnsRequest* request,
                                               std::span<const uint8_t> client_options) const {
  RewriteOutcome out;
  out.name = qname;
  out.qtype = qtype;
  out.qclass = qclass;
  if (rules_.empty()) return out;
  std::string name = Fqdn(qname.ToText());
  std::optional<EdnsOptions> options;  // the client's, read when an edns0 rule is first reached
  EdnsRequest edns;
  for (const RewriteRule& rule : rules_) {
    switch (rule.field) {
      case RewriteRule::Field::kEdns0: {
        if (!options) {
          options.emplace();
          // Options miekg/dns could not read would have failed the query in
          // CoreDNS; here they are left out.
          (void)ParseEdnsOptions(client_options, *options);
          if (request != nullptr) edns = *request;
        }
        // The question as the rules before this one left it (the client's
        // case until a name rule matched).
        edns.qname = out.steps.empty() ? qname.ToText() : name;
        edns.qtype = out.qtype;
        if (!rule.edns0.Apply(edns, *options)) continue;
        break;
      }
      case RewriteRule::Field::kType:
        if (out.qtype != rule.code_from) continue;
        out.qtype = rule.code_to;
        break;
      case RewriteRule::Field::kClass:
        if (out.qclass != rule.code_from) continue;
        out.qclass = rule.code_to;
        break;
      case RewriteRule::Field::kCname:
        // CoreDNS ignores a rule with an empty FROM or TO (only a quoted ""
        // can give one): neither matched nor stopping.
        if (rule.from.empty() || rule.to.empty()) continue;
        out.cnames.push_back(&rule);
        break;
      case RewriteRule::Field::kTtl:
      case RewriteRule::Field::kRcode:
      case RewriteRule::Field::kName: {
        std::optional<std::string> next = RewriteText(rule, name);
        if (!next) continue;
        if (rule.field == RewriteRule::Field::kTtl) {
          out.ttl = TtlClamp{rule.ttl_min, rule.ttl_max};
        } else if (rule.field == RewriteRule::Field::kRcode) {
          out.rcodes.push_back(&rule);
        } else {
          out.steps.push_back(RewriteOutcome::Step{&rule, name, *next});
          name = *std::move(next);
        }
        break;
      }
    }
    if (rule.stop) break;
  }
  if (options) {
    out.edns_options.emplace();
    EncodeEdnsOptions(*options, *out.edns_options);
  }
  if (!out.steps.empty()) {
    absl::StatusOr<DnsName> rewritten = DnsName::FromText(name);
    if (!rewritten.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("rewrite made '", name, "', which is not a domain name"));
    }
    out.name = *std::move(rewritten);
  }
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Rewriter::Revert(const RewriteOutcome& outcome, std::span<const uint8_t> reply,
                                                      const DnsName& client_qname, RenameScratch& scratch) {
  // Several rules map back in reverse order, each seeing the previous one's result.
  auto map_back = [&outcome](bool value, const DnsName& in, DnsName& out) {
    if (outcome.steps.empty()) return false;
    std::string text = Fqdn(in.ToText());
    bool changed = false;
    for (auto step = outcome.steps.rbegin(); step != outcome.steps.rend(); ++step) {
      if (std::optional<std::string> back = MapBack(*step, value, text)) {
        text = *std::move(back);
        changed = true;
      }
    }
    if (!changed) return false;
    absl::StatusOr<DnsName> name = DnsName::FromText(text);
    if (!name.ok()) return false;  // the name stays as the chain gave it
    out = *std::move(name);
    return true;
  };
  auto owner = [&](const DnsName& in, DnsName& out) { return map_back(false, in, out); };
  auto value = [&](const DnsName& in, DnsName& out) { return map_back(true, in, out); };
  absl::StatusOr<std::vector<uint8_t>> out = RenameReply(reply, client_qname, owner, value, outcome.ttl, scratch);
  if (out.ok() && !outcome.rcodes.empty()) {
    const std::optional<Header> h = Header::Read(reply);
    if (!h) return absl::InvalidArgumentError("rewrite: the reply has no header");
    const size_t records = size_t{h->ancount} + h->nscount + h->arcount;  // OPT included, as CoreDNS counts
    (*out)[3] = static_cast<uint8_t>(((*out)[3] & 0xf0) | outcome.Rcode(h->rcode(), records));
  }
  return out;
}

uint8_t RewriteOutcome::Rcode(uint8_t rcode, size_t records) const {
  // A pass that changes nothing ends the passes: the next would not either.
  for (size_t pass = 0; pass < std::max<size_t>(records, 1); ++pass) {
    const uint8_t before = rcode;
    for (auto rule = rcodes.rbegin(); rule != rcodes.rend(); ++rule) {
      if (rcode == (*rule)->code_from) rcode = static_cast<uint8_t>((*rule)->code_to);
    }
    if (rcode == before) break;
  }
  return rcode;
}

std::optional<std::vector<uint8_t>> Rewriter::FailureReply(const RewriteOutcome& outcome, const DnsName& client_qname,
                                                           uint16_t qtype, uint16_t qclass, bool recursion_desired,
                                                           bool checking_disabled, uint8_t rcode) {
  if (outcome.rcodes.empty()) return std::nullopt;
  // CoreDNS adds an OPT for a client that sent one: one record, one pass,
  // the same as none.
  const uint8_t rewritten = outcome.Rcode(rcode, 0);
  if (rewritten == rcode) return std::nullopt;
  Header h;
  h.flags = static_cast<uint16_t>(kFlagQR | (recursion_desired ? kFlagRD : 0) | (checking_disabled ? kFlagCD : 0) |
                                  rewritten);
  h.qdcount = 1;
  std::vector<uint8_t> wire(kHeaderSize + client_qname.WireSize() + 4);
  h.Write(wire.data());
  std::memcpy(&wire[kHeaderSize], client_qname.Wire().data(), client_qname.WireSize());
  WriteU16(&wire[kHeaderSize + client_qname.WireSize()], qtype);
  WriteU16(&wire[kHeaderSize + client_qname.WireSize() + 2], qclass);
  return wire;
}

}  // namespace meshdns
