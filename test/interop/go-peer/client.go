package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/xtaci/smux"
)

// Replies of GOST's local http handler to the app (same handler code as on the server side).
const (
	replyAppConnectOK = replyConnectOK
	replyAppFailed    = replyDialFailed
)

type clientOpts struct {
	listen          string
	server          string
	useTLS          bool
	path            string
	host            string
	headers         headerList
	mux             muxFlags
	compression     bool
	writeBufferSize int
	wsKeepalive     time.Duration
	forward         string
	auth            string
}

func parseClient(args []string) func() error {
	var o clientOpts
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "local TCP address for apps")
	fs.StringVar(&o.server, "server", "", "mws server HOST:PORT (required); the TCP dial always goes here")
	fs.BoolVar(&o.useTLS, "tls", false, "mwss: TLS without certificate verification")
	fs.StringVar(&o.path, "path", "/ws", "WebSocket path")
	fs.StringVar(&o.host, "host", "", "URL host / Host header (default: -server verbatim)")
	fs.Var(&o.headers, "header", "'Name: value' added to the upgrade request (repeatable)")
	o.mux.register(fs)
	fs.BoolVar(&o.compression, "compression", false, "offer permessage-deflate")
	fs.IntVar(&o.writeBufferSize, "write-buffer-size", 4096, "gorilla write buffer = client fragment size")
	fs.DurationVar(&o.wsKeepalive, "ws-keepalive", 0, "WebSocket ping interval (0 = no pings); read deadline 2x, extended by pongs only")
	fs.StringVar(&o.forward, "forward", "", "port-forward every local connection to host:port through the tunnel")
	fs.StringVar(&o.auth, "auth", "", "user:pass sent as Proxy-Authorization on the tunnel CONNECT")
	_ = fs.Parse(args)
	return func() error { return runClient(&o) }
}

type client struct {
	opts   *clientOpts
	cfg    *smux.Config
	dialer websocket.Dialer
	wsURL  string
	reqHdr http.Header

	mu   sync.Mutex
	sess *sessionInfo // the one shared session, dialed lazily
}

func runClient(o *clientOpts) error {
	if o.server == "" {
		return errors.New("client: -server is required")
	}
	hdrs, err := o.headers.parse()
	if err != nil {
		return err
	}
	reqHdr := http.Header{}
	for _, h := range hdrs {
		reqHdr.Add(h[0], h[1])
	}

	// URL host = -host if set, else the server address verbatim (so `:8443` gives `Host: :8443`).
	urlHost := o.server
	if o.host != "" {
		urlHost = o.host
	}
	scheme := "ws"
	if o.useTLS {
		scheme = "wss"
	}
	path := o.path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := url.URL{Scheme: scheme, Host: urlHost, Path: path}

	c := &client{opts: o, cfg: o.mux.config(), wsURL: u.String(), reqHdr: reqHdr}
	c.dialer = websocket.Dialer{
		HandshakeTimeout:  10 * time.Second,
		WriteBufferSize:   o.writeBufferSize,
		EnableCompression: o.compression,
		// GOST dials the node address itself, whatever the URL host says.
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", o.server)
		},
	}
	if o.useTLS {
		// SNI = host part of the node address, or of -host when that is empty (`:8443`); Go never
		// sends IP literals as SNI. Verification is off, like GOST without secure=true.
		sni, _, err := net.SplitHostPort(o.server)
		if err != nil {
			sni = o.server
		}
		if sni == "" && o.host != "" {
			if h, _, err := net.SplitHostPort(o.host); err == nil {
				sni = h
			} else {
				sni = o.host
			}
		}
		c.dialer.NetDialTLSContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", o.server)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, ServerName: sni})
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return tc, nil
		}
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	emit("LISTEN", ln.Addr().String())
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go c.handleLocal(conn)
	}
}

