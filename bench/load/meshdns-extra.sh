#!/usr/bin/env bash
# The performance targets the peers harness cannot show, on the same upstream
# and the same dnsperf settings (run bench/load/run.sh once first: it writes
# the knot configuration and zone this script reuses):
#   clusterset  cache hits on clusterset CNAME answers (default template, a
#               cluster rewrite behind it) against plain cache hits
#   threads     --threads 1 (pinned to cpu 1) against --threads 2 (both cores),
#               hit and miss workloads
#   corefile    serve --corefile on the CoreDNS equivalent of the YAML (one
#               root block: cache of the same size, forward), hit and miss workloads
# Rounds are interleaved; medians are printed. Loopback only; every dnsperf
# run is bounded by -l. Usage: bench/load/meshdns-extra.sh [rounds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${WORK:-$here/work}
rounds=${1:-3}
secs=${DURATION:-10}
meshdns=$repo/build/meshdns
[ -f "$work/conf/knot.conf" ] || { echo "run bench/load/run.sh first (it writes $work/conf/knot.conf)" >&2; exit 2; }
[ -x "$meshdns" ] || bash "$repo/scripts/build.sh"

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

mkdir -p "$tmp/knot"
sed "s#$work/run/knot#$tmp/knot#g" "$work/conf/knot.conf" > "$tmp/knot.conf"
taskset -c 0 knotd -c "$tmp/knot.conf" -s "$tmp/knot/knot.sock" > "$tmp/knot.log" 2>&1 &
pids+=($!)
sleep 1

# Plain: the harness's 1000 names. Clusterset: 1000 names the default
# template turns into CNAMEs to cluster `local`, whose stripped targets the
# upstream answers from its *.wild.svc.cluster.local wildcard.
cp "$work/data/hit.txt" "$tmp/plain.txt"
for i in $(seq 0 999); do echo "h$i.local.svc$((i % 10)).wild.svc.clusterset.local A"; done > "$tmp/clusterset.txt"

config() {  # config FILE
  cat > "$1" <<EOF
cluster: local
listen: ["127.0.0.1:25300"]
clusters:
  local:
    resolvers: ["127.0.0.1:25353"]
upstream: ["127.0.0.1:25353"]
cache:
  capacity: 1000000
log: {level: warn}
EOF
}
config "$tmp/meshdns.yaml"
cat > "$tmp/Corefile" <<EOF
.:25300 {
    cache 30 {
        success 1000000
    }
    forward . 127.0.0.1:25353 {
        policy round_robin
    }
}
EOF

measure() {  # measure NAME CPUS THREADS DATAFILE WARM [FILE FLAG] -> "NAME qps srv% kq/core"
  local name=$1 cpus=$2 threads=$3 data=$4 warm=$5 file=${6:-$tmp/meshdns.yaml} flag=${7:---config}
  taskset -c "$cpus" "$meshdns" serve "$flag" "$file" --listen 127.0.0.1:25300 --threads "$threads" \
    > "$tmp/$name.log" 2>&1 &
  local pid=$!
  sleep 0.5
  if [ "$warm" = warm ]; then
    taskset -c 0 dnsperf -s 127.0.0.1 -p 25300 -d "$data" -n 2 -l 5 -t 1 > /dev/null 2>&1 || true
  fi
  local t0 t1 qps
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  taskset -c 0 dnsperf -s 127.0.0.1 -p 25300 -d "$data" -t 2 -l "$secs" -c 4 -q 200 -T 2 > "$tmp/dp.txt" 2>&1
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  qps=$(awk '/Queries per second/{print $4}' "$tmp/dp.txt")
  awk -v n="$name" -v q="$qps" -v c="$((t1 - t0))" -v s="$secs" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { srv = c / s / hz * 100; printf "%s %.0f %.0f %.1f\n", n, q, srv, q / 1000 / (srv / 100) }'
}

miss_file() {  # fresh unique names for every miss run
  local r=$RANDOM$RANDOM
  awk -v r="$r" 'BEGIN { for (i = 0; i < 3000000; i++) printf "q%d.r%s.wild.svc.cluster.local A\n", i, r }' > "$tmp/miss.txt"
}

for r in $(seq "$rounds"); do
  echo "round $r/$rounds" >&2
  measure plain-hit 1 1 "$tmp/plain.txt" warm
  measure clusterset-hit 1 1 "$tmp/clusterset.txt" warm
  measure threads1-hit 1 1 "$tmp/plain.txt" warm
  measure threads2-hit 0,1 2 "$tmp/plain.txt" warm
  miss_file; measure threads1-miss 1 1 "$tmp/miss.txt" cold
  miss_file; measure threads2-miss 0,1 2 "$tmp/miss.txt" cold
  measure corefile-hit 1 1 "$tmp/plain.txt" warm "$tmp/Corefile" --corefile
  miss_file; measure corefile-miss 1 1 "$tmp/miss.txt" cold "$tmp/Corefile" --corefile
done > "$tmp/raw.txt"

echo "case             qps(med)  srv%(med)  kq/core(med)   (${rounds} rounds, ${secs}s each, dnsperf -c 4 -q 200 -T 2 on cpu 0)"
for name in plain-hit clusterset-hit threads1-hit threads2-hit threads1-miss threads2-miss corefile-hit corefile-miss; do
  grep "^$name " "$tmp/raw.txt" | awk -v n="$name" '
    { q[NR] = $2; s[NR] = $3; k[NR] = $4 }
    function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
    END { printf "%-16s %8.0f  %9.0f  %12.1f\n", n, med(q, NR), med(s, NR), med(k, NR) }'
done
