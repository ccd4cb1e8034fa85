#!/usr/bin/env bash
# Brings a fresh checkout to a runnable state; safe to run again (each step is skipped when done).
#   scripts/setup.sh            npm packages + build
#   scripts/setup.sh --with-go  also the Go toolchain and the smux/websocket sources of the interop peer
set -euo pipefail
cd "$(dirname "$0")/.."
# Progress goes to stderr so commands like `npm run bench -- --json` keep stdout clean.
exec 1>&2

with_go=0
[ "${1:-}" = "--with-go" ] && with_go=1

go_libs_present() {
  command -v go >/dev/null 2>&1 &&
    [ -d /usr/share/gocode/src/github.com/xtaci/smux ] &&
    [ -d /usr/share/gocode/src/github.com/gorilla/websocket ]
}

if [ "$with_go" = 1 ] && ! go_libs_present; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing golang-go and the Go smux/websocket packages (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q golang-go golang-github-xtaci-smux-dev golang-github-gorilla-websocket-dev >/dev/null
  else
    echo "setup: WARNING: Go and its smux/websocket packages are missing and cannot be installed here" >&2
    echo "setup: WARNING: (needs root + apt-get); interop tests will be SKIPPED" >&2
  fi
fi

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.setup-lock-hash
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi

echo "setup: build"
npm run --silent build

if [ "$with_go" = 1 ] && go_libs_present; then
  bash test/interop/go-peer/build.sh
fi
