# Precompiled headers for the two groups of translation units that parse the
# same heavy, stable third-party headers again and again: the unit tests
# (GoogleTest, abseil, the standard library) and server/ (Boost.Asio). Parsing
# is about half of a test's compile time and Asio alone takes ~3.5 s per file,
# so on CI's 2 cores this saves minutes per build, and scripts/test.sh builds
# three times. Only third-party headers go in: a change to meshdns's own
# headers must not rebuild every precompiled header.
#
# With ccache, set `sloppiness = pch_defines,time_macros` (ccache's own
# advice for precompiled headers), or every file is compiled uncached.

set(MESHDNS_COMMON_PCH
  <algorithm> <array> <atomic> <cstdint> <cstring> <functional> <map> <memory> <optional>
  <set> <span> <string> <string_view> <utility> <vector>
  <absl/container/flat_hash_map.h> <absl/status/status.h> <absl/status/statusor.h>
  <absl/strings/str_cat.h> <absl/strings/string_view.h>)

# Every unit test reuses one precompiled header, built once by this library
# with the same flags the tests compile with: g++ ignores a precompiled header
# built without a macro the file defines (-pthread's _REENTRANT), so the
# library links what every test links.
add_library(meshdns_test_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch_anchor.cc)
target_link_libraries(meshdns_test_pch PRIVATE meshconfig dnscore GTest::gtest GTest::gmock)
target_precompile_headers(meshdns_test_pch PRIVATE ${MESHDNS_COMMON_PCH} <gtest/gtest.h> <gmock/gmock.h>)

function(meshdns_reuse_test_pch target)
  target_precompile_headers(${target} REUSE_FROM meshdns_test_pch)
endfunction()
