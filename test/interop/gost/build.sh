#!/usr/bin/env bash
# Builds GOST v3.2.6 (see main.go for why it is built from go-gost/x and go-gost/core) to
# .cache/gost/gost. The modules come from the Go module proxy at the versions go.sum pins.
# Rebuilt only when a source file, go.mod, go.sum or the Go version changes (a stamp of their hash).
set -euo pipefail
src_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$src_dir/../../.." && pwd)"
exec bash "$root/scripts/go-build.sh" "$src_dir" "$root/.cache/gost/gost"
