#!/usr/bin/env bash
# Runs every test file (or the ones given) with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  # The whole suite also checks types, lint and formatting, so CI holds every commit to them.
  echo "test: typecheck, lint, format" >&2
  npx --no-install tsc -p tsconfig.json --noEmit
  npx --no-install eslint .
  npx --no-install prettier --check . >/dev/null
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
exec node --import tsx --test --test-reporter=spec --test-timeout=300000 "${files[@]}"
