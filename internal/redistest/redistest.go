// Package redistest runs a real redis-server for tests and benchmarks.
//
//	srv := redistest.Start(t)              // skipped when redis-server is missing (fatal under CI)
//	store := redisstore.New(srv.Pool())
//	srv.ResetStats()
//	// ... exercise the code ...
//	if got := srv.CommandStats()["get"]; got != 1 { ... }
//
// Each Server is its own redis-server process on a free loopback port, with
// its files in a temporary directory and persistence off, stopped when the
// test ends. Kill and Restart simulate Redis going down and coming back.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/testclock"
)

// Caps on the helper's waits for redis-server, generous and scaled by
// testclock.ScaleEnv: a busy machine makes a test slower, not fail. Each
// normally takes milliseconds.
var (
	startTimeout = testclock.Patience(time.Minute) // for redis-server to answer PING
	stopTimeout  = testclock.Patience(time.Minute) // for a killed redis-server to exit
)

// Bounds of the helper's own waits.
const (
	pollEvery    = 10 * time.Millisecond
	dialTimeout  = 2 * time.Second
	ioTimeout    = 5 * time.Second
	startTries   = 3                      // free ports to try when another process takes the first
	restartPause = 100 * time.Millisecond // between tries of the same port
)

// Server is a redis-server process started by Start. Its methods may be
// called from any goroutine, except those that fail the test (Start,
// Restart, CommandStats, ResetStats), which follow the rules of t.Fatal.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	addr string
	pool *redis.Pool

	mu       sync.Mutex
	proc     *process  // nil while killed
	killedAt time.Time // when Kill last stopped the server
	own      map[string]int64
}

// process is one run of redis-server.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	out    *syncBuffer   // its stdout and stderr
}

// Start starts a redis-server on a free port of 127.0.0.1, in t.TempDir(),
// with persistence off (--save "" --appendonly no), waits until it answers
// PING, and stops it when the test ends. Command statistics start at zero.
//
// When no redis-server is in PATH, Start skips the test, or fails it when the
// environment variable CI is set, so that CI never passes by skipping.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("redistest: redis-server is not in PATH and CI is set: install it (Debian: apt-get install redis-server)")
		}
		tb.Skipf("redistest: redis-server is not in PATH; install it (Debian: apt-get install redis-server) to run this test")
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	tb.Cleanup(s.cleanup)

	var lastErr error
	for range startTries {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: finding a free port: %v", err)
		}
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.run(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("redistest: %v", lastErr)
	}
	s.pool = &redis.Pool{
		MaxIdle:      16,
		IdleTimeout:  time.Minute,
		DialContext:  s.dial,
		TestOnBorrow: s.testOnBorrow,
	}
	s.ResetStats()
	return s
}

// Addr returns the server's address, "127.0.0.1:PORT". It stays the same
// across Kill and Restart.
func (s *Server) Addr() string { return s.addr }

// Pool returns a redigo pool of connections to the server, shared by every
// caller and closed when the test ends. Dials time out after 2 seconds,
// reads and writes after 5; up to 16 idle connections are kept. Connections
// last used before a Kill are dropped when borrowed, as a pool with a PING
// in TestOnBorrow would, so after Restart the pool works at once.
func (s *Server) Pool() *redis.Pool { return s.pool }

// Kill stops the server at once (SIGKILL), as a crash would, and waits for
// the process to exit. Commands fail until Restart. Killing a stopped
// server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killLocked()
}

// Restart starts the server again on the same address and directory, after
// Kill, and waits until it answers. A running server is killed first. The
// data is gone (persistence is off) and command statistics start at zero.
func (s *Server) Restart() {
	s.tb.Helper()
	s.mu.Lock()
	s.killLocked()
	s.mu.Unlock()
	// The port is ours until another process takes it; try a few times in
	// case the kernel has not released it yet.
	var err error
	for i := range startTries {
		if i > 0 {
			time.Sleep(restartPause)
		}
		if err = s.run(); err == nil {
			s.ResetStats()
			return
		}
	}
	s.tb.Fatalf("redistest: restart: %v", err)
}

