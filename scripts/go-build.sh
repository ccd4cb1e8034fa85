#!/usr/bin/env bash
# go-build.sh SRC_DIR OUT_BINARY — builds one Go main module with the module proxy's pinned
# modules (go.sum), skipping the build when the stamp beside the binary matches the hash of the
# sources, go.mod, go.sum and `go version` (so a library bump or a new Go rebuilds it).
set -euo pipefail
src_dir="$1"
bin="$2"
stamp="$bin.stamp"
# shellcheck source=scripts/go-env.sh
. "$(dirname "$0")/go-env.sh"

want=$( (
  cd "$src_dir"
  go version
  sha256sum go.mod go.sum ./*.go
) | sha256sum | cut -d' ' -f1)
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
mkdir -p "$(dirname "$bin")"
cd "$src_dir"
echo "go-build: building $bin ($(go version | cut -d' ' -f3))" >&2
# -mod=readonly: go.mod/go.sum are the pins; a missing sum fails instead of silently updating.
GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$bin.tmp.$$" .
mv -f "$bin.tmp.$$" "$bin"
echo "$want" >"$stamp"
