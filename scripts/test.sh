#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian packages only),
# builds, and runs every test: unit tests, then the integration tests that
# start real nsd and meshdns processes on 127.0.0.0/8. Then the whole suite
# again on a build with AddressSanitizer and UndefinedBehaviorSanitizer, where
# any report fails the test that triggered it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)" "$@")

cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESHDNS_SANITIZE=address,undefined >/dev/null
cmake --build build-sanitize -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-sanitize && ctest --output-on-failure -j"$(nproc)" "$@")
