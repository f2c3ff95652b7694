#include "config/corefile.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "config/corefile_expand.h"
#include "config/corefile_lexer.h"
#include "dnscore/reverse_zone.h"

namespace meshdns {
namespace {

class Parser {
 public:
  Parser(std::vector<LexedToken> tokens, std::vector<ConfigError>& errors) : t_(std::move(tokens)), errors_(errors) {}

  Corefile Parse() {
    Corefile out;
    while (at_ < t_.size()) {
      CorefileServerBlock block;
      block.pos = t_[at_].pos;
      if (!Keys(block)) return out;
      if (at_ < t_.size() && IsBrace("{")) {
        const SourcePos open = t_[at_++].pos;
        if (!Lines(block.directives, &open)) return out;
      } else if (out.blocks.empty()) {
        // One block may leave out its braces: the rest of the file is its body.
        if (!Lines(block.directives, nullptr)) return out;
      } else {
        errors_.push_back(block.pos.Error("expected { after the server block's keys"));
        return out;
      }
      out.blocks.push_back(std::move(block));
    }
    return out;
  }

 private:
  bool IsBrace(const char* b) const { return !t_[at_].quoted && t_[at_].text == b; }

  // Keys up to `{`; a line ending in a comma continues on the next.
  bool Keys(CorefileServerBlock& block) {
    bool continued = true;
    while (at_ < t_.size() && !IsBrace("{")) {
      const LexedToken& tok = t_[at_];
      if (tok.line_start && !continued) break;
      if (!tok.quoted && tok.text == "}") {
        errors_.push_back(tok.pos.Error("unexpected }"));
        return false;
      }
      continued = absl::EndsWith(tok.text, ",");
      for (absl::string_view part : absl::StrSplit(tok.text, ',', absl::SkipEmpty())) {
        for (CorefileKey& key : Keys(part, tok.pos)) block.keys.push_back(std::move(key));
      }
      ++at_;
    }
    if (block.keys.empty() && errors_.empty()) {
      errors_.push_back(block.pos.Error("a server block needs at least one key (zone[:port])"));
      return false;
    }
    return errors_.empty();
  }

  // One key's zones: one, or a network's reverse zones.
  std::vector<CorefileKey> Keys(absl::string_view text, const SourcePos& pos) {
    CorefileKey key;
    key.pos = pos;
    if (size_t scheme = text.find("://"); scheme != absl::string_view::npos) {
      const std::string name = absl::AsciiStrToLower(text.substr(0, scheme));
      if (name != "dns") {
        errors_.push_back(pos.Error(absl::StrCat("server block key ", text, ": only dns:// is served (plain DNS "
                                                    "over UDP and TCP), not ", name, "://")));
        return {};
      }
      text.remove_prefix(scheme + 3);
    }
    absl::string_view zone = text;
    if (size_t colon = text.rfind(':'); colon != absl::string_view::npos) {
      const absl::string_view after = text.substr(colon + 1);
      int port = 0;
      if (absl::SimpleAtoi(after, &port) && port >= 1 && port <= 65535) {
        zone = text.substr(0, colon);
        key.port = static_cast<uint16_t>(port);
      } else if (!LooksLikeNetwork(text)) {  // fd00::/64 has a colon and no port
        errors_.push_back(pos.Error(absl::StrCat("server block key ", text, ": bad port")));
        return {};
      }
    }
    if (LooksLikeNetwork(zone)) {
      absl::StatusOr<std::vector<DnsName>> zones = ReverseZones(zone);
      if (!zones.ok()) {
        errors_.push_back(pos.Error(absl::StrCat("server block key ", text, ": ", zones.status().message())));
        return {};
      }
      std::vector<CorefileKey> keys;
      for (DnsName& z : *zones) keys.push_back(CorefileKey{.zone = std::move(z), .port = key.port, .pos = pos});
      return keys;
    }
    if (zone.empty()) zone = ".";
    absl::StatusOr<DnsName> name = DnsName::FromText(zone);
    if (!name.ok()) {
      errors_.push_back(pos.Error(absl::StrCat("server block key ", text, ": ", name.status().message())));
      return {};
    }
    key.zone = name->Lowered();
    return {std::move(key)};
  }

  // Directive lines up to the `}` matching the `{` at `open` (without one,
  // up to the end of input).
  bool Lines(std::vector<CorefileDirective>& out, const SourcePos* open) {
    const bool closing = open != nullptr;
    while (at_ < t_.size()) {
      if (IsBrace("}")) {
        if (!closing) {
          errors_.push_back(t_[at_].pos.Error("unexpected }"));
          return false;
        }
        ++at_;
        return true;
      }
      if (IsBrace("{")) {
        errors_.push_back(t_[at_].pos.Error("unexpected { (a block must follow a directive on its line)"));
        return false;
      }
      CorefileDirective d;
      d.name = CorefileToken{t_[at_].text, t_[at_].pos};
      ++at_;
      while (at_ < t_.size() && !t_[at_].line_start) {
        if (IsBrace("{")) {
          const SourcePos brace = t_[at_++].pos;
          d.has_block = true;
          if (!Lines(d.block, &brace)) return false;
          break;
        }
        if (IsBrace("}")) break;  // `}` closing a block on the same line as its last directive
        d.args.push_back(CorefileToken{t_[at_].text, t_[at_].pos});
        ++at_;
      }
      out.push_back(std::move(d));
    }
    if (closing) {
      errors_.push_back(open->Error("this { is never closed (missing } before the end of the file)"));
      return false;
    }
    return true;
  }

  std::vector<LexedToken> t_;
  size_t at_ = 0;
  std::vector<ConfigError>& errors_;
};

}  // namespace

CorefileResult ReadCorefileText(absl::string_view text, const std::string& file_name,
                                const CorefileReadOptions& options) {
  CorefileResult result;
  std::vector<LexedToken> tokens = ExpandCorefile(text, file_name, options, result.errors);
  if (!result.errors.empty()) return result;
  Corefile corefile = Parser(std::move(tokens), result.errors).Parse();
  if (result.errors.empty()) result.corefile = std::move(corefile);
  return result;
}

CorefileResult ReadCorefileFile(const std::string& path, const CorefileReadOptions& options) {
  std::optional<std::string> text = ReadCorefileSource(options, path);
  if (!text) {
    CorefileResult r;
    r.errors.push_back(ConfigError{path, 0, 0, "cannot read the file"});
    return r;
  }
  return ReadCorefileText(*text, path, options);
}

}  // namespace meshdns
