package wechatauth_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
)

// floodStarts is how many abandoned logins the flood test starts.
const floodStarts = 2000

// startAbandoned sends n cookieless page navigations from WeChat's browser
// to a protected page, as a crawler or a flood does, and returns the bytes
// of Set-Cookie they were given and whether any set the session cookie.
func startAbandoned(t *testing.T, h *harness, n int) (cookieBytes int, sessionCookies int) {
	t.Helper()
	handler := h.app.Config.Handler
	for i := 0; i < n; i++ {
		r := httptest.NewRequest("GET", h.app.URL+"/account/orders?id="+strconv.Itoa(i), nil)
		r.Header.Set("User-Agent", wechatUA)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusFound {
			t.Fatalf("start %d: status %d, want 302", i, w.Code)
		}
		for _, sc := range w.Header().Values("Set-Cookie") {
			cookieBytes += len(sc)
			if strings.HasPrefix(sc, h.opts.Sessions.Cookie.Name+"=") {
				sessionCookies++
			}
		}
	}
	return cookieBytes, sessionCookies
}

// TestAnonymousTrafficCostsNothingServerSide measures what logins that are
// started and never finished leave behind: Redis keys and bytes with
// sessions in Redis, heap with sessions in memory, and what the browser
// keeps. It prints the figures of BENCHMARKS.md.
func TestAnonymousTrafficCostsNothingServerSide(t *testing.T) {
	t.Run("sessions in Redis", func(t *testing.T) {
		srv := redistest.Start(t)
		h := newHarness(t, func(o *wechatauth.Options) { o.Sessions.Store = scsredis.New(srv.Pool()) })
		keys0, mem0 := redisKeys(t, srv), redisMemory(t, srv)
		cookieBytes, sessions := startAbandoned(t, h, floodStarts)
		keys, mem := redisKeys(t, srv)-keys0, redisMemory(t, srv)-mem0
		ttl := maxTTL(t, srv)
		t.Logf("%d abandoned starts: %d Redis keys (%.2f a start), %d bytes of Redis memory (%.0f a start), longest TTL %v; %.0f bytes of Set-Cookie a start",
			floodStarts, keys, float64(keys)/floodStarts, mem, float64(mem)/floodStarts, ttl, float64(cookieBytes)/floodStarts)
		if keys != 0 || sessions != 0 {
			t.Errorf("abandoned starts left %d Redis keys and set %d session cookies; want none", keys, sessions)
		}
	})
	t.Run("sessions in memory", func(t *testing.T) {
		h := newHarness(t, nil)
		heap0 := heapInUse()
		_, sessions := startAbandoned(t, h, floodStarts)
		grown := heapInUse() - heap0
		t.Logf("%d abandoned starts: heap grew by %d bytes (%.0f a start)", floodStarts, grown, float64(grown)/floodStarts)
		if sessions != 0 {
			t.Errorf("abandoned starts set %d session cookies, each a session kept for the session's Lifetime (%v); want none", sessions, scs.New().Lifetime)
		}
	})
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func redisKeys(t *testing.T, srv *redistest.Server) int64 {
	t.Helper()
	c := srv.Pool().Get()
	defer c.Close()
	n, err := c.Do("DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	return n.(int64)
}

func redisMemory(t *testing.T, srv *redistest.Server) int64 {
	t.Helper()
	c := srv.Pool().Get()
	defer c.Close()
	v, err := c.Do("INFO", "memory")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(v.([]byte)), "\r\n") {
		if s, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
	}
	t.Fatal("INFO memory: no used_memory")
	return 0
}

// maxTTL is the longest time to live among the keys of srv.
func maxTTL(t *testing.T, srv *redistest.Server) time.Duration {
	t.Helper()
	c := srv.Pool().Get()
	defer c.Close()
	keys, err := c.Do("KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	var longest time.Duration
	for _, k := range keys.([]any) {
		ms, err := c.Do("PTTL", k)
		if err == nil && time.Duration(ms.(int64))*time.Millisecond > longest {
			longest = time.Duration(ms.(int64)) * time.Millisecond
		}
	}
	return longest
}
