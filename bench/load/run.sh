#!/usr/bin/env bash
# Measures meshdns side by side with dnsdist, Unbound, Knot Resolver and the
# PowerDNS Recursor using ../shared/bench/peers/run.sh (loopback only, dnsperf
# on cpu 0, each server pinned to cpu 1 with one worker). Extra environment is
# passed through (ROUNDS, DURATION, WORKLOADS, BUILTINS, ...). Results land in
# bench/load/work/results/summary-<runid>.txt; then per_core.py prints each
# round's per-core figures and their ratios to the baseline, which is what the
# performance targets compare.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
peers=${PEERS:-$repo/../shared/bench/peers/run.sh}
[ -f "$peers" ] || { echo "no peers harness at $peers" >&2; exit 2; }
bash "$repo/scripts/build.sh"
export WORK=${WORK:-$here/work}
export TARGETS="meshdns=127.0.0.1:25300 ${TARGETS:-}"
export CMD_meshdns="$repo/build/meshdns serve --config $here/meshdns-bench.yaml --threads 1"
export BASELINE=${BASELINE:-dnsdist}
log="$WORK/last-run.txt"
mkdir -p "$WORK"
bash "$peers" | tee "$log"
raw=$(sed -n 's/^raw: //p' "$log" | tail -n 1)
[ -n "$raw" ] || { echo "the harness named no raw results file" >&2; exit 1; }
echo
python3 "$here/per_core.py" "$raw" "$BASELINE"
