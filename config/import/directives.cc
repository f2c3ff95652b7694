// The directives every kind of block shares: forward, cache and template,
// their values from the plan, each option that does not carry over
// reported at its line.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "config/import/importer.h"

namespace meshdns {
namespace {

std::string DurationText(Millis ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms");
}

std::string CountText(uint32_t n) { return absl::StrCat(n); }

// meshdns has one value for all clusters where CoreDNS has one per forward:
// the first written is kept, and a different one later is reported.
template <typename T>
void OneValue(const CorefileToken& option, T value, std::optional<T>& kept, std::string (*text)(T),
              std::vector<ConfigError>& warnings) {
  if (!kept) {
    kept = value;
  } else if (*kept != value) {
    warnings.push_back(option.pos.Error(absl::StrCat("forward ", option.text, " ", text(value), " differs from ",
                                                     text(*kept), " elsewhere; meshdns has one value for all "
                                                     "clusters: ", text(*kept), " kept")));
  }
}

std::string ClassText(uint16_t c) {
  switch (c) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 255: return "ANY";
  }
  return absl::StrCat("CLASS", c);
}

std::string TypeText(uint16_t t) {
  static const std::pair<uint16_t, const char*> kNames[] = {{1, "A"},    {2, "NS"},    {5, "CNAME"}, {6, "SOA"},
                                                            {12, "PTR"}, {15, "MX"},   {16, "TXT"},  {28, "AAAA"},
                                                            {33, "SRV"}, {255, "ANY"}};
  for (const auto& [type, name] : kNames) {
    if (type == t) return name;
  }
  return absl::StrCat("TYPE", t);
}

bool SameZones(const std::vector<DnsName>& a, const std::vector<CorefileKey>& keys) {
  return a.size() == keys.size() &&
         std::equal(a.begin(), a.end(), keys.begin(), [](const DnsName& z, const CorefileKey& k) { return z.Equals(k.zone); });
}

}  // namespace

void MeshImporter::ReadForward(const ForwardPlan& f, const DirectiveSite& site, ImportedCluster& into) {
  // tls:// and https:// upstreams are not in the plan: it said so.
  into.resolvers.insert(into.resolvers.end(), f.to.begin(), f.to.end());
  for (const CorefileToken& option : site.options) {
    const std::string& o = option.text;
    if (o == "policy") {
      into.policy = f.policy;
    } else if (o == "max_concurrent") {
      inflight_ = f.max_concurrent;  // CoreDNS answers REFUSED beyond it, as meshdns does beyond limits.inflight
    } else if (o == "expire") {
      OneValue(option, f.expire, expire_, DurationText, result_.warnings);
    } else if (o == "health_check") {
      OneValue(option, f.health_check.interval, health_check_, DurationText, result_.warnings);
      if (!f.health_check.recursion_desired || !f.health_check.domain.IsRoot()) {
        Warn(option.pos, "forward health_check no_rec|domain has no meshdns YAML equivalent; probes ask `. IN NS`");
      }
    } else if (o == "max_fails") {
      OneValue(option, f.max_fails, max_fails_, CountText, result_.warnings);
    } else if (o == "except" || o == "force_tcp" || o == "prefer_udp" || o == "read_timeout" ||
               o == "max_connect_attempts" || o == "failover") {
      Warn(option.pos, absl::StrCat("forward option ", o, " has no meshdns equivalent; left out"));
    }  // the rest is not in the plan: it said so
  }
}

void MeshImporter::ReadCache(const ServerPlan& server, const DirectiveSite& site, CacheOf of) {
  // A second cache in a block is not in the plan: it said so.
  const SourcePos& at = site.name.pos;
  if (!server.cache || server.cache->pos.file != at.file || server.cache->pos.line != at.line ||
      server.cache->pos.column != at.column) {
    return;
  }
  const CachePlan& c = *server.cache;
  if (c.ttl && of == CacheOf::kMesh) {
    if (mesh_cache_ && *mesh_cache_ != *c.ttl) {
      Warn(c.pos, absl::StrCat("cache ", *c.ttl, " differs from cache ", *mesh_cache_,
                               " in another block; meshdns has one cache: ", *mesh_cache_, " kept"));
    } else {
      mesh_cache_ = c.ttl;
    }
  } else if (c.ttl) {
    root_cache_ = c.ttl;
  }
  if (!SameZones(c.zones, server.keys) || !site.options.empty()) {
    Warn(c.pos, "cache zones and options are not carried over (see cache: in the meshdns YAML)");
  }
}

void MeshImporter::ReadTemplate(const TemplateRule& t, const DirectiveSite& site) {
  if (t.qtype != 255 || (t.qclass != 1 && t.qclass != 255)) {
    Warn(site.name.pos, absl::StrCat("template ", ClassText(t.qclass), " ", TypeText(t.qtype),
                                     ": meshdns templates answer every type of class IN"));
  }
  for (const CorefileToken& option : site.options) {
    const std::string& o = option.text;
    if (o == "additional" || o == "authority" || o == "rcode" || o == "ederror" || o == "upstream") {
      Warn(option.pos, absl::StrCat("template option ", o, " has no meshdns equivalent; left out"));
    }  // match, answer and fallthrough carry over; the rest is not in the plan
  }
  const auto written = [&](absl::string_view option) {
    return std::any_of(site.options.begin(), site.options.end(),
                       [&](const CorefileToken& o) { return o.text == option; });
  };
  if (!written("match") || !written("answer")) {
    Warn(site.name.pos, "template without match and answer; left out");
    return;
  }
  for (const std::string& m : t.match) templates_.push_back(ImportedTemplate{m, t.answer});
}

}  // namespace meshdns
