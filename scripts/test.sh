#!/usr/bin/env bash
# Runs every test file (or the ones given) with node's test runner.
# With CI=true a skipped or todo test fails the run: a skipped interop test is not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then
  files=("$@")
else
  # The whole suite also checks types, lint and formatting, so CI holds every commit to them.
  echo "test: typecheck, lint, format" >&2
  npx --no-install tsc -p tsconfig.json --noEmit
  npx --no-install tsc -p src/browser/tsconfig.json --noEmit
  npx --no-install eslint .
  npx --no-install prettier --check . >/dev/null
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
mkdir -p .cache
tap=.cache/test-results.tap
set +e
node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" --test-timeout=300000 "${files[@]}"
rc=$?
set -e
skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
todo=$(sed -n 's/^# todo \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
if [ "${CI:-}" = true ] && [ "${skipped:-0}" != 0 -o "${todo:-0}" != 0 ]; then
  echo "test: FAILED: with CI=true nothing may be skipped (skipped ${skipped:-0}, todo ${todo:-0}):" >&2
  grep -E '# (SKIP|TODO)' "$tap" | sed 's/^/  /' >&2
  exit 1
fi
exit "$rc"
