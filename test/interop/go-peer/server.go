package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/gorilla/websocket"
	"github.com/xtaci/smux"
)

type serverOpts struct {
	listen      string
	path        string
	useTLS      bool
	certFile    string
	keyFile     string
	handler     string
	mux         muxFlags
	compression bool
	auth        string
	headers     headerList
	backlog     int
}

func parseServer(args []string) func() error {
	var o serverOpts
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&o.path, "path", "/ws", "WebSocket path (the only http.ServeMux pattern)")
	fs.BoolVar(&o.useTLS, "tls", false, "serve mwss (TLS); self-signed cert unless -cert/-key")
	fs.StringVar(&o.certFile, "cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&o.keyFile, "key", "", "TLS key file (PEM)")
	fs.StringVar(&o.handler, "handler", "http", "stream handler: http (GOST http handler) or echo")
	o.mux.register(fs)
	fs.BoolVar(&o.compression, "compression", false, "accept permessage-deflate")
	fs.StringVar(&o.auth, "auth", "", "user:pass required in Proxy-Authorization (http handler)")
	fs.Var(&o.headers, "header", "'Name: value' added to the 101 reply (repeatable)")
	fs.IntVar(&o.backlog, "backlog", 128, "queue of accepted, not yet handled streams; overflow closes the stream")
	_ = fs.Parse(args)
	return func() error { return runServer(&o) }
}

func runServer(o *serverOpts) error {
	if o.handler != "http" && o.handler != "echo" {
		return fmt.Errorf("unknown -handler %q", o.handler)
	}
	hdrs, err := o.headers.parse()
	if err != nil {
		return err
	}
	respHeader := http.Header{}
	for _, h := range hdrs {
		respHeader.Add(h[0], h[1])
	}
	backlog := o.backlog
	if backlog <= 0 {
		backlog = 128
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	if o.useTLS {
		// GOST terminates TLS in its own listener wrapper before the HTTP server: HTTP/1.1 only,
		// no ALPN (so no HTTP/2), Go's default versions.
		cert, err := loadOrGenerateCert(o.certFile, o.keyFile)
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	}

	s := &server{
		opts:     o,
		cfg:      o.mux.config(),
		upgrader: websocket.Upgrader{EnableCompression: o.compression, CheckOrigin: func(*http.Request) bool { return true }},
		respHdr:  respHeader,
		queue:    make(chan *smux.Stream, backlog),
	}
	// Like GOST's mws listener: accepted streams of all sessions go through one bounded queue that
	// the service's accept loop drains, starting one handler goroutine per stream.
	go func() {
		for st := range s.queue {
			go s.handleStream(st)
		}
	}()

	// A plain net/http server whose ServeMux has only the configured path (404 elsewhere, 301 for
	// unclean paths), exactly as in GOST's listener.
	mux := http.NewServeMux()
	mux.HandleFunc(o.path, s.upgrade)
	srv := &http.Server{Handler: mux}

	emit("LISTEN", ln.Addr().String())
	return srv.Serve(ln)
}

type server struct {
	opts     *serverOpts
	cfg      *smux.Config
	upgrader websocket.Upgrader
	respHdr  http.Header
	queue    chan *smux.Stream
}

func (s *server) upgrade(w http.ResponseWriter, r *http.Request) {
	c, err := s.upgrader.Upgrade(w, r, s.respHdr)
	if err != nil {
		// gorilla has already written the 400/405 reply (or closed the connection).
		logf("upgrade from %s failed: %v", r.RemoteAddr, err)
		return
	}
	// Report the request headers (Go strips Host from r.Header, so add it back) for header tests.
	h := map[string][]string{}
	for k, v := range r.Header {
		h[k] = v
	}
	h["Host"] = []string{r.Host}
	js, _ := json.Marshal(h)
	emit("UPGRADE", string(js))

	conn := newWSConn(c)
	sess, err := smux.Server(conn, s.cfg)
	if err != nil {
		// Invalid mux config: GOST just closes the connection after the 101.
		logf("smux server: %v", err)
		conn.Close()
		return
	}
	go s.serveSession(&sessionInfo{sess: sess, conn: conn})
}

func (s *server) serveSession(si *sessionInfo) {
	emit("SESSION_OPEN", si.conn.RemoteAddr().String())
	go si.watch()
	for {
		st, err := si.sess.AcceptStream()
		if err != nil {
			// GOST's listener closes the session (and TCP) when accepting fails, e.g. on a protocol
			// error (bad version byte or cmd) or a read error.
			if !si.sess.IsClosed() {
				si.closeWith("accept: " + err.Error())
			}
			return
		}
		id := strconv.FormatUint(uint64(st.ID()), 10)
		emit("STREAM_OPEN", id)
		select {
		case s.queue <- st:
		default:
			// Backlog full: close at once, so the peer sees only a FIN.
			emit("STREAM_REJECTED", id)
			st.Close()
			emit("STREAM_CLOSED", id)
		}
	}
}

func (s *server) handleStream(st *smux.Stream) {
	defer func() {
		st.Close()
		emit("STREAM_CLOSED", strconv.FormatUint(uint64(st.ID()), 10))
	}()
	switch s.opts.handler {
	case "echo":
		// Raw smux tests: echo every byte back until the peer's FIN.
		_, _ = io.Copy(st, st)
	default:
		if err := serveHTTPProxy(st, s.opts.auth); err != nil && !errors.Is(err, io.EOF) {
			logf("stream %d: %v", st.ID(), err)
		}
	}
}
