package jssdk_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

const benchPage = "https://app.example/account/jssdk?from=singlemessage&isappinstalled=0"

// BenchmarkSignature is the floor: the bare signature of one page URL.
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
