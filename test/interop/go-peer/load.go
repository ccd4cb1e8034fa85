package main

// The benchmark load generator (bench/run.ts drives it). It connects to the target (target.go)
// either directly or through an HTTP CONNECT proxy (a gost-ts or go-peer client), runs one scenario
// and prints one JSON result line on stdout. Modes:
//
//	bulk-up / bulk-down  -conns connections each move -size bytes at once; MB/s over the wall time
//	rate                 -count short connections (CONNECT + -msg bytes echoed), -concurrency workers,
//	                     after up to 2 s of the same untimed
//	latency              -count sequential -msg echoes on one connection; -beside up|down runs an
//	                     unbounded bulk transfer on a second connection meanwhile (head-of-line)
//	streams              opens -count idle connections (-concurrency at a time) and holds them
//
// Every mode first does -warmup echo round trips on a short connection, so a proxy's session is
// up before anything is timed. With -stdin, control lines come from stdin and EOF on stdin exits
// (the parent is gone); the streams mode then prints WARM and OPEN lines and waits for a line
// after each, so the parent can sample memory before and after.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type loadOpts struct {
	proxy       string
	target      string
	mode        string
	size        uint64
	conns       int
	count       int
	concurrency int
	msg         int
	beside      string
	maxTime     time.Duration
	timeout     time.Duration
	opTimeout   time.Duration
	warmup      int
	rateWarmup  time.Duration
	hold        time.Duration
	stdin       bool
}

// loadResult is the JSON line printed at the end. Durations are in microseconds, rates per second,
// MB = 10^6 bytes.
type loadResult struct {
	Mode        string  `json:"mode"`
	Proxy       string  `json:"proxy"`
	Seconds     float64 `json:"seconds"`
	Bytes       int64   `json:"bytes"`
	MBps        float64 `json:"mbps"`
	Ops         int     `json:"ops"`
	OpsPerSec   float64 `json:"opsPerSec"`
	P50Us       float64 `json:"p50Us"`
	P99Us       float64 `json:"p99Us"`
	MaxUs       float64 `json:"maxUs"`
	BesideBytes int64   `json:"besideBytes"`
	BesideMBps  float64 `json:"besideMbps"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"firstError,omitempty"`
	LoadCPUS    float64 `json:"loadCpuS"`
}

func parseLoad(args []string) func() error {
	var o loadOpts
	var size int64
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	fs.StringVar(&o.proxy, "proxy", "", "HTTP CONNECT proxy HOST:PORT (empty: connect to -target directly)")
	fs.StringVar(&o.target, "target", "", "target HOST:PORT (a `go-peer target`; required)")
	fs.StringVar(&o.mode, "mode", "", "bulk-up | bulk-down | rate | latency | streams")
	fs.Int64Var(&size, "size", 64<<20, "bulk: bytes per connection")
	fs.IntVar(&o.conns, "conns", 1, "bulk: parallel connections")
	fs.IntVar(&o.count, "count", 1000, "rate: connections; latency: samples; streams: streams to hold")
	fs.IntVar(&o.concurrency, "concurrency", 50, "rate/streams: connections in flight")
	fs.IntVar(&o.msg, "msg", 1024, "rate/latency: echo message size")
	fs.StringVar(&o.beside, "beside", "none", "latency: none | up | down bulk on a second connection")
	fs.DurationVar(&o.maxTime, "max-time", 20*time.Second, "latency: stop sampling after this long")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up (exit 2) after this long")
	fs.DurationVar(&o.opTimeout, "op-timeout", 10*time.Second, "deadline of one connection setup or echo")
	fs.IntVar(&o.warmup, "warmup", 3, "echo round trips before the timed part")
	fs.DurationVar(&o.rateWarmup, "rate-warmup", 2*time.Second, "rate: untimed short connections first, for up to this long (0: time the first ones, cold)")
	fs.DurationVar(&o.hold, "hold", time.Second, "streams without -stdin: how long to hold them")
	fs.BoolVar(&o.stdin, "stdin", false, "control lines on stdin; EOF exits")
	_ = fs.Parse(args)
	o.size = uint64(size)
	return func() error { return runLoad(&o) }
}

