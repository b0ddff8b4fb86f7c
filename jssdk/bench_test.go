package jssdk_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

const benchPage = "https://app.example/account/jssdk?from=singlemessage&isappinstalled=0"

// BenchmarkSignature is the bare signature of one page URL.
func BenchmarkSignature(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		jssdk.Signature(docTicket, docNonce, docTimestamp, benchPage)
	}
}

// discard is a ResponseWriter that keeps nothing, so that only the
// handler is measured.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

var benchAPIs = []string{"updateAppMessageShareData", "getLocation"}

// floorConfig is the floor of a config handler: what a hand-written one
// must do for the page of BenchmarkConfig with the ticket at hand (a
// nonce, the timestamp, the signature, the config's JSON and its
// Content-Type), and nothing else: the URL is taken as it is, unread from
// the request and unchecked.
func floorConfig(b *testing.B, w http.ResponseWriter) {
	nonce := rand.Text()
	ts := time.Now().Unix()
	body, err := json.Marshal(jssdk.Config{
		AppID: "wx0123456789abcdef", Timestamp: ts, NonceStr: nonce,
		Signature: jssdk.Signature(docTicket, nonce, ts, benchPage),
		JSAPIList: benchAPIs, OpenTagList: []string{},
	})
	if err != nil {
		b.Fatal(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// BenchmarkConfigFloor is floorConfig alone.
func BenchmarkConfigFloor(b *testing.B) {
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		floorConfig(b, w)
	}
}

// configHandler is the config handler of a Signer with the ticket cached
// in memory, and the request of a page for it.
func configHandler(b *testing.B) (http.Handler, *http.Request, *wechattest.Server) {
	wx := wechattest.NewServer()
	b.Cleanup(wx.Close)
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	signer, err := jssdk.New(jssdk.Options{
		AppID:   wx.AppID,
		Tickets: mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.CredentialOptions{}), mp.CredentialOptions{}),
		Origins: []string{"https://app.example"},
		APIs:    benchAPIs,
	})
	if err != nil {
		b.Fatal(err)
	}
	h := signer.Handler()
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape(benchPage), nil)
	h.ServeHTTP(&discard{h: make(http.Header)}, req) // fetches the ticket once
	return h, req, wx
}

// BenchmarkConfig serves the config of a page with the ticket cached in
// memory: no upstream call.
func BenchmarkConfig(b *testing.B) {
	h, req, wx := configHandler(b)
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	if got := wx.Calls("/cgi-bin/ticket/getticket"); got != 1 {
		b.Errorf("getticket calls: got %d, want 1", got)
	}
}

// BenchmarkConfigRatio alternates the floor and the handler in rounds, so
// that both see the same machine, and reports the median ("ratio") and
// the 10th and 90th percentiles of the per-round ratio handler/floor.
func BenchmarkConfigRatio(b *testing.B) {
	h, req, _ := configHandler(b)
	w := &discard{h: make(http.Header)}
	const perRound = 2000
	round := func(serve func()) time.Duration {
		start := time.Now()
		for range perRound {
			clear(w.h)
			serve()
		}
		return time.Since(start)
	}
	var ratios []float64
	var floorTotal, handlerTotal time.Duration
	for b.Loop() {
		f := round(func() { floorConfig(b, w) })
		m := round(func() { h.ServeHTTP(w, req) })
		floorTotal += f
		handlerTotal += m
		ratios = append(ratios, float64(m)/float64(f))
	}
	slices.Sort(ratios)
	pick := func(q float64) float64 { return ratios[int(q*float64(len(ratios)-1))] }
	b.ReportMetric(pick(0.5), "ratio")
	b.ReportMetric(pick(0.1), "ratio-p10")
	b.ReportMetric(pick(0.9), "ratio-p90")
	n := float64(len(ratios) * perRound)
	b.ReportMetric(float64(floorTotal.Nanoseconds())/n, "floor-ns/req")
	b.ReportMetric(float64(handlerTotal.Nanoseconds())/n, "handler-ns/req")
	b.ReportMetric(0, "ns/op")
}
