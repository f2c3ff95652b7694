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
)
# kubectl renders deploy/'s kustomize overlays in the tests; any kubectl will do
# (some images ship their own, which Debian's package would clash with).
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nsd's Debian service would grab port 53; meshdns's demo and tests start their own copies.
if command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now nsd >/dev/null 2>&1 || true
fi
$sudo pkill -x nsd >/dev/null 2>&1 || true
