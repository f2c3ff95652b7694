#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian packages only),
# then, each failing on the first problem:
#  1. builds and runs every test: unit tests, fuzz-corpus replays, and the
#     integration tests that start real nsd and meshdns processes on loopback;
#  2. the whole suite again built with AddressSanitizer and UndefinedBehaviorSanitizer;
#  3. the daemon built with ThreadSanitizer under the integration tests that
#     drive its worker threads (any report fails the run);
#  4. each libFuzzer target for a short bounded time (FUZZ_SECONDS, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

echo "== 1/4 tests"
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$jobs" "$@")

# Sanitizer builds at -O1 with line tables only (-g1): the sanitizers' own
# advice for speed, stack traces keep file:line, and the ASan build takes
# about half the time of -O2 -g on a 2-core machine.
sanitizer_build=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DMESHDNS_BENCH=OFF)

echo "== 2/4 tests under ASan+UBSan"
cmake -S . -B build-sanitize "${sanitizer_build[@]}" -DMESHDNS_SANITIZE=address,undefined >/dev/null
cmake --build build-sanitize -j"$jobs"
(
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  cd build-sanitize && ctest --output-on-failure -j"$jobs" "$@"
)

echo "== 3/4 threaded server under TSan"
cmake -S . -B build-tsan "${sanitizer_build[@]}" -DMESHDNS_SANITIZE=thread >/dev/null
cmake --build build-tsan -j"$jobs" --target meshdns packet_cache_test
rm -rf build-tsan/tsan-reports && mkdir -p build-tsan/tsan-reports
(
  # Reports go to files: a race seen while a test is shutting meshdns down
  # must fail the run as surely as one that kills it mid-test.
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$PWD/build-tsan/tsan-reports/report"
  cd build-tsan && ctest --output-on-failure \
    -R '^(packet_cache_test|integration_(matrix|cli|clusterset|endpoints|hardening|corefile)_test)$' "$@"
)
if compgen -G "build-tsan/tsan-reports/report*" >/dev/null; then
  cat build-tsan/tsan-reports/report* >&2
  echo "ThreadSanitizer reported the races above" >&2
  exit 1
fi

echo "== 4/4 fuzz targets, ${FUZZ_SECONDS:-20}s each"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
