#!/usr/bin/env bash
# Brings a fresh checkout to a runnable state; safe to run again (each step is skipped when done).
#   scripts/setup.sh            npm packages + build
#   scripts/setup.sh --with-go  also GOST v3.2.6 and the Go interop peer (Go >= 1.24 from /usr/local/go, modules
#                               from the Go module proxy), and curl for the tests
set -euo pipefail
cd "$(dirname "$0")/.."
# Progress goes to stderr so commands like `npm run bench -- --json` keep stdout clean.
exec 1>&2

with_go=0
[ "${1:-}" = "--with-go" ] && with_go=1

# Debian packages the tests drive as real peers or tools (curl as the application).
apt_needed=()
if [ "$with_go" = 1 ]; then
  command -v curl >/dev/null 2>&1 || apt_needed+=(curl)
  # The browser dialer's tests run Debian's headless Chromium; the proxy tests run nginx in front.
  [ -x /usr/bin/chromium ] || apt_needed+=(chromium)
  [ -x /usr/sbin/nginx ] || apt_needed+=(nginx)
  # The fault matrix: network namespaces (ip), packet drops and resets (iptables), and an
  # application that reads with plain recv(2) (python3).
  command -v ip >/dev/null 2>&1 || apt_needed+=(iproute2)
  command -v iptables >/dev/null 2>&1 || apt_needed+=(iptables)
  command -v python3 >/dev/null 2>&1 || apt_needed+=(python3)
fi
if [ "${#apt_needed[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${apt_needed[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${apt_needed[@]}" >/dev/null
  else
    echo "setup: ERROR: ${apt_needed[*]} missing and cannot be installed here (needs root + apt-get)" >&2
    exit 1
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

if [ "$with_go" = 1 ]; then
  # GOST itself (the peer of the interop tests and a column of the benchmark) and the Go peer
  # built on GOST's libraries; both from the Go module proxy at pinned versions. A failure here
  # fails setup: the interop suite never runs without its peers.
  bash test/interop/gost/build.sh
  bash test/interop/go-peer/build.sh
fi
