#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds, starts a
# three-cluster mesh on loopback (nsd as each cluster's kube-dns, meshdns in
# front of each) and prints the contract's dig matrix. Keeps serving until
# Ctrl-C; with --check it exits after the matrix, non-zero if a cell failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec /usr/bin/python3 scripts/demo.py "$@"
