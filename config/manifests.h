// `meshdns manifests`: one cluster's install of meshdns as Kubernetes objects,
// from values that LoadManifestValuesFile accepted. The daemon's flags and
// ports come from the same binary and mesh file that will run, so they always
// match. Pure functions.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/manifest_values.h"

namespace meshdns {

inline constexpr char kConfigMountPath[] = "/etc/meshdns";

// In apply order: Namespace, ServiceAccount, ConfigMap, DaemonSet, the NodePort
// and ClusterIP Services, PodDisruptionBudget, then what `monitoring` asks for
// (PodMonitor, PrometheusRule, the dashboard's ConfigMap).
std::vector<YAML::Node> ManifestObjects(const ManifestValues& v);

// ManifestObjects as a YAML stream for `kubectl apply -f -`.
std::string RenderManifests(const ManifestValues& v);

}  // namespace meshdns
