# Sourced by the Go build scripts: puts a Go new enough for GOST (>= 1.24) first on PATH.
# The machine's Go lives in /usr/local/go; Debian's golang-go (1.19) must not shadow it.
if [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
export PATH GOTOOLCHAIN=local
go_minor=$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 24 ]; then
  echo "go-build: ERROR: Go >= 1.24 is needed (found: $(command -v go >/dev/null && go version || echo none));" >&2
  echo "go-build: install Go from go.dev into /usr/local/go (Debian's golang-go is too old for GOST)" >&2
  exit 1
fi
