#!/usr/bin/env bash
# Installs everything meshdns needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are left alone, apt is only asked for the rest.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libldns-dev libboost-dev libre2-dev libyaml-cpp-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev                  # libFuzzer targets (scripts/fuzz.sh)
  nsd bind9-dnsutils python3 python3-dnspython python3-prometheus-client python3-yaml iproute2 procps
  prometheus                                # promtool checks deploy/monitoring's alert rules
)
# node runs tests/deploy's schema check of `meshdns manifests`; any node >= 14
# will do (some machines have their own, which Debian's package would clash with).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # nsd's Debian service would grab port 53, prometheus's 9090; meshdns's demo
  # and tests start their own nsd and need only prometheus's promtool.
  if command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl disable --now nsd prometheus >/dev/null 2>&1 || true
  fi
  [ -x /etc/init.d/prometheus ] && { $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true; }
  $sudo pkill -x nsd >/dev/null 2>&1 || true
fi

# The schema packages of tests/deploy, exactly as package-lock.json pins them;
# the tests themselves never download.
deploy_tests="$(dirname "$0")/../tests/deploy"
if [ ! -e "$deploy_tests/node_modules/.package-lock.json" ] || \
   [ "$deploy_tests/package-lock.json" -nt "$deploy_tests/node_modules/.package-lock.json" ]; then
  (cd "$deploy_tests" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
