// Reading a Corefile text and planning it, as the config tests do: a syntax
// error fails the test, a planning error is the result's to check.
#ifndef MESHDNS_TESTS_CONFIG_PLAN_TESTING_H_
#define MESHDNS_TESTS_CONFIG_PLAN_TESTING_H_

#include <gtest/gtest.h>

#include <string>

#include "config/corefile_plugins.h"

namespace meshdns::testing {

inline CorefilePlan PlanText(const std::string& text, const PlanCorefileOptions& options = {}) {
  CorefileResult r = ReadCorefileText(text, "Corefile");
  for (const ConfigError& e : r.errors) ADD_FAILURE() << e.ToString();
  if (!r.corefile) return {};
  return PlanCorefile(*r.corefile, options);
}

// The plan's first error as "line:col: message", or "" when there is none.
inline std::string FirstPlanError(const std::string& text, const PlanCorefileOptions& options = {}) {
  CorefilePlan p = PlanText(text, options);
  if (p.errors.empty()) return "";
  const ConfigError& e = p.errors.front();
  return std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message;
}

}  // namespace meshdns::testing

#endif  // MESHDNS_TESTS_CONFIG_PLAN_TESTING_H_
