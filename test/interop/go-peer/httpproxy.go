package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Exact reply bytes of GOST's http handler (facts §4.2). Each is sent with a single Write, so it
// travels as its own smux PSH frame (a GOST client would lose payload coalesced with the 200).
const (
	replyConnectOK   = "HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n"
	replyDialFailed  = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n"
	replyBadRequest  = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
	replyAuthKeep    = "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm=\"gost\"\r\nProxy-Connection: close\r\n\r\n"
	replyAuthNoKeep  = "HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm=\"gost\"\r\n\r\n"
	replyForwardFail = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"
)

const dialTimeout = 10 * time.Second

// relayBufSize matches GOST's relay chunk: bulk data becomes 32 KiB PSH frames.
const relayBufSize = 32 * 1024

// relay copies both ways until one direction ends, then closes both ends. This is GOST's
// xnet.Transport + deferred closes: smux streams are never half-closed.
func relay(a, b io.ReadWriteCloser) {
	done := make(chan struct{}, 2)
	cp := func(dst io.Writer, src io.Reader) {
		_, _ = io.CopyBuffer(dst, src, make([]byte, relayBufSize))
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
}

// withDefaultPort adds :80 to a host without a port (GOST does the same for CONNECT targets).
func withDefaultPort(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// prepareOriginForm rewrites a proxy request so Request.Write emits it in origin form
// (`GET /path HTTP/1.1`) with `Connection: close` (GOST keeps no upstream keep-alive by default).
func prepareOriginForm(req *http.Request) {
	for _, h := range []string{"Proxy-Connection", "Proxy-Authorization", "Connection", "Keep-Alive"} {
		req.Header.Del(h)
	}
	req.RequestURI = ""
	req.Close = true
}

// checkBasicAuth reports whether the request carries `Proxy-Authorization: Basic` for want (user:pass).
func checkBasicAuth(req *http.Request, want string) bool {
	v := req.Header.Get("Proxy-Authorization")
	const prefix = "Basic "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[len(prefix):]))
	return err == nil && string(dec) == want
}

// serveHTTPProxy is the server-side stream handler (GOST's handler/http, CONNECT and plain HTTP).
// The caller closes the stream afterwards.
func serveHTTPProxy(conn net.Conn, auth string) error {
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		// Unparsable request: GOST closes the stream without a reply.
		return fmt.Errorf("read request: %w", err)
	}

	if auth != "" && !checkBasicAuth(req, auth) {
		reply := replyAuthNoKeep
		if strings.EqualFold(strings.TrimSpace(req.Header.Get("Proxy-Connection")), "keep-alive") {
			reply = replyAuthKeep
		}
		_, err := io.WriteString(conn, reply)
		return err
	}

	if req.Method == http.MethodConnect {
		target := withDefaultPort(req.Host)
		tc, err := net.DialTimeout("tcp", target, dialTimeout)
		if err != nil {
			_, _ = io.WriteString(conn, replyDialFailed)
			return fmt.Errorf("dial %s: %w", target, err)
		}
		defer tc.Close()
		if _, err := io.WriteString(conn, replyConnectOK); err != nil {
			return err
		}
		// Bytes the app pipelined behind the CONNECT head are already in br: forward them first.
		if n := br.Buffered(); n > 0 {
			buf, _ := br.Peek(n)
			if _, err := tc.Write(buf); err != nil {
				return err
			}
		}
		relay(conn, tc)
		return nil
	}

	// Plain HTTP proxy request: only absolute http:// URLs are forwarded.
	if req.URL.Scheme != "http" || req.URL.Host == "" {
		_, err := io.WriteString(conn, replyBadRequest)
		return err
	}
	target := withDefaultPort(req.URL.Host)
	tc, err := net.DialTimeout("tcp", target, dialTimeout)
	if err != nil {
		_, _ = io.WriteString(conn, replyForwardFail)
		return fmt.Errorf("dial %s: %w", target, err)
	}
	defer tc.Close()
	prepareOriginForm(req)
	if err := req.Write(tc); err != nil {
		_, _ = io.WriteString(conn, replyForwardFail)
		return err
	}
	// With Connection: close the origin ends the response by closing; copy it back verbatim.
	_, err = io.CopyBuffer(conn, tc, make([]byte, relayBufSize))
	return err
}

// tunnelConnect is GOST's http connector: one CONNECT request written into the stream, then the
// reply parsed through a throw-away bufio.Reader (so payload coalesced with the 200 would be lost,
// like in GOST). Anything but 200 is an error.
func tunnelConnect(conn net.Conn, target string, auth string) error {
	req := &http.Request{
		Method:     http.MethodConnect,
		URL:        &url.URL{Host: target},
		Host:       target,
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
	}
	req.Header.Set("Proxy-Connection", "keep-alive")
	if auth != "" {
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(auth)))
	}
	if err := req.Write(conn); err != nil {
		return fmt.Errorf("write CONNECT: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return fmt.Errorf("read CONNECT reply: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