type loader struct {
	o     *loadOpts
	lines chan string // control lines from stdin (nil without -stdin)

	errMu    sync.Mutex
	errors   int
	firstErr string
}

func runLoad(o *loadOpts) error {
	if o.target == "" {
		return errors.New("load: -target is required")
	}
	if o.count < 1 || o.conns < 1 || o.concurrency < 1 || o.msg < 1 {
		return errors.New("load: -count, -conns, -concurrency and -msg must be >= 1")
	}
	l := &loader{o: o}
	if o.stdin {
		l.lines = make(chan string)
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				l.lines <- sc.Text()
			}
			logf("load: stdin closed (parent gone), exiting")
			os.Exit(3)
		}()
	}
	time.AfterFunc(o.timeout, func() {
		logf("load: %s timed out after %v", o.mode, o.timeout)
		os.Exit(2)
	})

	for i := 0; i < o.warmup; i++ {
		if _, err := l.echoOnce(make([]byte, o.msg)); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	var r loadResult
	switch o.mode {
	case "bulk-up":
		r = l.bulk(true)
	case "bulk-down":
		r = l.bulk(false)
	case "rate":
		r = l.rate()
	case "latency":
		r = l.latency()
	case "streams":
		r = l.streams()
	default:
		return fmt.Errorf("load: unknown -mode %q", o.mode)
	}
	r.Mode = o.mode
	r.Proxy = o.proxy
	r.Errors = l.errors
	r.FirstError = l.firstErr
	r.LoadCPUS = selfCPUSeconds()
	js, _ := json.Marshal(r)
	stdoutMu.Lock()
	fmt.Fprintf(os.Stdout, "%s\n", js)
	stdoutMu.Unlock()
	return nil
}

func (l *loader) fail(err error) {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	l.errors++
	if l.firstErr == "" {
		l.firstErr = err.Error()
	}
}

// waitLine blocks until the parent sends a control line (with -stdin), else sleeps d.
func (l *loader) waitLine(d time.Duration) {
	if l.lines == nil {
		time.Sleep(d)
		return
	}
	<-l.lines
}

// prefixedConn returns bytes read past the CONNECT reply before reading the socket again.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// dial connects to the target, through the proxy when one is set. The connection has no deadline.
func (l *loader) dial() (net.Conn, error) {
	if l.o.proxy == "" {
		return net.DialTimeout("tcp", l.o.target, l.o.opTimeout)
	}
	c, err := net.DialTimeout("tcp", l.o.proxy, l.o.opTimeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(l.o.opTimeout))
	if _, err := io.WriteString(c, "CONNECT "+l.o.target+" HTTP/1.1\r\nHost: "+l.o.target+"\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 1024)
	status, err := br.ReadSlice('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("CONNECT reply: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.")) || len(status) < 12 || string(status[9:12]) != "200" {
		c.Close()
		return nil, fmt.Errorf("CONNECT reply: %q", bytes.TrimSpace(status))
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("CONNECT reply headers: %w", err)
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	if n := br.Buffered(); n > 0 {
		extra, _ := br.Peek(n)
		return &prefixedConn{Conn: c, r: io.MultiReader(bytes.NewReader(append([]byte(nil), extra...)), c)}, nil
	}
	return c, nil
}

// echoOnce is one short connection: dial (+CONNECT), send msg to the echo target, read it back.
func (l *loader) echoOnce(msg []byte) (time.Duration, error) {
	t0 := time.Now()
	c, err := l.dial()
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(l.o.opTimeout))
	if _, err := c.Write(append(targetHeader(targetModeEcho, 0), msg...)); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		return 0, fmt.Errorf("echo: %w", err)
	}
	return time.Since(t0), nil
}

