#!/usr/bin/env bash
# Rewrites tests/config/corefiles/real/EXPECTED's lines with what meshdns does
# now (its header is kept): run after a change that makes corpus files load or
# fail differently, then read the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
expected=tests/config/corefiles/real/EXPECTED
lines="$(mktemp)"
trap 'rm -f "$lines"' EXIT
MESHDNS_PRINT_CORPUS=1 build/tests/corefile_real_corpus_test 2>"$lines" >/dev/null || true
grep -q '\.Corefile' "$lines" || { echo "no corpus lines printed (is build/tests/corefile_real_corpus_test built?)" >&2; exit 1; }
{ grep '^#' "$expected"; grep '\.Corefile' "$lines"; } >"$expected.new"
mv "$expected.new" "$expected"
