package jssdk_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// BenchmarkConfigFloor is the floor of a config handler: what a
// hand-written one must do for the page of BenchmarkConfig with the ticket
// at hand (a nonce, the timestamp, the signature, the config's JSON and
// its Content-Type), and nothing else: the URL is taken as it is, unread
// from the request and unchecked.
func BenchmarkConfigFloor(b *testing.B) {
	apis := []string{"updateAppMessageShareData", "getLocation"}
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		nonce := rand.Text()
		ts := time.Now().Unix()
		body, err := json.Marshal(jssdk.Config{
			AppID: "wx0123456789abcdef", Timestamp: ts, NonceStr: nonce,
			Signature: jssdk.Signature(docTicket, nonce, ts, benchPage),
			JSAPIList: apis, OpenTagList: []string{},
		})
		if err != nil {
			b.Fatal(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}
}

// BenchmarkConfig serves the config of a page with the ticket cached in
// memory: no upstream call.
func BenchmarkConfig(b *testing.B) {
	wx := wechattest.NewServer()
	defer wx.Close()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	signer, err := jssdk.New(jssdk.Options{
		AppID:   wx.AppID,
		Tickets: mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.AccessTokenSourceOptions{}), mp.TicketSourceOptions{}),
		Origins: []string{"https://app.example"},
		APIs:    []string{"updateAppMessageShareData", "getLocation"},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := signer.Handler()
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape(benchPage), nil)
	w := &discard{h: make(http.Header)}
	h.ServeHTTP(w, req) // fetches the ticket once
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
