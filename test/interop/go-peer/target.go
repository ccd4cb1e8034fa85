package main

// The benchmark target: the far end of every connection the load tool drives (see load.go), so that
// Node is never the load generator. One process serves all three behaviours; the first bytes of each
// connection choose one:
//
//	header = mode byte + uint64 big-endian size (9 bytes)
//	'U' sink:   read size bytes, answer one byte 'K' (the upload has arrived), then read until EOF
//	'D' source: write size bytes (math.MaxUint64: until the peer goes away), then read until EOF
//	'E' echo:   copy every byte back until EOF
//
// A connection that sends nothing stays idle (the scale scenario holds thousands of them).

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
)

const (
	targetModeSink   = 'U'
	targetModeSource = 'D'
	targetModeEcho   = 'E'
	targetHeaderSize = 9
	// targetUnbounded as a source size means "until the peer closes" (the bulk beside a latency probe).
	targetUnbounded = math.MaxUint64
	// benchBufSize is the read/write chunk of the load tool and the target: large, so syscalls are
	// never what limits a transfer.
	benchBufSize = 256 * 1024
)

// benchPayload is the byte pattern every sender writes (not zeros, in case anything compresses).
var benchPayload = func() []byte {
	b := make([]byte, benchBufSize)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

func parseTarget(args []string) func() error {
	fs := flag.NewFlagSet("target", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	_ = fs.Parse(args)
	return func() error { return runTarget(*listen) }
}

func runTarget(listen string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	emit("LISTEN", ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go serveTarget(c)
	}
}

func serveTarget(c net.Conn) {
	defer c.Close()
	var hdr [targetHeaderSize]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return // closed while idle: the normal end of a scale-scenario stream
	}
	size := binary.BigEndian.Uint64(hdr[1:])
	switch hdr[0] {
	case targetModeSink:
		if err := readN(c, size); err != nil {
			return
		}
		if _, err := c.Write([]byte{'K'}); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	case targetModeSource:
		if err := writeN(c, size); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	case targetModeEcho:
		_, _ = io.CopyBuffer(c, c, make([]byte, 64*1024))
	default:
		logf("target: unknown mode %q", hdr[0])
	}
}

// readN reads and discards exactly n bytes.
func readN(r io.Reader, n uint64) error {
	buf := make([]byte, benchBufSize)
	for n > 0 {
		want := uint64(len(buf))
		if n < want {
			want = n
		}
		got, err := r.Read(buf[:want])
		n -= uint64(got)
		if err != nil {
			if n == 0 {
				return nil
			}
			return fmt.Errorf("read: %w (%d bytes short)", err, n)
		}
	}
	return nil
}

// writeN writes n bytes of benchPayload.
func writeN(w io.Writer, n uint64) error {
	for n > 0 {
		chunk := benchPayload
		if n < uint64(len(chunk)) {
			chunk = chunk[:n]
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= uint64(len(chunk))
	}
	return nil
}

// targetHeader builds the 9-byte header that selects a target behaviour.
func targetHeader(mode byte, size uint64) []byte {
	h := make([]byte, targetHeaderSize)
	h[0] = mode
	binary.BigEndian.PutUint64(h[1:], size)
	return h
}
