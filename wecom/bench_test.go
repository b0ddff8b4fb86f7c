package wecom_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/wecom"
)

// The floor of the authenticated path, as for the Official Account
// (bench_test.go of package wechatauth): scs.LoadAndSave around a handler
// that reads one session key and answers 401 when it is empty, on a
// session that holds a userid-sized value.
func floorHandler(sessions *scs.SessionManager, next http.Handler) http.Handler {
	return sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessions.GetString(r.Context(), "userid") == "" {
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchRequest(cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/account/orders?id=7", nil)
	r.AddCookie(cookie)
	return r
}

func floorSetup(tb testing.TB) (http.Handler, *http.Request) {
	tb.Helper()
	sessions := scs.New()
	login := sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), "userid", "zhangsan")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	return floorHandler(sessions, ok), benchRequest(rec.Result().Cookies()[0])
}

// middlewareSetup returns LoadAndSave + RequireMember around next and a
// request of a browser logged in through the emulator.
func middlewareSetup(tb testing.TB, configure func(*wecom.Options), next http.Handler) (http.Handler, *http.Request) {
	tb.Helper()
	h := newHarness(tb, func(o *wecom.Options) {
		o.Logger = slog.New(slog.DiscardHandler)
		if configure != nil {
			configure(o)
		}
	})
	c := h.login("/account/")
	cookie := &http.Cookie{Name: h.opts.Sessions.Cookie.Name, Value: h.cookie(c)}
	return h.opts.Sessions.LoadAndSave(h.auth.RequireMember(next)), benchRequest(cookie)
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
	h, r := floorSetup(b)
	serve(b, h, r, http.StatusOK)
}

func BenchmarkAuthenticatedRequireMember(b *testing.B) {
	h, r := middlewareSetup(b, nil, ok)
	serve(b, h, r, http.StatusOK)
}

// memberFromHandler reads the member, as every protected handler does.
var memberFromHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if m, ok := wecom.MemberFrom(r); !ok || m.UserID == "" {
		http.Error(w, "no member", http.StatusInternalServerError)
	}
})

func BenchmarkAuthenticatedMemberFrom(b *testing.B) {
	h, r := middlewareSetup(b, nil, memberFromHandler)
	serve(b, h, r, http.StatusOK)
}

// With Options.Profile the member has a name and departments: decoding
// the departments is the one allocation MemberFrom adds.
func BenchmarkAuthenticatedMemberFromProfile(b *testing.B) {
	h, r := middlewareSetup(b, func(o *wecom.Options) { o.Profile = true }, memberFromHandler)
	serve(b, h, r, http.StatusOK)
}

// BenchmarkAuthenticatedRatio alternates the floor and the middleware in
// rounds within one process and reports the median and spread of the
// per-round ratio of their ns/op, as the Official Account's does.
func BenchmarkAuthenticatedRatio(b *testing.B) {
	floor, floorReq := floorSetup(b)
	mw, mwReq := middlewareSetup(b, nil, ok)
	reportRatio(b, floor, floorReq, mw, mwReq)
}

// BenchmarkAuthenticatedRatioMemberFrom is the ratio with MemberFrom in
// the handler.
func BenchmarkAuthenticatedRatioMemberFrom(b *testing.B) {
	floor, floorReq := floorSetup(b)
	mw, mwReq := middlewareSetup(b, nil, memberFromHandler)
	reportRatio(b, floor, floorReq, mw, mwReq)
}

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
