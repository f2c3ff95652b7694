// The mesh file as `check` and `serve` read it: any text gives a Config or
// errors, each with a position inside the text.
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshdns;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult r = LoadConfigText(text, "fuzz.yaml");
  // Exactly one of the two: a config with no errors, or errors and no config.
  if (r.config.has_value() == !r.errors.empty()) std::abort();
  return 0;
}
