package main

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/xtaci/smux"
)

// wsConn turns a *websocket.Conn into the byte stream smux runs on, like GOST's internal/util/ws:
//   - every Write is exactly one binary message (so every smux frame is one message; a client-side
//     gorilla conn fragments messages larger than its write buffer, a server-side one never does);
//   - Read ignores message boundaries, accepts text and binary messages and skips empty ones.
//
// It also remembers the first read error so a session's end can be reported with a reason.
type wsConn struct {
	*websocket.Conn

	rmu    sync.Mutex // smux has a single reader, but be safe
	reader io.Reader  // current message, nil between messages

	wmu sync.Mutex // gorilla allows one concurrent writer; smux's send loop is one, pings use WriteControl

	emu     sync.Mutex
	readErr error // first read error seen before Close
	closed  bool
}

var _ net.Conn = (*wsConn)(nil)

func newWSConn(c *websocket.Conn) *wsConn { return &wsConn{Conn: c} }

func (c *wsConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.reader == nil {
			// NextReader only returns data messages; control frames are handled inside it.
			_, r, err := c.Conn.NextReader()
			if err != nil {
				c.noteReadErr(err)
				return 0, err
			}
			c.reader = r
		}
		n, err := c.reader.Read(b)
		if err == io.EOF {
			// End of this message: continue with the next one (this also skips empty messages).
			c.reader = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			c.noteReadErr(err)
			return n, err
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (c *wsConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.Conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the TCP connection without a WebSocket Close frame, as GOST does.
func (c *wsConn) Close() error {
	c.emu.Lock()
	c.closed = true
	c.emu.Unlock()
	return c.Conn.Close()
}

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *wsConn) noteReadErr(err error) {
	c.emu.Lock()
	defer c.emu.Unlock()
	if c.readErr == nil && !c.closed {
		c.readErr = err
		// smux 1.5.16 does not close a client session on a read error (the next OpenStream fails
		// instead, as in GOST), so report the error by itself to make it observable.
		emit("SESSION_READ_ERROR", err.Error())
	}
}

// closeReason explains why the connection ended, for SESSION_CLOSED lines.
func (c *wsConn) closeReason() string {
	c.emu.Lock()
	defer c.emu.Unlock()
	if c.readErr != nil {
		return "read error: " + c.readErr.Error()
	}
	// Closed by this side with no explicit reason: in smux 1.5.16 that is the keepalive check.
	return "closed locally (smux keepalive timeout)"
}

// sessionInfo tracks one smux session for event reporting.
type sessionInfo struct {
	sess *smux.Session
	conn *wsConn

	mu     sync.Mutex
	reason string // explicit reason, first one wins
}

// setReason records why this side is closing the session (first reason wins).
func (s *sessionInfo) setReason(r string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reason == "" {
		s.reason = r
	}
}

// closeWith records a reason and closes the session (and with it the WebSocket/TCP connection).
func (s *sessionInfo) closeWith(r string) {
	s.setReason(r)
	s.sess.Close()
}

// watch emits SESSION_CLOSED once the session is closed. smux 1.5.16 has no CloseChan, so poll.
func (s *sessionInfo) watch() {
	for !s.sess.IsClosed() {
		time.Sleep(100 * time.Millisecond)
	}
	s.mu.Lock()
	reason := s.reason
	s.mu.Unlock()
	if reason == "" {
		reason = s.conn.closeReason()
	}
	emit("SESSION_CLOSED", reason)
}
