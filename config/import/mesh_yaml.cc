// An ImportedMesh as the meshdns YAML of the contract: what the Corefile
// wrote, and nothing of meshdns's defaults (the reader fills those in).
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "config/imported_mesh.h"
#include "config/yaml_emit.h"

namespace meshdns {
namespace {

YAML::Node Duration(Millis ms) {
  return Str(ms % 1000 == 0 ? absl::StrCat(ms / 1000, "s") : absl::StrCat(ms, "ms"));
}

YAML::Node Domain(const DnsName& name) { return Str(absl::StripSuffix(name.ToText(), ".")); }

// Addresses, and resolv.conf files by their path (the YAML reads them as it
// loads, as CoreDNS does): a relative path would not load, so its nameservers instead.
YAML::Node Resolvers(const std::vector<ForwardTo>& to) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const ForwardTo& t : to) {
    if (t.resolv_conf && absl::StartsWith(*t.resolv_conf, "/")) {
      list.push_back(Str(*t.resolv_conf));
      continue;
    }
    for (const SocketAddress& a : t.addresses) list.push_back(Str(a.ToString()));
  }
  return list;
}

const char* PolicyText(Policy p) {
  switch (p) {
    case Policy::kRoundRobin: return "round_robin";
    case Policy::kRandom: return "random";
    case Policy::kSequential: return "sequential";
  }
  return "round_robin";
}

YAML::Node Clusters(const ImportedMesh& mesh) {
  YAML::Node clusters(YAML::NodeType::Map);
  for (const ImportedCluster& c : mesh.clusters) {
    YAML::Node cluster;
    cluster["resolvers"] = Resolvers(c.resolvers);
    if (c.policy) cluster["policy"] = Str(PolicyText(*c.policy));
    clusters[c.name] = cluster;
  }
  return clusters;
}

YAML::Node Templates(const ImportedMesh& mesh) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const ImportedTemplate& t : mesh.templates) {
    YAML::Node entry;
    entry["match"] = Str(t.match);
    if (t.answer.size() == 1) {
      entry["answer"] = Str(t.answer.front());
    } else {
      for (const std::string& a : t.answer) entry["answer"].push_back(Str(a));
    }
    list.push_back(entry);
  }
  return list;
}

}  // namespace

std::string MeshYaml(const ImportedMesh& mesh) {
  YAML::Node y(YAML::NodeType::Map);
  y["cluster"] = Str(mesh.cluster);
  y["domain"] = Domain(mesh.domain);
  if (mesh.clusterset_domain) y["clusterset_domain"] = Domain(*mesh.clusterset_domain);
  y["clusters"] = Clusters(mesh);
  if (!mesh.upstream.empty()) y["upstream"] = Resolvers(mesh.upstream);
  if (mesh.expire) y["forward"]["expire"] = Duration(*mesh.expire);
  if (mesh.health_check) y["forward"]["health_check"] = Duration(*mesh.health_check);
  if (mesh.max_fails) y["forward"]["max_fails"] = *mesh.max_fails;
  if (mesh.cache_max_ttl) {
    const Millis ttl = Millis{*mesh.cache_max_ttl} * 1000;
    y["cache"]["max_ttl"] = Duration(ttl);
    // A Corefile's TTL caps denials too and wins over the 5 s floor (`cache 3`
    // means 3 s for both); the YAML says so where its defaults would not.
    const TtlPolicy defaults = CacheConfig{}.ttl;
    if (ttl < Millis{defaults.min_ttl} * 1000) y["cache"]["min_ttl"] = Duration(ttl);
    if (ttl < Millis{defaults.denial_ttl} * 1000) y["cache"]["denial_ttl"] = Duration(ttl);
  }
  if (!mesh.templates.empty()) y["templates"] = Templates(mesh);
  if (mesh.inflight) y["limits"]["inflight"] = *mesh.inflight;
  if (!mesh.metrics.empty()) y["metrics"] = Str(mesh.metrics);
  if (!mesh.health.empty()) y["health"] = Str(mesh.health);
  if (!mesh.ready.empty()) y["ready"] = Str(mesh.ready);
  if (mesh.lameduck) y["lameduck"] = Duration(*mesh.lameduck);
  return "# Imported from a Corefile by `meshdns import`.\n" + EmitDocument(y);
}

}  // namespace meshdns
