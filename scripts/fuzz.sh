#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/*_fuzzer.cc), each for SECONDS (default 30),
# built with clang, ASan and UBSan in build-fuzz/. New inputs go to
# build-fuzz/corpus/<target>/ (the repo's seeds stay as they are); a crash
# (or timeout, leak, memory blow-up) stops the run, is saved in
# build-fuzz/artifacts/<target>/, and this script fails. To keep a crash as
# a regression test, copy it to fuzz/corpus/<target>/ (ctest replays it).
#   scripts/fuzz.sh [SECONDS] [TARGET ...]     (all targets when none is named)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire rewrite template yaml corefile)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMESHDNS_FUZZ=ON \
  -DMESHDNS_SANITIZE=address,undefined >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"

export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# More seeds: the Corefile tests' corpus (the same folders ctest replays).
declare -A extra=([corefile]="tests/config/corefiles tests/config/corefiles/broken")
for t in "${targets[@]}"; do
  artifacts="build-fuzz/artifacts/$t"
  rm -rf "$artifacts" && mkdir -p "$artifacts" "build-fuzz/corpus/$t"
  echo "== $t: ${seconds}s"
  # -rss_limit_mb: a config or Corefile is small; an input that needs more is a bug worth seeing.
  status=0
  build-fuzz/fuzz/"${t}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "build-fuzz/corpus/$t" "fuzz/corpus/$t" ${extra[$t]:-} >"build-fuzz/fuzz-$t.log" 2>&1 || status=$?
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units)' "build-fuzz/fuzz-$t.log" || true
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
    tail -n 60 "build-fuzz/fuzz-$t.log" >&2
    echo "fuzz target $t failed (exit $status); inputs kept in $artifacts/" >&2
    exit 1
  fi
done
