package wechatauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The pieces of the middleware benchmarks, shared with the other faces
// (package internal/sitetest): the application handler that does nothing,
// the request of a logged-in browser, the benchmark loop and the
// interleaved ratio to the floor.
var (
	ok           = sitetest.Nothing
	benchRequest = sitetest.Request
	serve        = sitetest.Serve
	reportRatio  = sitetest.MiddlewareRatio
)

// floorSetup returns the floor of the authenticated path, sessions in
// store (nil: scs's memory store), and a request whose session holds an
// openid.
func floorSetup(tb testing.TB, store scs.Store) (http.Handler, *http.Request) {
	tb.Helper()
	return sitetest.Floor(tb, store, "openid", "oTestUser0000000000000000001")
}

// middlewareSetup returns LoadAndSave + RequireWeChatUser and a request of
// a browser logged in through the emulator.
func middlewareSetup(tb testing.TB, store scs.Store, next http.Handler) (http.Handler, *http.Request) {
	tb.Helper()
	h := newBenchHarness(tb, store)
	c := h.login("/account/")
	cookie := &http.Cookie{Name: h.opts.Sessions.Cookie.Name, Value: h.cookie(c)}
	return h.opts.Sessions.LoadAndSave(h.auth.RequireWeChatUser(next)), benchRequest(cookie)
}

func BenchmarkAuthenticatedFloor(b *testing.B) {
	h, r := floorSetup(b, nil)
	serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedRequireWeChatUser(b *testing.B) {
	h, r := middlewareSetup(b, nil, ok)
	serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedUserFrom(b *testing.B) {
	h, r := middlewareSetup(b, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := wechatauth.UserFrom(r); !ok || u.OpenID == "" {
			http.Error(w, "no user", http.StatusInternalServerError)
		}
	}))
	serve(b, h, r, http.StatusOK)
}

// BenchmarkAuthenticatedRatio alternates the floor and the middleware in
// rounds within one process, so that both see the same machine, and
// reports the median and spread of the per-round ratio of their ns/op.
func BenchmarkAuthenticatedRatio(b *testing.B) {
	floor, floorReq := floorSetup(b, nil)
	mw, mwReq := middlewareSetup(b, nil, ok)
	reportRatio(b, floor, floorReq, mw, mwReq)
}

// BenchmarkCallback measures one whole login at the callback, served in
// process: session load, state check, the code exchange (an HTTP round trip
// to the emulator), stores, token renewal, session save and redirect.
// BenchmarkEmulatorExchange is the exchange alone: the difference is ours.
func BenchmarkCallback(b *testing.B) {
	h := newBenchHarness(b, nil)
	handler := h.app.Config.Handler
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		c := h.browser(false)
		cb := h.callbackURL(c, "/account/")
		r := httptest.NewRequest("GET", cb, nil)
		for _, ck := range h.cookies(c) { // the login's own cookie
			r.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		b.StartTimer()
		handler.ServeHTTP(w, r)
		if w.Code != http.StatusFound {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkEmulatorExchange(b *testing.B) {
	h := newBenchHarness(b, nil)
	client := newClient(h.wx)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		code := h.wx.IssueCode("", "snsapi_base")
		b.StartTimer()
		if _, err := client.Exchange(context.Background(), code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDuplicateCallbacks sends one callback 100 times at once, as a
// retrying WeChat and an impatient user might: one exchange, 100 logins.
func BenchmarkDuplicateCallbacks(b *testing.B) {
	h := newBenchHarness(b, nil)
	const n = 100
	for b.Loop() {
		b.StopTimer()
		c := h.browser(false)
		cb := h.callbackURL(c, "/account/")
		cookies := h.cookies(c)
		before := h.exchanges()
		handler := h.app.Config.Handler
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i] = httptest.NewRequest("GET", cb, nil)
			for _, ck := range cookies {
				reqs[i].AddCookie(ck)
			}
		}
		b.StartTimer()
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range reqs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, reqs[i])
				codes[i] = w.Code
			}(i)
		}
		wg.Wait()
		b.StopTimer()
		if got := h.exchanges() - before; got != 1 {
			b.Fatalf("exchanges: got %d, want 1", got)
		}
		for i, code := range codes {
			if code != http.StatusFound {
				b.Fatalf("delivery %d: status %d", i, code)
			}
		}
		b.StartTimer()
	}
}

// newBenchHarness is newHarness for benchmarks, with a quiet logger and
// the session store given (nil: scs's memory store).
func newBenchHarness(tb testing.TB, store scs.Store) *harness {
	return newHarness(tb, func(o *wechatauth.Options) {
		if store != nil {
			o.Sessions.Store = store
		}
		o.Logger = slog.New(slog.DiscardHandler)
	})
}

// The same three with sessions in a real redis-server, through
// github.com/alexedwards/scs/redisstore: one GET per request for both.
func BenchmarkAuthenticatedFloorRedis(b *testing.B) {
	h, r := floorSetup(b, scsredis.New(redistest.Start(b).Pool()))
	serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedRequireWeChatUserRedis(b *testing.B) {
	h, r := middlewareSetup(b, scsredis.New(redistest.Start(b).Pool()), ok)
	serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedRatioRedis(b *testing.B) {
	pool := redistest.Start(b).Pool()
	floor, floorReq := floorSetup(b, scsredis.New(pool))
	mw, mwReq := middlewareSetup(b, scsredis.New(pool), ok)
	reportRatio(b, floor, floorReq, mw, mwReq)
}

// BenchmarkTokenSourceExpired: 1,000 goroutines ask for the global
// access_token when it has expired; one upstream fetch serves them all.
func BenchmarkTokenSourceExpired(b *testing.B) {
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.SetTokenQuota(1 << 30) // one fetch an iteration: more than a day's quota
	client := newClient(wx)
	cache := mp.NewMemoryCache()
	ts := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: cache})
	ctx := context.Background()
	const n = 1000
	for b.Loop() {
		b.StopTimer()
		if t, err := cache.Load(ctx); err == nil {
			cache.Delete(ctx, t.Value) // expired
		}
		before := wx.Calls("/cgi-bin/token")
		b.StartTimer()
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := ts.Token(ctx); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		if got := wx.Calls("/cgi-bin/token") - before; got != 1 {
			b.Fatalf("upstream fetches: got %d, want 1", got)
		}
		b.StartTimer()
	}
}
