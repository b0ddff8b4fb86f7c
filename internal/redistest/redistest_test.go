package redistest_test

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/redistest"
)

// do runs one command on a connection of srv's pool.
func do(t *testing.T, srv *redistest.Server, cmd string, args ...any) (any, error) {
	t.Helper()
	c := srv.Pool().Get()
	defer c.Close()
	return c.Do(cmd, args...)
}

func TestStartServesOnLoopback(t *testing.T) {
	srv := redistest.Start(t)
	host, _, err := net.SplitHostPort(srv.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Errorf("Addr: got %q, want 127.0.0.1:PORT", srv.Addr())
	}
	if _, err := do(t, srv, "SET", "k", "v"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := redis.String(do(t, srv, "GET", "k"))
	if err != nil || got != "v" {
		t.Errorf("GET: got %q, %v; want %q", got, err, "v")
	}
	// Persistence is off: nothing would survive a restart.
	for _, param := range []struct{ name, want string }{{"save", ""}, {"appendonly", "no"}, {"bind", "127.0.0.1"}} {
		kv, err := redis.Strings(do(t, srv, "CONFIG", "GET", param.name))
		if err != nil || len(kv) != 2 {
			t.Fatalf("CONFIG GET %s: %v, %v", param.name, kv, err)
		}
		if kv[1] != param.want {
			t.Errorf("CONFIG GET %s: got %q, want %q", param.name, kv[1], param.want)
		}
	}
}

func TestServersAreIndependent(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() {
		t.Fatalf("two servers on one address %q", a.Addr())
	}
	if _, err := do(t, a, "SET", "k", "a"); err != nil {
		t.Fatal(err)
	}
	if n, err := redis.Int(do(t, b, "EXISTS", "k")); err != nil || n != 0 {
		t.Errorf("EXISTS on the other server: got %d, %v; want 0", n, err)
	}
}

func TestCommandStatsCountExactly(t *testing.T) {
	srv := redistest.Start(t)
	if got := srv.CommandStats(); len(got) != 0 {
		t.Errorf("stats after Start: got %v, want none", got)
	}
	for i := range 3 {
		do(t, srv, "SET", fmt.Sprint("k", i), "v")
	}
	do(t, srv, "GET", "k0")
	do(t, srv, "CLIENT", "ID")
	got := srv.CommandStats()
	want := map[string]int64{"set": 3, "get": 1, "client|id": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CommandStats: got %v, want %v", got, want)
	}
	// Asking again counts nothing of the helper's own.
	if again := srv.CommandStats(); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Errorf("CommandStats again: got %v, want %v", again, want)
	}
	srv.ResetStats()
	if got := srv.CommandStats(); len(got) != 0 {
		t.Errorf("stats after ResetStats: got %v, want none", got)
	}
	do(t, srv, "GET", "k1")
	if got := srv.CommandStats(); fmt.Sprint(got) != fmt.Sprint(map[string]int64{"get": 1}) {
		t.Errorf("stats after one GET: got %v, want map[get:1]", got)
	}
}

func TestKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	// Fill the pool with idle connections that a Kill leaves broken.
	var conns []redis.Conn
	for range 4 {
		c := srv.Pool().Get()
		if _, err := c.Do("SET", "k", "before"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}

	srv.Kill()
	if _, err := do(t, srv, "PING"); err == nil {
		t.Fatal("PING after Kill: got no error, want one")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("the port still accepts connections after Kill")
	}
	srv.Kill() // a second Kill does nothing

	srv.Restart()
	if srv.Addr() != addr {
		t.Errorf("Addr after Restart: got %q, want %q", srv.Addr(), addr)
	}
	// Every command works at once: no stale connection from before the Kill.
	for i := range 8 {
		if _, err := do(t, srv, "PING"); err != nil {
			t.Fatalf("PING %d after Restart: %v", i, err)
		}
	}
	if n, err := redis.Int(do(t, srv, "EXISTS", "k")); err != nil || n != 0 {
		t.Errorf("EXISTS k after Restart: got %d, %v; want 0 (persistence off)", n, err)
	}
	if got := srv.CommandStats(); fmt.Sprint(got) != fmt.Sprint(map[string]int64{"ping": 8, "exists": 1}) {
		t.Errorf("stats after Restart: got %v, want map[exists:1 ping:8]", got)
	}
}

// fakeTB records how Start ends a test without a redis-server.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	cases := []struct {
		name, ci              string
		wantSkipped, wantFail bool
	}{
		{"skips outside CI", "", true, false},
		{"fails under CI", "true", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				redistest.Start(f)
				t.Error("Start returned without a redis-server")
			}()
			<-done
			if got := f.skipped != ""; got != tc.wantSkipped {
				t.Errorf("skipped: got %v (%q), want %v", got, f.skipped, tc.wantSkipped)
			}
			if got := f.failed != ""; got != tc.wantFail {
				t.Errorf("failed: got %v (%q), want %v", got, f.failed, tc.wantFail)
			}
			if msg := f.skipped + f.failed; !strings.Contains(msg, "redis-server") || !strings.Contains(msg, "install") {
				t.Errorf("message: got %q, want one naming redis-server and how to install it", msg)
			}
		})
	}
}
