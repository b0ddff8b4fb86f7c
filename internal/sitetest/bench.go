package sitetest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Nothing is the application handler of the middleware benchmarks: it
// does nothing.
var Nothing = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// FloorHandler is the floor of the authenticated path: what a
// hand-written check costs. sessions.LoadAndSave around a handler that
// reads the session key and answers 401 when it is empty, else serves
// next.
func FloorHandler(sessions *scs.SessionManager, key string, next http.Handler) http.Handler {
	return sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sessions.GetString(r.Context(), key) == "" {
			http.Error(w, "login required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// Floor returns FloorHandler around Nothing, with sessions in store (nil:
// scs's memory store), and the request of a browser whose session holds
// value at key, as a login leaves a user's id.
func Floor(tb testing.TB, store scs.Store, key, value string) (http.Handler, *http.Request) {
	tb.Helper()
	sessions := scs.New()
	if store != nil {
		sessions.Store = store
	}
	login := sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Put(r.Context(), key, value)
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	return FloorHandler(sessions, key, Nothing), Request(rec.Result().Cookies()[0])
}

// Request is the request of the middleware benchmarks, a protected page,
// from a browser that holds cookie.
func Request(cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/account/orders?id=7", nil)
	r.AddCookie(cookie)
	return r
}

// Serve is a benchmark of h serving r, each answer with status want.
func Serve(b *testing.B, h http.Handler, r *http.Request, want int) {
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

// PerRound is how many calls of each function a round of Time makes.
const PerRound = 2000

// Rounds are the times of functions measured in alternating rounds:
// Rounds[i][j] is how long PerRound calls of the j-th took in round i.
type Rounds [][]time.Duration

// Time runs fs in turn, PerRound calls of each, a round for every
// iteration of b.Loop, so that all of them see the same machine, and
// returns the rounds' times.
func Time(b *testing.B, fs ...func()) Rounds {
	b.Helper()
	var rounds Rounds
	for b.Loop() {
		round := make([]time.Duration, len(fs))
		for j, f := range fs {
			start := time.Now()
			for range PerRound {
				f()
			}
			round[j] = time.Since(start)
		}
		rounds = append(rounds, round)
	}
	return rounds
}

// Ratios returns, sorted, the per-round ratios of the num-th function's
// time to the den-th's.
func (rs Rounds) Ratios(num, den int) []float64 {
	ratios := make([]float64, len(rs))
	for i, r := range rs {
		ratios[i] = float64(r[num]) / float64(r[den])
	}
	slices.Sort(ratios)
	return ratios
}

// NsPerCall is the j-th function's mean time per call over every round.
func (rs Rounds) NsPerCall(j int) float64 {
	var total time.Duration
	for _, r := range rs {
		total += r[j]
	}
	return float64(total.Nanoseconds()) / float64(len(rs)*PerRound)
}

// Quantile is the q-quantile (0.5: the median) of sorted.
func Quantile(sorted []float64, q float64) float64 {
	return sorted[int(q*float64(len(sorted)-1))]
}

// Ratio times floor and f in alternating rounds and reports the ratio of
// f's time to the floor's: its median ("ratio") and its 10th and 90th
// percentiles ("ratio-p10", "ratio-p90"), with the mean time of a call of
// the floor ("floor-ns/req") and of f (unit, such as "mw-ns/req").
func Ratio(b *testing.B, floor, f func(), unit string) {
	b.Helper()
	rounds := Time(b, floor, f)
	ratios := rounds.Ratios(1, 0)
	b.ReportMetric(Quantile(ratios, 0.5), "ratio")
	b.ReportMetric(Quantile(ratios, 0.1), "ratio-p10")
	b.ReportMetric(Quantile(ratios, 0.9), "ratio-p90")
	b.ReportMetric(rounds.NsPerCall(0), "floor-ns/req")
	b.ReportMetric(rounds.NsPerCall(1), unit)
	b.ReportMetric(0, "ns/op")
}

// MiddlewareRatio is Ratio of the floor serving floorReq and the
// middleware mw serving mwReq, each to a new recorder; mw's time is
// "mw-ns/req".
func MiddlewareRatio(b *testing.B, floor http.Handler, floorReq *http.Request, mw http.Handler, mwReq *http.Request) {
	b.Helper()
	Ratio(b,
		func() { floor.ServeHTTP(httptest.NewRecorder(), floorReq) },
		func() { mw.ServeHTTP(httptest.NewRecorder(), mwReq) },
		"mw-ns/req")
}
