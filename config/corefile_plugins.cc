#include "config/corefile_plugins.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <span>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "dnscore/template.h"
#include "re2/re2.h"

namespace meshdns {
namespace {

using Tokens = std::span<const CorefileToken>;

// CoreDNS refuses longer patterns (template and rewrite alike).
constexpr size_t kMaxRegexSize = 10000;
// CoreDNS's limit on upstreams per forward, after expansion.
constexpr size_t kMaxUpstreams = 15;

// CoreDNS's plugin.Name(x).Normalize(): lower case, fully qualified.
std::string Normalize(absl::string_view name) {
  std::string s = absl::AsciiStrToLower(name);
  if (s.empty() || s.back() != '.') s.push_back('.');
  return s;
}

// A bare IPv4 or IPv6 address (no port, no brackets).
bool IsIp(const std::string& text) {
  absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text);
  return a.ok() && text.find('[') == std::string::npos && (a->v6 || text.find(':') == std::string::npos);
}

// The highest {n} a rewrite target refers to, or -1.
int HighestGroupReference(absl::string_view to) {
  int highest = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] != '{') continue;
    const size_t close = to.find('}', i);
    if (close == absl::string_view::npos) break;
    int n = 0;
    if (absl::SimpleAtoi(to.substr(i + 1, close - i - 1), &n)) highest = std::max(highest, n);
    i = close;
  }
  return highest;
}

class Planner {
 public:
  explicit Planner(std::vector<ConfigError>& errors) : errors_(errors) {}

  ServerPlan Plan(const CorefileServerBlock& block) {
    ServerPlan plan;
    plan.keys = block.keys;
    for (const CorefileKey& k : block.keys) block_zones_.push_back(k.zone);
    for (const CorefileDirective& d : block.directives) Directive(d, plan);
    return plan;
  }

 private:
  void Error(const SourcePos& pos, std::string message) {
    errors_.push_back(ConfigError{pos.file, pos.line, pos.column, std::move(message)});
  }
  void NoBlock(const CorefileDirective& d) {
    if (d.has_block) Error(d.name.pos, absl::StrCat(d.name.text, " takes no { } block"));
  }
  void MaxArgs(const CorefileDirective& d, size_t n) {
    if (d.args.size() > n) Error(d.args[n].pos, absl::StrCat(d.name.text, ": unexpected argument ", d.args[n].text));
  }
  // Plugins CoreDNS allows once per server block.
  bool Once(const CorefileDirective& d, bool seen) {
    if (seen) Error(d.name.pos, absl::StrCat(d.name.text, " can only be used once per server block"));
    return !seen;
  }

