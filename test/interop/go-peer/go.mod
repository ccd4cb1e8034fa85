module gostpeer

go 1.24.0

// The versions GOST v3.2.6 links (go-gost/x v0.8.1's go.mod).
require (
	github.com/gorilla/websocket v1.5.3
	github.com/xtaci/smux v1.5.31
)
