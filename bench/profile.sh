#!/usr/bin/env bash
# Profiles the gost-ts pair under one load: both tunnel processes run with --cpu-prof, the Go load
# tool drives them, and bench/profile-summary.ts prints where each spent its busy time.
#   bench/profile.sh bulk-down -size 1073741824
#   bench/profile.sh rate -count 5000 -concurrency 50
#   RTCP=socks5 bench/profile.sh bulk-up -size 1073741824   # a reverse tunnel (socks5 or relay):
#     the server publishes 127.0.0.1:19080 for an rtcp client, the load tool dials it directly
# Needs `npm run build` and the Go peer (scripts/setup.sh --with-go). Ports 19000/19080/19443.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: bench/profile.sh MODE [go-peer load flags]}
shift
peer=.cache/go-peer/go-peer
out=bench-results/prof/$(date +%Y%m%dT%H%M%S)-$mode
mkdir -p "$out"
"$peer" target -listen 127.0.0.1:19000 >/dev/null 2>&1 &
target=$!
if [ -n "${RTCP:-}" ]; then
  serve=(-L "$RTCP+mws://127.0.0.1:19443?path=/ws&bind=true")
  front=(-L rtcp://127.0.0.1:19080/127.0.0.1:19000 -F "$RTCP+mws://127.0.0.1:19443?path=/ws")
  via=(-target 127.0.0.1:19080)
else
  serve=(-L 'http+mws://127.0.0.1:19443?path=/ws')
  front=(-L 127.0.0.1:19080 -F 'http+mws://127.0.0.1:19443?path=/ws')
  via=(-proxy 127.0.0.1:19080 -target 127.0.0.1:19000)
fi
node --cpu-prof --cpu-prof-dir="$out/server" dist/cli/main.js "${serve[@]}" 2>/dev/null &
server=$!
node --cpu-prof --cpu-prof-dir="$out/client" dist/cli/main.js "${front[@]}" 2>/dev/null &
client=$!
trap 'kill $target $server $client 2>/dev/null || true' EXIT
sleep 2.5
"$peer" load -mode "$mode" "${via[@]}" "$@"
# SIGINT lets node write its profile on the way out.
kill -INT $client $server
wait $client $server 2>/dev/null || true
for side in client server; do
  echo "== $side"
  node --import tsx bench/profile-summary.ts "$out/$side"
done
