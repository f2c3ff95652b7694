#!/usr/bin/env bash
# Builds meshdns and runs its micro-benchmarks (every hot component, Google
# Benchmark) and the cache memory check (1M entries; exits non-zero if the
# per-entry budget is exceeded). Extra arguments go to Google Benchmark,
# e.g. --benchmark_filter=Cache. The load comparison with the peers is
# bench/load/run.sh (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build/bench/meshdns_bench "$@"
build/bench/meshdns_cache_memory
