#!/usr/bin/env bash
# Builds the Go interop peer (GOST's own libraries, wired for frame-level faults and exact timing)
# to .cache/go-peer/go-peer, with xtaci/smux and gorilla/websocket from the Go module proxy at the
# versions GOST v3.2.6 pins. Rebuilt only when a source file, go.mod, go.sum or Go itself changes.
set -euo pipefail
src_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$src_dir/../../.." && pwd)"
exec bash "$root/scripts/go-build.sh" "$src_dir" "$root/.cache/go-peer/go-peer"
