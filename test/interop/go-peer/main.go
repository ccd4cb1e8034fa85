// Command go-peer is the Go interop peer of the gost-ts test suite.
//
// It wires the real Go libraries GOST v3 uses (gorilla/websocket + xtaci/smux) the same way GOST's
// `mws`/`mwss` dialer and listener and its `http` connector/handler do, so the TypeScript
// implementation can be tested against them. It is NOT GOST itself: only the parts that matter on the
// wire are reproduced (see /work/shared/docs/gost-mws-facts.md, sections 2-4).
//
//	go-peer server -listen 127.0.0.1:0 [flags]   WebSocket+smux server, streams go to an HTTP proxy handler
//	go-peer client -listen 127.0.0.1:0 -server HOST:PORT [flags]
//	                                            local TCP proxy whose connections ride one smux session
//	go-peer target -listen 127.0.0.1:0           benchmark sink/source/echo server (target.go)
//	go-peer load -target HOST:PORT -mode M [-proxy HOST:PORT] [flags]
//	                                            benchmark load generator (load.go)
//
// Machine-readable events are printed to stdout, one line each (see emit); errors go to stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xtaci/smux"
)

// stdoutMu keeps event lines whole when several goroutines emit at once. os.Stdout is unbuffered,
// so every line is flushed as soon as it is written (the test helper waits on these lines).
var stdoutMu sync.Mutex

// emit prints one event line: "<EVENT> <detail>".
func emit(event string, detail string) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	// Details are single-line by contract: tests match lines with regular expressions.
	detail = strings.NewReplacer("\r", " ", "\n", " ").Replace(detail)
	fmt.Fprintf(os.Stdout, "%s %s\n", event, detail)
}

// logf writes a diagnostic line to stderr.
func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-peer: "+format+"\n", args...)
}

// headerList is a repeatable `-header 'Name: value'` flag.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// parse splits every entry into name and value; a malformed entry is a usage error.
func (h headerList) parse() ([][2]string, error) {
	out := make([][2]string, 0, len(h))
	for _, e := range h {
		i := strings.IndexByte(e, ':')
		if i <= 0 {
			return nil, fmt.Errorf("bad -header %q (want 'Name: value')", e)
		}
		out = append(out, [2]string{strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:])})
	}
	return out, nil
}

// muxFlags are the smux knobs shared by both modes (GOST's `mux.*` metadata).
type muxFlags struct {
	version           int
	keepaliveDisabled bool
	keepaliveInterval time.Duration
	keepaliveTimeout  time.Duration
	maxFrameSize      int
	maxReceiveBuffer  int
	maxStreamBuffer   int
}

func (m *muxFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&m.version, "mux-version", 1, "smux protocol version (1 or 2); must match the peer")
	fs.BoolVar(&m.keepaliveDisabled, "keepalive-disabled", false, "disable smux NOP sending and dead-session checks")
	fs.DurationVar(&m.keepaliveInterval, "keepalive-interval", 10*time.Second, "smux NOP interval")
	fs.DurationVar(&m.keepaliveTimeout, "keepalive-timeout", 30*time.Second, "smux dead-session check period")
	fs.IntVar(&m.maxFrameSize, "max-frame-size", 32768, "max PSH payload")
	fs.IntVar(&m.maxReceiveBuffer, "max-receive-buffer", 4194304, "session receive budget")
	fs.IntVar(&m.maxStreamBuffer, "max-stream-buffer", 65536, "per-stream window (v2)")
}

// config mirrors GOST's internal/util/mux: start from smux.DefaultConfig() and override a field only
// when the configured value is > 0 (booleans pass through). Validation is left to smux.Server/Client,
// so an invalid config fails after the WebSocket upgrade exactly like GOST.
func (m *muxFlags) config() *smux.Config {
	c := smux.DefaultConfig()
	c.KeepAliveDisabled = m.keepaliveDisabled
	if m.version > 0 {
		c.Version = m.version
	}
	if m.keepaliveInterval > 0 {
		c.KeepAliveInterval = m.keepaliveInterval
	}
	if m.keepaliveTimeout > 0 {
		c.KeepAliveTimeout = m.keepaliveTimeout
	}
	if m.maxFrameSize > 0 {
		c.MaxFrameSize = m.maxFrameSize
	}
	if m.maxReceiveBuffer > 0 {
		c.MaxReceiveBuffer = m.maxReceiveBuffer
	}
	if m.maxStreamBuffer > 0 {
		c.MaxStreamBuffer = m.maxStreamBuffer
	}
	return c
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: go-peer server|client|target|load [flags]   (go-peer server -h / go-peer client -h for flags)")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var run func() error
	switch os.Args[1] {
	case "server":
		run = parseServer(os.Args[2:])
	case "client":
		run = parseClient(os.Args[2:])
	case "target":
		run = parseTarget(os.Args[2:])
	case "load":
		run = parseLoad(os.Args[2:])
	default:
		usage()
	}

	// Exit cleanly on SIGTERM/SIGINT: the test helper stops peers with SIGTERM. Open sockets are
	// released by the process exit (GOST never sends a WebSocket Close frame either).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		logf("got %v, exiting", s)
		os.Exit(0)
	}()

	// The test helper sets GO_PEER_EXIT_ON_STDIN_EOF=1 and keeps our stdin open as a pipe: if the test
	// process dies in any way (even SIGKILL), the pipe closes and this peer exits instead of leaking.
	if os.Getenv("GO_PEER_EXIT_ON_STDIN_EOF") == "1" {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			logf("stdin closed (parent gone), exiting")
			os.Exit(0)
		}()
	}

	if err := run(); err != nil {
		logf("%v", err)
		os.Exit(1)
	}
}