// dialSession does TCP [+TLS] + WebSocket upgrade + smux client, like GOST's mws dialer.
func (c *client) dialSession() (*sessionInfo, error) {
	ws, resp, err := c.dialer.Dial(c.wsURL, c.reqHdr)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial %s: %w (status %s)", c.wsURL, err, resp.Status)
		}
		return nil, fmt.Errorf("websocket dial %s: %w", c.wsURL, err)
	}
	conn := newWSConn(ws)
	if iv := c.opts.wsKeepalive; iv > 0 {
		// Pings every interval; only a pong pushes the read deadline forward, so a peer that never
		// answers pings kills the session after 2x interval even while data flows.
		_ = ws.SetReadDeadline(time.Now().Add(2 * iv))
		ws.SetPongHandler(func(string) error {
			return ws.SetReadDeadline(time.Now().Add(2 * iv))
		})
	}
	sess, err := smux.Client(conn, c.cfg)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smux client: %w", err)
	}
	si := &sessionInfo{sess: sess, conn: conn}
	emit("SESSION_OPEN", ws.RemoteAddr().String())
	go si.watch()
	if iv := c.opts.wsKeepalive; iv > 0 {
		go c.pinger(si, iv)
	}
	return si, nil
}

// pinger sends an empty Ping every interval; a failed ping write closes the session.
func (c *client) pinger(si *sessionInfo, iv time.Duration) {
	t := time.NewTicker(iv)
	defer t.Stop()
	for range t.C {
		if si.sess.IsClosed() {
			return
		}
		if err := si.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(iv)); err != nil {
			si.closeWith("ping failed: " + err.Error())
			return
		}
	}
}

// openStream returns a new stream on the shared session, dialing a session if there is none or it
// is closed. A failed open closes the session, so the next connection redials (GOST behaviour:
// one failed request after the server went away, then recovery).
func (c *client) openStream() (*smux.Stream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil || c.sess.sess.IsClosed() {
		si, err := c.dialSession()
		if err != nil {
			return nil, err
		}
		c.sess = si
	}
	st, err := c.sess.sess.OpenStream()
	if err != nil {
		c.sess.closeWith("stream open failed: " + err.Error())
		c.sess = nil
		return nil, err
	}
	return st, nil
}

// tunnel opens a stream and performs the CONNECT to target on it.
func (c *client) tunnel(target string) (*smux.Stream, error) {
	st, err := c.openStream()
	if err != nil {
		return nil, err
	}
	if err := tunnelConnect(st, target, c.opts.auth); err != nil {
		st.Close()
		return nil, fmt.Errorf("CONNECT %s: %w", target, err)
	}
	return st, nil
}

func (c *client) handleLocal(conn net.Conn) {
	defer conn.Close()
	if c.opts.forward != "" {
		// Port forward (GOST's tcp handler): every connection becomes a CONNECT to the fixed target.
		st, err := c.tunnel(c.opts.forward)
		if err != nil {
			logf("forward: %v", err)
			return
		}
		relay(conn, st)
		return
	}

	// HTTP proxy front end (GOST's local http handler).
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		logf("local request: %v", err)
		return
	}

	if req.Method == http.MethodConnect {
		st, err := c.tunnel(withDefaultPort(req.Host))
		if err != nil {
			logf("%v", err)
			_, _ = io.WriteString(conn, replyAppFailed)
			return
		}
		if _, err := io.WriteString(conn, replyAppConnectOK); err != nil {
			st.Close()
			return
		}
		// Forward bytes the app pipelined behind its CONNECT, then relay raw.
		if n := br.Buffered(); n > 0 {
			buf, _ := br.Peek(n)
			if _, err := st.Write(buf); err != nil {
				st.Close()
				return
			}
		}
		relay(conn, st)
		return
	}

	if req.URL.Scheme != "http" || req.URL.Host == "" {
		_, _ = io.WriteString(conn, replyBadRequest)
		return
	}
	st, err := c.tunnel(withDefaultPort(req.URL.Host))
	if err != nil {
		logf("%v", err)
		_, _ = io.WriteString(conn, replyForwardFail)
		return
	}
	defer st.Close()
	prepareOriginForm(req)
	if err := req.Write(st); err != nil {
		logf("forward request: %v", err)
		return
	}
	// The origin closes after its response (Connection: close), which ends the stream.
	_, _ = io.CopyBuffer(conn, st, make([]byte, relayBufSize))
}
