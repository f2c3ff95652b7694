// The importer behind ImportMesh (imported_mesh.h): each server block of a
// plan read by its kind (a cluster's zone, the root, the clusterset
// template zone), the values taken from the plan's typed slots and the
// positions from its directive sites. importer.cc walks the file and picks
// the own cluster; blocks.cc reads the three kinds of block; directives.cc
// the forward, cache and template they share. One per import; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/imported_mesh.h"

namespace meshdns {

bool IsHostName(const DnsName& name);

class MeshImporter {
 public:
  MeshImporter(const CorefilePlan& plan, const ImportOptions& options) : plan_(plan), options_(options) {}

  MeshImport Run();

 private:
  // Which of meshdns's caches a Corefile cache maps to.
  enum class CacheOf { kMesh, kRoot };

  // importer.cc
  void Warn(const SourcePos& pos, std::string message);
  void Error(const SourcePos& pos, std::string message);
  SourcePos FileStart() const;
  void FindDomain();
  std::optional<std::string> ClusterOfZone(const DnsName& zone) const;
  std::optional<std::string> StrippedCluster(const RewriteRule& rule) const;
  void ReadServer(size_t server);
  void ChooseLocalCluster();
  std::optional<PlanForwardRef> LocalOrigin() const;
  void NoLocal();
  ImportedMesh Mesh() const;

  // blocks.cc
  void ReadClusterBlock(size_t server, const std::string& cluster);
  void ReadRootBlock(size_t server);
  void ReadClustersetBlock(size_t server);
  void Unmapped(const DirectiveSite& site);

  // directives.cc
  void ReadForward(const ForwardPlan& f, const DirectiveSite& site, ImportedCluster& into);
  void ReadCache(const ServerPlan& server, const DirectiveSite& site, CacheOf of);
  void ReadTemplate(const TemplateRule& t, const DirectiveSite& site);

  const CorefilePlan& plan_;
  const ImportOptions& options_;
  MeshImport result_;
  DnsName domain_;
  std::optional<DnsName> clusterset_;
  std::vector<ImportedCluster> peers_;  // blocks that forward a cluster's names somewhere
  // Each cluster block's first forward, by cluster (peers or not).
  std::vector<std::pair<std::string, std::optional<PlanForwardRef>>> block_forwards_;
  std::optional<std::string> local_block_;  // the own cluster, as the file tells it
  std::string local_;
  std::vector<ForwardTo> local_resolvers_, local_forward_, upstream_;
  std::optional<PlanForwardRef> local_origin_, local_forward_origin_, upstream_origin_;
  std::optional<Millis> expire_, health_check_;
  std::optional<uint32_t> max_fails_, inflight_;
  std::optional<uint32_t> mesh_cache_, root_cache_;
  std::vector<ImportedTemplate> templates_;
  std::string metrics_, health_, ready_;
  std::optional<Millis> lameduck_;
};

}  // namespace meshdns