func (l *loader) bulk(up bool) loadResult {
	n := l.o.conns
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := l.dial()
		if err != nil {
			l.fail(err)
			return loadResult{}
		}
		conns = append(conns, c)
	}
	var moved int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, c := range conns {
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			<-start
			got, err := l.bulkOne(c, up)
			atomic.AddInt64(&moved, int64(got))
			if err != nil {
				l.fail(err)
			}
		}(c)
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	dt := time.Since(t0).Seconds()
	return loadResult{Seconds: dt, Bytes: moved, MBps: float64(moved) / dt / 1e6, Ops: n}
}

// bulkOne moves -size bytes on c: up = to the sink, done when its 'K' arrives; down = from the source.
func (l *loader) bulkOne(c net.Conn, up bool) (uint64, error) {
	size := l.o.size
	if up {
		if _, err := c.Write(targetHeader(targetModeSink, size)); err != nil {
			return 0, err
		}
		if err := writeN(c, size); err != nil {
			return 0, fmt.Errorf("upload: %w", err)
		}
		var ack [1]byte
		if _, err := io.ReadFull(c, ack[:]); err != nil || ack[0] != 'K' {
			return size, fmt.Errorf("upload ack: %v", err)
		}
		return size, nil
	}
	if _, err := c.Write(targetHeader(targetModeSource, size)); err != nil {
		return 0, err
	}
	cr := &countingReader{r: c}
	if err := readN(cr, size); err != nil {
		return cr.n, fmt.Errorf("download: %w", err)
	}
	return size, nil
}

type countingReader struct {
	r io.Reader
	n uint64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += uint64(n)
	return n, err
}

func (l *loader) rate() loadResult {
	msg := make([]byte, l.o.msg)
	// Untimed short connections first, for up to 2 s (at most -count): as with the latency
	// scenario, a JIT-compiled tunnel (Node) reaches its steady state only after some thousands of
	// connections, and the rate of interest is the steady one for both kinds of tunnel.
	if l.o.rateWarmup > 0 {
		l.shortConns(msg, l.o.count, l.o.rateWarmup, func(int, time.Duration) {})
	}

	lat := make([]time.Duration, l.o.count)
	ok := make([]bool, l.o.count)
	t0 := time.Now()
	l.shortConns(msg, l.o.count, 0, func(i int, d time.Duration) { lat[i], ok[i] = d, true })
	dt := time.Since(t0).Seconds()
	done := collect(lat, ok)
	r := loadResult{Seconds: dt, Ops: len(done), OpsPerSec: float64(len(done)) / dt}
	r.P50Us, r.P99Us, r.MaxUs = percentiles(done)
	return r
}

// shortConns runs up to n echoOnce connections, -concurrency at a time, and stops starting new
// ones after maxTime (0: no limit); done gets the index and duration of each that succeeded.
func (l *loader) shortConns(msg []byte, n int, maxTime time.Duration, done func(int, time.Duration)) {
	var next int64 = -1
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < l.o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n || (maxTime > 0 && time.Since(t0) >= maxTime) {
					return
				}
				d, err := l.echoOnce(msg)
				if err != nil {
					l.fail(err)
					continue
				}
				done(i, d)
			}
		}()
	}
	wg.Wait()
}

