// Prints YAML::Node trees as YAML text for `meshdns manifests` and
// `meshdns import`. Pure functions.
//
// yaml-cpp's nodes do not remember whether a scalar was a string or a
// number, and a label value "1" or an address printed plain would read back
// as an integer or a float, which the API server refuses. Strings made with
// Str() carry YAML's non-specific tag "!" (which quoted scalars parsed from a
// file carry too); the printer quotes those whenever a plain scalar would
// read as something else, and prints multi-line ones as literal blocks.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/string_view.h"

namespace meshdns {

YAML::Node Str(absl::string_view s);

// One document, without a "---" line.
std::string EmitDocument(const YAML::Node& document);
// Each document after a "---" line, ready for `kubectl apply -f -`.
std::string EmitDocuments(const std::vector<YAML::Node>& documents);

}  // namespace meshdns