// CommandStats returns how many times each command ran since Start, Restart
// or ResetStats, from INFO commandstats: lowercase command names as Redis
// reports them ("get", "set", "config|resetstat", ...) mapped to their
// calls. The helper's own INFO and CONFIG RESETSTAT calls are not counted.
// It fails the test when the server does not answer.
func (s *Server) CommandStats() map[string]int64 {
	s.tb.Helper()
	reply, err := redis.String(s.admin("INFO", "commandstats"))
	if err != nil {
		s.tb.Fatalf("redistest: INFO commandstats: %v", err)
	}
	stats, err := parseCommandStats(reply)
	if err != nil {
		s.tb.Fatalf("redistest: INFO commandstats: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for cmd, n := range s.own {
		if stats[cmd] -= n; stats[cmd] <= 0 {
			delete(stats, cmd)
		}
	}
	s.own["info"]++ // this call, counted from the next one on
	return stats
}

// ResetStats sets every command count to zero (CONFIG RESETSTAT), so that
// CommandStats counts from here. It fails the test when the server does
// not answer.
func (s *Server) ResetStats() {
	s.tb.Helper()
	if _, err := s.admin("CONFIG", "RESETSTAT"); err != nil {
		s.tb.Fatalf("redistest: CONFIG RESETSTAT: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.own = map[string]int64{"config|resetstat": 1}
}

// run starts redis-server on s.addr and waits until it answers PING.
func (s *Server) run() error {
	_, port, _ := net.SplitHostPort(s.addr)
	p := &process{exited: make(chan struct{}), out: &syncBuffer{}}
	p.cmd = exec.Command(s.bin,
		"--port", port,
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", "",
		"--loglevel", "warning",
	)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.exited:
			s.mu.Lock()
			s.proc = nil
			s.mu.Unlock()
			return fmt.Errorf("redis-server on %s exited at start: %s", s.addr, p.out.String())
		default:
		}
		if _, err := s.admin("PING"); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING: %s: %v; output: %s", s.addr, testclock.RanOut("redis-server", startTimeout, "starting"), err, p.out.String())
		}
		time.Sleep(pollEvery)
	}
}

// killLocked kills the running process, if any, and waits for it to exit.
// The caller holds s.mu.
func (s *Server) killLocked() {
	p := s.proc
	if p == nil {
		return
	}
	s.proc = nil
	p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		s.tb.Errorf("redistest: redis-server on %s did not exit after SIGKILL: %s", s.addr, testclock.RanOut("redis-server", stopTimeout, "exiting"))
	}
	s.killedAt = time.Now()
}

func (s *Server) cleanup() {
	s.Kill()
	if s.pool != nil {
		s.pool.Close()
	}
}

// dial opens a connection to the server for the pool.
func (s *Server) dial(ctx context.Context) (redis.Conn, error) {
	return redis.DialContext(ctx, "tcp", s.addr,
		redis.DialConnectTimeout(dialTimeout),
		redis.DialReadTimeout(ioTimeout),
		redis.DialWriteTimeout(ioTimeout),
	)
}

var errStale = errors.New("redistest: connection from before the last Kill")

// testOnBorrow drops connections that were idle across a Kill.
func (s *Server) testOnBorrow(_ redis.Conn, lastUsed time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lastUsed.Before(s.killedAt) {
		return errStale
	}
	return nil
}

// admin runs one command on a connection of its own, outside the pool, so
// the helper never disturbs what a test measures of the pool.
func (s *Server) admin(cmd string, args ...any) (any, error) {
	c, err := redis.Dial("tcp", s.addr,
		redis.DialConnectTimeout(dialTimeout),
		redis.DialReadTimeout(ioTimeout),
		redis.DialWriteTimeout(ioTimeout),
	)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(cmd, args...)
}

// parseCommandStats reads the body of INFO commandstats, lines such as
// "cmdstat_get:calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0".
func parseCommandStats(info string) (map[string]int64, error) {
	stats := make(map[string]int64)
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("unreadable line %q", line)
		}
		var found bool
		for _, f := range strings.Split(fields, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("unreadable calls in %q", line)
				}
				stats[name], found = n, true
			}
		}
		if !found {
			return nil, fmt.Errorf("no calls in %q", line)
		}
	}
	return stats, sc.Err()
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects a process's output; safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.b.String())
}