func (l *loader) latency() loadResult {
	c, err := l.dial()
	if err != nil {
		l.fail(err)
		return loadResult{}
	}
	defer c.Close()
	if _, err := c.Write(targetHeader(targetModeEcho, 0)); err != nil {
		l.fail(err)
		return loadResult{}
	}
	msg := make([]byte, l.o.msg)
	in := make([]byte, l.o.msg)
	roundTrip := func() (time.Duration, error) {
		_ = c.SetDeadline(time.Now().Add(l.o.opTimeout))
		t := time.Now()
		if _, err := c.Write(msg); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return 0, err
		}
		return time.Since(t), nil
	}
	// Untimed echoes first, for up to 2 s: a JIT-compiled tunnel (Node) reaches its steady state
	// only after some thousands of round trips, and "warm session" means steady state for both
	// kinds of tunnel.
	for i, t := 0, time.Now(); i < 5000 && time.Since(t) < 2*time.Second; i++ {
		if _, err := roundTrip(); err != nil {
			l.fail(err)
			return loadResult{}
		}
	}

	var besideBytes int64
	var besideConn net.Conn
	besideDone := make(chan struct{})
	if l.o.beside == "up" || l.o.beside == "down" {
		besideConn, err = l.dial()
		if err != nil {
			l.fail(fmt.Errorf("beside: %w", err))
			return loadResult{}
		}
		go func() {
			defer close(besideDone)
			l.besideBulk(besideConn, l.o.beside == "up", &besideBytes)
		}()
		// Sample only once the bulk transfer is in full flow.
		for t := time.Now(); atomic.LoadInt64(&besideBytes) < 8<<20 && time.Since(t) < 3*time.Second; {
			time.Sleep(10 * time.Millisecond)
		}
	} else {
		close(besideDone)
	}

	lat := make([]time.Duration, 0, l.o.count)
	b0 := atomic.LoadInt64(&besideBytes)
	t0 := time.Now()
	for len(lat) < l.o.count && time.Since(t0) < l.o.maxTime {
		d, err := roundTrip()
		if err != nil {
			l.fail(err)
			break
		}
		lat = append(lat, d)
	}
	dt := time.Since(t0).Seconds()
	moved := atomic.LoadInt64(&besideBytes) - b0
	if besideConn != nil {
		besideConn.Close()
	}
	<-besideDone
	r := loadResult{Seconds: dt, Ops: len(lat), BesideBytes: moved, BesideMBps: float64(moved) / dt / 1e6}
	r.P50Us, r.P99Us, r.MaxUs = percentiles(lat)
	return r
}

// besideBulk moves data without end on c until c is closed, counting bytes into n.
func (l *loader) besideBulk(c net.Conn, up bool, n *int64) {
	if up {
		if _, err := c.Write(targetHeader(targetModeSink, targetUnbounded)); err != nil {
			return
		}
		for {
			k, err := c.Write(benchPayload)
			atomic.AddInt64(n, int64(k))
			if err != nil {
				return
			}
		}
	}
	if _, err := c.Write(targetHeader(targetModeSource, targetUnbounded)); err != nil {
		return
	}
	buf := make([]byte, benchBufSize)
	for {
		k, err := c.Read(buf)
		atomic.AddInt64(n, int64(k))
		if err != nil {
			return
		}
	}
}

func (l *loader) streams() loadResult {
	emitLine("WARM", "")
	l.waitLine(0)

	n := l.o.count
	conns := make([]net.Conn, n)
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var next int64 = -1
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < l.o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				t := time.Now()
				c, err := l.dial()
				if err != nil {
					l.fail(err)
					continue
				}
				conns[i], lat[i], ok[i] = c, time.Since(t), true
			}
		}()
	}
	wg.Wait()
	dt := time.Since(t0).Seconds()
	done := collect(lat, ok)
	r := loadResult{Seconds: dt, Ops: len(done), OpsPerSec: float64(len(done)) / dt}
	r.P50Us, r.P99Us, r.MaxUs = percentiles(done)
	js, _ := json.Marshal(map[string]interface{}{"open": len(done), "errors": l.errors, "seconds": dt})
	emitLine("OPEN", string(js))
	l.waitLine(l.o.hold)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return r
}

// emitLine prints a control line for the parent ("WARM", "OPEN {...}").
func emitLine(event, detail string) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	if detail == "" {
		fmt.Fprintln(os.Stdout, event)
		return
	}
	fmt.Fprintf(os.Stdout, "%s %s\n", event, detail)
}

func collect(lat []time.Duration, ok []bool) []time.Duration {
	out := make([]time.Duration, 0, len(lat))
	for i, d := range lat {
		if ok[i] {
			out = append(out, d)
		}
	}
	return out
}

// percentiles returns p50, p99 and max in microseconds (nearest rank).
func percentiles(d []time.Duration) (p50, p99, maxUs float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(s) {
			i = len(s) - 1
		}
		return float64(s[i].Nanoseconds()) / 1e3
	}
	return rank(0.50), rank(0.99), float64(s[len(s)-1].Nanoseconds()) / 1e3
}

func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