  std::optional<DnsName> Zone(const CorefileToken& t) {
    absl::StatusOr<DnsName> name = DnsName::FromText(t.text);
    if (!name.ok()) {
      Error(t.pos, absl::StrCat("'", t.text, "' is not a domain name"));
      return std::nullopt;
    }
    return name->Lowered();
  }
  std::vector<DnsName> Zones(Tokens tokens) {
    std::vector<DnsName> out;
    for (const CorefileToken& t : tokens) {
      if (std::optional<DnsName> z = Zone(t)) out.push_back(*z);
    }
    return out;
  }
  template <typename T>
  bool Number(const CorefileToken& t, absl::string_view what, T& out, uint64_t min = 0,
              uint64_t max = std::numeric_limits<T>::max()) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(t.text, &v) || v < min || v > max) {
      Error(t.pos, absl::StrCat(what, ": '", t.text, "' is not a whole number from ", min, " to ", max));
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }
  bool Duration(const CorefileToken& t, absl::string_view what, Millis& out) {
    absl::StatusOr<Millis> d = ParseDuration(t.text);
    if (!d.ok()) {
      Error(t.pos, absl::StrCat(what, ": '", t.text, "' is not a duration (like 500ms, 10s, 1m)"));
      return false;
    }
    out = *d;
    return true;
  }
  std::shared_ptr<const re2::RE2> Regex(const CorefileToken& t) {
    if (t.text.size() > kMaxRegexSize) {
      Error(t.pos, absl::StrCat("regex longer than ", kMaxRegexSize, " characters"));
      return nullptr;
    }
    auto re = std::make_shared<const re2::RE2>(t.text, re2::RE2::Quiet);
    if (!re->ok()) {
      Error(t.pos, absl::StrCat("bad regex '", t.text, "': ", re->error()));
      return nullptr;
    }
    return re;
  }

  void Directive(const CorefileDirective& d, ServerPlan& plan) {
    const std::string& n = d.name.text;
    if (n == "rewrite") return Rewrite(d, plan);
    if (n == "template") return Template(d, plan);
    if (n == "forward") return Forward(d, plan);
    if (n == "cache") {
      if (Once(d, plan.cache.has_value())) plan.cache = Cache(d);
      return;
    }
    if (n == "hosts") {
      if (Once(d, plan.hosts.has_value())) plan.hosts = Hosts(d);
      return;
    }
    if (n == "health" || n == "ready" || n == "prometheus") return SideService(d, plan);
    if (n == "reload") return Reload(d, plan);
    if (n == "errors") {
      MaxArgs(d, 1);  // errors [FILE] { consolidate … }: where CoreDNS logs; meshdns logs to stderr
      plan.errors = true;
      return;
    }
    if (n == "log") {
      plan.log = true;  // log [NAMES…] [FORMAT] { class … }: meshdns logs every query in CoreDNS's format
      return;
    }
    if (n == "loop") {
      NoBlock(d);
      MaxArgs(d, 0);
      plan.loop = true;
      return;
    }
    if (n == "loadbalance") {
      NoBlock(d);
      MaxArgs(d, 1);
      if (!d.args.empty() && d.args[0].text != "round_robin") {
        Error(d.args[0].pos, absl::StrCat("loadbalance: only round_robin is supported, not ", d.args[0].text));
      }
      plan.loadbalance = true;
    }
    // Other names are CheckCorefileDirectives's to report.
  }

  // --- rewrite -------------------------------------------------------------

  void Rewrite(const CorefileDirective& d, ServerPlan& plan) {
    // CoreDNS: with fewer than two arguments on the line, the block's tokens
    // are read as the rest of ONE rule.
    std::vector<CorefileToken> tokens(d.args.begin(), d.args.end());
    if (d.args.size() < 2 && d.has_block) {
      for (const CorefileDirective& line : d.block) {
        tokens.push_back(line.name);
        tokens.insert(tokens.end(), line.args.begin(), line.args.end());
      }
    } else if (d.has_block) {
      Error(d.name.pos, "rewrite: a rule is given either on its line or in its block, not both");
      return;
    }
    RewriteRule rule;
    size_t i = 0;
    if (i < tokens.size() && (tokens[i].text == "stop" || tokens[i].text == "continue")) {
      rule.stop = tokens[i++].text == "stop";
    }
    if (i >= tokens.size()) return Error(d.name.pos, "rewrite needs a field (name or ttl) and its arguments");
    const CorefileToken& field = tokens[i++];
    if (field.text == "name") {
      rule.field = RewriteRule::Field::kName;
    } else if (field.text == "ttl") {
      rule.field = RewriteRule::Field::kTtl;
    } else {
      return Error(field.pos, absl::StrCat("rewrite ", field.text,
                                           " is not supported: meshdns runs rewrite name and rewrite ttl"));
    }
    Tokens rest = Tokens(tokens).subspan(i);
    if (!RewriteMatch(d, rest, rule)) return;
    plan.rewrites.push_back(std::move(rule));
  }

  bool RewriteMatch(const CorefileDirective& d, Tokens rest, RewriteRule& rule) {
    static const std::pair<const char*, RewriteRule::Match> kTypes[] = {
        {"exact", RewriteRule::Match::kExact},         {"prefix", RewriteRule::Match::kPrefix},
        {"suffix", RewriteRule::Match::kSuffix},       {"substring", RewriteRule::Match::kSubstring},
        {"regex", RewriteRule::Match::kRegex}};
    bool explicit_type = false;
    if (!rest.empty()) {
      for (const auto& [word, match] : kTypes) {
        if (rest[0].text == word) {
          rule.match = match;
          explicit_type = true;
        }
      }
    }
    if (explicit_type) rest = rest.subspan(1);
    if (rest.size() < 2) {
      Error(d.name.pos, "rewrite: expected FROM and TO");
      return false;
    }
    const CorefileToken& from = rest[0];
    const CorefileToken& to = rest[1];
    rest = rest.subspan(2);
    if (rule.match == RewriteRule::Match::kRegex) {
      rule.regex = Regex(from);
      if (!rule.regex) return false;
      rule.from = from.text;
      if (rule.field == RewriteRule::Field::kName && HighestGroupReference(to.text) > rule.regex->NumberOfCapturingGroups()) {
        Error(to.pos, absl::StrCat("rewrite: '", to.text, "' refers to a group the regex does not have"));
        return false;
      }
    } else {
      rule.from = Normalize(from.text);
    }
    if (rule.field == RewriteRule::Field::kTtl) {
      if (!rest.empty() && !explicit_type) {
        Error(rest[0].pos, "rewrite ttl: options need an explicit match type");
        return false;
      }
      return TtlRange(to, rule) && NoMore(rest);
    }
    rule.to = Normalize(to.text);
    if (rule.match == RewriteRule::Match::kExact) rule.answer_auto = true;  // implicit in CoreDNS
    if (!rest.empty() && !explicit_type) {
      Error(rest[0].pos, "rewrite: answer options need an explicit match type (exact, prefix, suffix, substring, regex)");
      return false;
    }
    return AnswerRules(d, rest, rule);
  }

  bool TtlRange(const CorefileToken& t, RewriteRule& rule) {
    // 30 (30-30), -30 (0-30), 30- (30 up), 10-30.
    const size_t dash = t.text.find('-');
    absl::string_view low = t.text, high = t.text;
    if (dash != std::string::npos) {
      low = absl::string_view(t.text).substr(0, dash);
      high = absl::string_view(t.text).substr(dash + 1);
    }
    uint32_t lo = 0, hi = UINT32_MAX;
    if ((!low.empty() && !absl::SimpleAtoi(low, &lo)) || (!high.empty() && !absl::SimpleAtoi(high, &hi)) ||
        (low.empty() && high.empty()) || lo > hi) {
      Error(t.pos, absl::StrCat("rewrite ttl: '", t.text, "' is not SECONDS or MIN-MAX"));
      return false;
    }
    rule.ttl_min = lo;
    rule.ttl_max = hi;
    return true;
  }

  bool AnswerRules(const CorefileDirective& d, Tokens rest, RewriteRule& rule) {
    bool named = false;
    for (size_t i = 0; i < rest.size();) {
      if (rest[i].text == "answer") ++i;  // the word may be left out after the first rule
      if (i >= rest.size()) {
        Error(rest[i - 1].pos, "rewrite: answer needs auto, name FROM TO or value FROM TO");
        return false;
      }
      const CorefileToken& kind = rest[i];
      if (kind.text == "auto") {
        rule.answer_auto = true;
        ++i;
        continue;
      }
      if (kind.text != "name" && kind.text != "value") {
        Error(kind.pos, absl::StrCat("rewrite: unexpected '", kind.text, "' (answer auto, answer name or answer value)"));
        return false;
      }
      if (i + 2 >= rest.size()) {
        Error(kind.pos, absl::StrCat("rewrite: answer ", kind.text, " needs FROM and TO"));
        return false;
      }
      RewriteRule::AnswerRule a;
      a.value = kind.text == "value";
      a.from = Regex(rest[i + 1]);
      if (!a.from) return false;
      a.to = Normalize(rest[i + 2].text);
      named = named || !a.value;
      rule.answers.push_back(std::move(a));
      i += 3;
    }
    if (named && rule.answer_auto && rule.match != RewriteRule::Match::kExact) {
      Error(d.name.pos, "rewrite: answer auto and answer name cannot be combined");
      return false;
    }
    return true;
  }

  bool NoMore(Tokens rest) {
    if (rest.empty()) return true;
    Error(rest[0].pos, absl::StrCat("unexpected argument ", rest[0].text));
    return false;
  }

  // --- template ------------------------------------------------------------

  void Template(const CorefileDirective& d, ServerPlan& plan) {
    TemplateRule t;
    if (d.args.size() < 2) return Error(d.name.pos, "template needs CLASS and TYPE");
    const std::string cls = absl::AsciiStrToUpper(d.args[0].text);
    if (cls == "ANY") t.qclass = 255;
    else if (cls == "IN") t.qclass = 1;
    else if (cls == "CH" || cls == "CHAOS") t.qclass = 3;
    else if (cls == "HS") t.qclass = 4;
    else return Error(d.args[0].pos, absl::StrCat("template: '", d.args[0].text, "' is not a class (IN, CH, HS, ANY)"));
    const std::string type = absl::AsciiStrToUpper(d.args[1].text);
    if (type == "ANY") {
      t.qtype = 255;
    } else {
      t.qtype = ldns_get_rr_type_by_name(type.c_str());
      if (t.qtype == 0) return Error(d.args[1].pos, absl::StrCat("template: '", d.args[1].text, "' is not a type"));
    }
    t.zones = d.args.size() > 2 ? Zones(Tokens(d.args).subspan(2)) : block_zones_;
    for (const CorefileDirective& line : d.block) {
      const std::string& o = line.name.text;
      if (o == "match") {
        if (line.args.empty()) Error(line.name.pos, "match needs at least one regex");
        for (const CorefileToken& re : line.args) {
          if (Regex(re)) t.match.push_back(re.text);
        }
      } else if (o == "answer" || o == "additional" || o == "authority") {
        if (line.args.empty()) Error(line.name.pos, absl::StrCat(o, " needs at least one record template"));
        std::vector<std::string>& into = o == "answer" ? t.answer : o == "additional" ? t.additional : t.authority;
        for (const CorefileToken& rr : line.args) into.push_back(rr.text);
      } else if (o == "rcode") {
        if (line.args.size() != 1) {
          Error(line.name.pos, "rcode needs one code");
          continue;
        }
        static const std::pair<const char*, uint8_t> kCodes[] = {{"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2},
                                                                 {"NXDOMAIN", 3}, {"NOTIMP", 4}, {"REFUSED", 5}};
        bool known = false;
        for (const auto& [name, code] : kCodes) {
          if (absl::EqualsIgnoreCase(line.args[0].text, name)) {
            t.rcode = code;
            known = true;
          }
        }
        if (!known) Error(line.args[0].pos, absl::StrCat("rcode: '", line.args[0].text, "' is not a response code"));
      } else if (o == "fallthrough") {
        t.fallthrough = Zones(line.args);
      } else if (o == "upstream") {
        // Accepted and ignored by CoreDNS since 1.6; meshdns always chases CNAME targets itself.
      } else {
        Error(line.name.pos, absl::StrCat("template: option ", o, " is not supported"));
      }
    }
    CheckTemplateRendering(d, t);
    plan.templates.push_back(std::move(t));
  }

  // Every answer must be renderable by meshdns's template engine for every
  // regex it may follow: actions it does not know, or groups a regex lacks,
  // are errors now rather than broken answers later.
  void CheckTemplateRendering(const CorefileDirective& d, const TemplateRule& t) {
    std::vector<std::string> records = t.answer;
    records.insert(records.end(), t.additional.begin(), t.additional.end());
    records.insert(records.end(), t.authority.begin(), t.authority.end());
    if (records.empty()) return;
    const std::vector<std::string> regexes = t.match.empty() ? std::vector<std::string>{".*"} : t.match;
    for (const std::string& re : regexes) {
      absl::StatusOr<std::shared_ptr<const meshdns::Template>> compiled = meshdns::Template::Compile(re, records);
      if (!compiled.ok()) {
        Error(d.name.pos, absl::StrCat("template: ", compiled.status().message()));
        return;
      }
    }
  }

  // --- forward -------------------------------------------------------------

  void Forward(const CorefileDirective& d, ServerPlan& plan) {
    ForwardPlan f;
    f.pos = d.name.pos;
    if (d.args.size() < 2) return Error(d.name.pos, "forward needs FROM and at least one TO");
    std::optional<DnsName> from = Zone(d.args[0]);
    if (!from) return;
    f.from = *from;
    for (const CorefileToken& to : Tokens(d.args).subspan(1)) Upstream(to, f.to);
    if (f.to.size() > kMaxUpstreams) Error(d.args[1].pos, absl::StrCat("forward: more than ", kMaxUpstreams, " upstreams"));
    for (const CorefileDirective& line : d.block) {
      const std::string& o = line.name.text;
      const bool one_arg = line.args.size() == 1;
      if (o == "except") {
        f.except = Zones(line.args);
      } else if (o == "force_tcp" || o == "prefer_udp") {
        MaxArgs(line, 0);
        (o == "force_tcp" ? f.force_tcp : f.prefer_udp) = true;
      } else if (o == "expire" && one_arg) {
        Duration(line.args[0], "expire", f.expire);
      } else if (o == "max_fails" && one_arg) {
        Number(line.args[0], "max_fails", f.max_fails);
      } else if (o == "health_check" && !line.args.empty()) {
        // health_check DURATION [no_rec] [domain FQDN]: meshdns probes with its own name.
        Duration(line.args[0], "health_check", f.health_check);
      } else if (o == "policy" && one_arg) {
        const std::string& p = line.args[0].text;
        if (p == "random") f.policy = Policy::kRandom;
        else if (p == "round_robin") f.policy = Policy::kRoundRobin;
        else if (p == "sequential") f.policy = Policy::kSequential;
        else Error(line.args[0].pos, absl::StrCat("policy: '", p, "' is not random, round_robin or sequential"));
      } else if (o == "max_concurrent" && one_arg) {
        Number(line.args[0], "max_concurrent", f.max_concurrent);
      } else if (o == "tls" || o == "tls_servername") {
        Error(line.name.pos, absl::StrCat("forward: ", o, " is not supported (plain DNS upstreams only)"));
      } else if (o == "except" || o == "expire" || o == "max_fails" || o == "health_check" || o == "policy" ||
                 o == "max_concurrent") {
        Error(line.name.pos, absl::StrCat("forward: ", o, " takes one argument"));
      } else {
        Error(line.name.pos, absl::StrCat("forward: option ", o, " is not supported"));
      }
    }
    plan.forwards.push_back(std::move(f));
  }

  void Upstream(const CorefileToken& t, std::vector<SocketAddress>& out) {
    absl::string_view text = t.text;
    if (absl::StartsWith(text, "tls://") || absl::StartsWith(text, "https://")) {
      return Error(t.pos, absl::StrCat("forward: ", text, ": only plain DNS upstreams are supported"));
    }
    text = absl::StripPrefix(text, "dns://");
    if (absl::StatusOr<SocketAddress> a = SocketAddress::Parse(text); a.ok()) {
      out.push_back(*a);
      return;
    }
    // Not an address: a resolv.conf-style file, as in CoreDNS.
    absl::StatusOr<std::vector<SocketAddress>> servers = ReadResolvConf(std::string(text));
    if (!servers.ok()) {
      return Error(t.pos, absl::StrCat("forward: '", text, "' is neither an address nor a readable resolv.conf: ",
                                       servers.status().message()));
    }
    out.insert(out.end(), servers->begin(), servers->end());
  }

  // --- cache ---------------------------------------------------------------

  CachePlan Cache(const CorefileDirective& d) {
    CachePlan c;
    c.pos = d.name.pos;
    Tokens args = d.args;
    uint32_t ttl = 0;
    if (!args.empty() && absl::ascii_isdigit(static_cast<unsigned char>(args[0].text[0]))) {
      if (Number(args[0], "cache TTL", ttl, 1)) c.success_ttl = c.denial_ttl = ttl;
      args = args.subspan(1);
    }
    c.zones = args.empty() ? block_zones_ : Zones(args);
    for (const CorefileDirective& line : d.block) {
      const std::string& o = line.name.text;
      if (o == "success" || o == "denial") {
        const bool success = o == "success";
        if (line.args.empty() || line.args.size() > 3) {
          Error(line.name.pos, absl::StrCat(o, " needs CAPACITY [TTL [MINTTL]]"));
          continue;
        }
        Number(line.args[0], absl::StrCat(o, " capacity"), success ? c.success_capacity : c.denial_capacity, 1);
        if (line.args.size() > 1) Number(line.args[1], absl::StrCat(o, " TTL"), success ? c.success_ttl : c.denial_ttl, 1);
        if (line.args.size() > 2) {
          Number(line.args[2], absl::StrCat(o, " MINTTL"), success ? c.success_min_ttl : c.denial_min_ttl);
        }
      } else if (o == "prefetch") {
        PrefetchPolicy p{.amount = 0, .duration = 60000, .percentage = 10};
        if (line.args.empty() || line.args.size() > 3) {
          Error(line.name.pos, "prefetch needs AMOUNT [DURATION [PERCENTAGE%]]");
          continue;
        }
        Number(line.args[0], "prefetch amount", p.amount, 1);
        if (line.args.size() > 1) Duration(line.args[1], "prefetch duration", p.duration);
        if (line.args.size() > 2) {
          const CorefileToken& pct = line.args[2];
          CorefileToken number = pct;
          number.text = std::string(absl::StripSuffix(pct.text, "%"));
          Number(number, "prefetch percentage", p.percentage, 10, 90);
        }
        c.prefetch = p;
      } else if (o == "serve_stale") {
        c.serve_stale = 3600000;
        if (!line.args.empty()) Duration(line.args[0], "serve_stale", c.serve_stale);
        if (line.args.size() > 1 && line.args[1].text != "immediate" && line.args[1].text != "verify") {
          Error(line.args[1].pos, "serve_stale: the mode is immediate or verify");
        }
      } else if (o == "keepttl") {
        MaxArgs(line, 0);
        c.keepttl = true;
      } else if (o == "servfail") {
        // meshdns never caches SERVFAIL (see coredns-semantics), so only the syntax is checked.
        Millis ignored = 0;
        if (line.args.size() == 1) Duration(line.args[0], "servfail", ignored);
        else Error(line.name.pos, "servfail needs one duration");
      } else {
        Error(line.name.pos, absl::StrCat("cache: option ", o, " is not supported"));
      }
    }
    if (c.success_min_ttl > c.success_ttl || c.denial_min_ttl > c.denial_ttl) {
      Error(d.name.pos, "cache: a MINTTL is larger than its TTL");
    }
    return c;
  }

  // --- hosts ---------------------------------------------------------------

  HostsPlan Hosts(const CorefileDirective& d) {
    HostsPlan h;
    h.pos = d.name.pos;
    if (!d.args.empty()) h.file = d.args[0].text;
    h.zones = d.args.size() > 1 ? Zones(Tokens(d.args).subspan(1)) : block_zones_;
    for (const CorefileDirective& line : d.block) {
      const std::string& o = line.name.text;
      if (o == "ttl" && line.args.size() == 1) {
        Number(line.args[0], "ttl", h.ttl, 0, 65535);
      } else if (o == "reload" && line.args.size() == 1) {
        Duration(line.args[0], "reload", h.reload);
      } else if (o == "no_reverse") {
        MaxArgs(line, 0);
        h.no_reverse = true;
      } else if (o == "fallthrough") {
        h.fallthrough = Zones(line.args);
      } else if (IsIp(o)) {  // an inline entry: IP NAME…
        if (line.args.empty()) Error(line.name.pos, absl::StrCat("hosts: ", o, " needs at least one name"));
        h.entries.push_back(HostsPlan::Entry{o, Zones(line.args), line.name.pos});
      } else {
        Error(line.name.pos, absl::StrCat("hosts: '", o, "' is neither an option nor an IP address"));
      }
    }
    return h;
  }

  // --- side services ------------------------------------------------------

  void SideService(const CorefileDirective& d, ServerPlan& plan) {
    const std::string& n = d.name.text;
    std::optional<std::string>& slot = n == "health" ? plan.health : n == "ready" ? plan.ready : plan.prometheus;
    if (!Once(d, slot.has_value())) return;
    MaxArgs(d, 1);
    slot = d.args.empty() ? std::string() : d.args[0].text;
    if (!d.args.empty()) {
      // :8080, host:port, [v6]:port
      const std::string& a = d.args[0].text;
      const size_t colon = a.rfind(':');
      uint32_t port = 0;
      if (colon == std::string::npos || !absl::SimpleAtoi(a.substr(colon + 1), &port) || port == 0 || port > 65535) {
        Error(d.args[0].pos, absl::StrCat(n, ": '", a, "' is not HOST:PORT"));
      }
    }
    for (const CorefileDirective& line : d.block) {
      if (n == "health" && line.name.text == "lameduck" && line.args.size() == 1) {
        Duration(line.args[0], "lameduck", plan.lameduck);
      } else if (n == "ready" && line.name.text == "monitor") {
        // monitor until-ready|continuously: meshdns's readiness is always current.
      } else {
        Error(line.name.pos, absl::StrCat(n, ": option ", line.name.text, " is not supported"));
      }
    }
  }

  void Reload(const CorefileDirective& d, ServerPlan& plan) {
    if (!Once(d, plan.reload.has_value())) return;
    NoBlock(d);
    MaxArgs(d, 2);
    Millis interval = 30000;
    if (!d.args.empty()) Duration(d.args[0], "reload interval", interval);
    if (d.args.size() > 1) {
      Millis jitter = 0;
      Duration(d.args[1], "reload jitter", jitter);
    }
    plan.reload = interval;
  }

  std::vector<ConfigError>& errors_;
  std::vector<DnsName> block_zones_;
};

}  // namespace

CorefilePlan PlanCorefile(const Corefile& corefile) {
  CorefilePlan out;
  for (const CorefileServerBlock& block : corefile.blocks) {
    out.servers.push_back(Planner(out.errors).Plan(block));
  }
  return out;
}

}  // namespace meshdns
