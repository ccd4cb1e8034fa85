#!/usr/bin/env bash
# Runs every test file (or the ones given) with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
exec node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
