module gostpeer

go 1.19

require (
	github.com/gorilla/websocket v1.5.0
	github.com/xtaci/smux v1.5.16
)

// Offline build: the libraries come from Debian's golang-*-dev packages, never from the network.
replace (
	github.com/gorilla/websocket => /usr/share/gocode/src/github.com/gorilla/websocket
	github.com/xtaci/smux => /usr/share/gocode/src/github.com/xtaci/smux
)
