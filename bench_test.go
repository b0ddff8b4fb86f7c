package wechatauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	scsredis "github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The floor of the authenticated path: what a hand-written check costs.
// scs.LoadAndSave around a handler that reads one session key and answers
// 401 when it is empty, on a session that holds an openid-sized value.
func floorHandler(sessions *scs.SessionManager, next http.Handler) http.Handler {
	return sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessions.GetString(r.Context(), "openid") == "" {
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// ok is the application handler of every benchmark: it does nothing.
var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

// benchRequest returns a request of a browser that holds cookie.
func benchRequest(cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/account/orders?id=7", nil)
	r.AddCookie(cookie)
	return r
}

// floorSetup returns the floor handler and a request whose session holds an
// openid.
func floorSetup(tb testing.TB, store scs.Store) (http.Handler, *http.Request) {
	tb.Helper()
	sessions := scs.New()
	if store != nil {
		sessions.Store = store
	}
	login := sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), "openid", "oTestUser0000000000000000001")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	return floorHandler(sessions, ok), benchRequest(rec.Result().Cookies()[0])
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

func serve(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			b.Fatalf("status %d, want %d", w.Code, want)
		}
	}
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

// reportRatio times a and b in alternating rounds and reports the ratio
// b/a: its median ("ratio") and the 10th and 90th percentiles.
func reportRatio(b *testing.B, floor http.Handler, floorReq *http.Request, mw http.Handler, mwReq *http.Request) {
	b.Helper()
	const perRound = 2000
	round := func(h http.Handler, r *http.Request) time.Duration {
		start := time.Now()
		for i := 0; i < perRound; i++ {
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		return time.Since(start)
	}
	var ratios []float64
	var floorTotal, mwTotal time.Duration
	for b.Loop() {
		f := round(floor, floorReq)
		m := round(mw, mwReq)
		floorTotal += f
		mwTotal += m
		ratios = append(ratios, float64(m)/float64(f))
	}
	slices.Sort(ratios)
	pick := func(q float64) float64 { return ratios[int(q*float64(len(ratios)-1))] }
	b.ReportMetric(pick(0.5), "ratio")
	b.ReportMetric(pick(0.1), "ratio-p10")
	b.ReportMetric(pick(0.9), "ratio-p90")
	n := float64(len(ratios) * perRound)
	b.ReportMetric(float64(floorTotal.Nanoseconds())/n, "floor-ns/req")
	b.ReportMetric(float64(mwTotal.Nanoseconds())/n, "mw-ns/req")
	b.ReportMetric(0, "ns/op")
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
