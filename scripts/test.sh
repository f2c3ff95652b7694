#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian packages only),
# builds, and runs every test: unit tests, then the integration tests that
# start real nsd and meshdns processes on 127.0.0.0/8.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
