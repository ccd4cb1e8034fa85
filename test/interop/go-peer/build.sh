#!/usr/bin/env bash
# Builds the Go interop peer to .cache/go-peer/go-peer (relative to the repository root), offline:
# the smux/websocket sources come from Debian's /usr/share/gocode/src via go.mod `replace` lines.
# Skips the build when the binary is newer than every .go file and go.mod.
set -euo pipefail
src_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$src_dir/../../.." && pwd)"
out_dir="$root/.cache/go-peer"
bin="$out_dir/go-peer"

if ! command -v go >/dev/null 2>&1; then
  echo "go-peer build: ERROR: the 'go' toolchain is not installed (need Go >= 1.19 and Debian's" >&2
  echo "go-peer build: golang-github-xtaci-smux-dev + golang-github-gorilla-websocket-dev; see scripts/setup.sh --with-go)" >&2
  exit 1
fi
for lib in github.com/xtaci/smux github.com/gorilla/websocket; do
  if [ ! -d "/usr/share/gocode/src/$lib" ]; then
    echo "go-peer build: ERROR: /usr/share/gocode/src/$lib is missing (install its golang-*-dev package)" >&2
    exit 1
  fi
done

if [ -x "$bin" ]; then
  newer=$(find "$src_dir" -maxdepth 1 \( -name '*.go' -o -name go.mod \) -newer "$bin" | head -n 1)
  if [ -z "$newer" ]; then
    exit 0
  fi
fi

mkdir -p "$out_dir" "$root/.cache/go-build" "$root/.cache/gopath"
cd "$src_dir"
export GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOCACHE="$root/.cache/go-build" GOPATH="$root/.cache/gopath"
# Build to a temporary name and rename, so a concurrent reader never sees a half-written binary.
go build -trimpath -o "$bin.tmp.$$" .
mv -f "$bin.tmp.$$" "$bin"
echo "go-peer build: built $bin" >&2
