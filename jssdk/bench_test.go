package jssdk_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/sitetest"
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
	configRatio(b, h, req)
}

// accountsHandler is configHandler's Signer behind an Accounts of two
// accounts, routed by path, as a third-party platform serves them.
func accountsHandler(b *testing.B) (http.Handler, *http.Request) {
	h, _, wx := configHandler(b)
	_ = h
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	accounts := &jssdk.Accounts{
		Account: func(r *http.Request) string {
			if strings.HasPrefix(r.URL.Path, "/b/") {
				return "wxb"
			}
			return wx.AppID
		},
		New: func(appID string) (*jssdk.Signer, error) {
			return jssdk.New(jssdk.Options{AppID: appID,
				Tickets: mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.CredentialOptions{}), mp.CredentialOptions{}),
				Origins: []string{"https://app.example"}, APIs: benchAPIs})
		},
	}
	ah := accounts.Handler()
	req := httptest.NewRequest(http.MethodGet, "/a/wechat/jssdk?url="+url.QueryEscape(benchPage), nil)
	ah.ServeHTTP(&discard{h: make(http.Header)}, req) // makes the Signer, fetches the ticket once
	return ah, req
}

// BenchmarkAccountsConfig is BenchmarkConfig through Accounts.
func BenchmarkAccountsConfig(b *testing.B) {
	h, req := accountsHandler(b)
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkAccountsConfigRatio is BenchmarkConfigRatio through Accounts.
func BenchmarkAccountsConfigRatio(b *testing.B) {
	h, req := accountsHandler(b)
	configRatio(b, h, req)
}

// configRatio reports the ratio of h's config to the floor's, in
// alternating rounds (package internal/sitetest); h's time is
// "handler-ns/req".
func configRatio(b *testing.B, h http.Handler, req *http.Request) {
	w := &discard{h: make(http.Header)}
	sitetest.Ratio(b,
		func() { clear(w.h); floorConfig(b, w) },
		func() { clear(w.h); h.ServeHTTP(w, req) },
		"handler-ns/req")
}

// credentialTickets is a ticket source on mp's shared credential
// mechanism with a memory cache, as WeCom's ticket sources of package work
// are, over a fetch that makes up a ticket: what a WeCom config costs
// with both tickets cached.
type credentialTickets struct{ s *mp.CredentialSource }

func newCredentialTickets(name string) credentialTickets {
	n := 0
	return credentialTickets{mp.NewCredentialSource(mp.CredentialFetcher{Name: name, Fetch: func(context.Context) (mp.Credential, error) {
		n++
		return mp.Credential{Value: name + "-" + strconv.Itoa(n) + "-" + docTicket, Expiry: time.Now().Add(2 * time.Hour)}, nil
	}}, mp.CredentialOptions{})}
}

func (c credentialTickets) Ticket(ctx context.Context) (string, error) { return c.s.Get(ctx) }
func (c credentialTickets) Invalidate(ctx context.Context, ticket string) error {
	return c.s.Invalidate(ctx, ticket)
}

// wecomConfigHandler is the config handler of WeCom's pages with both
// tickets cached in memory, and a page's request for both configs.
func wecomConfigHandler(b *testing.B) (http.Handler, *http.Request) {
	signer, err := jssdk.New(jssdk.Options{
		CorpID:       "ww0123456789abcdef",
		Tickets:      newCredentialTickets("corp"),
		AgentTickets: newCredentialTickets("agent"),
		AgentID:      "1000002",
		Origins:      []string{"https://app.example"},
		APIs:         benchAPIs,
		AgentAPIs:    []string{"selectExternalContact"},
	})
	if err != nil {
		b.Fatal(err)
	}
	h := signer.Handler()
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?agent=1&url="+url.QueryEscape(benchPage), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req) // fetches both tickets once
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"agentConfig":{"corpid"`) {
		b.Fatalf("WeCom config: HTTP %d %s", w.Code, w.Body)
	}
	return h, req
}

// floorWeComConfig is floorConfig for WeCom's two configs: two nonces,
// two signatures, the JSON of both.
func floorWeComConfig(b *testing.B, w http.ResponseWriter) {
	ts := time.Now().Unix()
	nonce, agentNonce := rand.Text(), rand.Text()
	body, err := json.Marshal(struct {
		Config      jssdk.Config      `json:"config"`
		AgentConfig jssdk.AgentConfig `json:"agentConfig"`
	}{
		jssdk.Config{Beta: true, AppID: "ww0123456789abcdef", Timestamp: ts, NonceStr: nonce,
			Signature: jssdk.Signature(docTicket, nonce, ts, benchPage), JSAPIList: benchAPIs, OpenTagList: []string{}},
		jssdk.AgentConfig{CorpID: "ww0123456789abcdef", AgentID: "1000002", Timestamp: ts, NonceStr: agentNonce,
			Signature: jssdk.Signature(docTicket, agentNonce, ts, benchPage), JSAPIList: []string{"selectExternalContact"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// BenchmarkWeComConfig serves WeCom's wx.config and wx.agentConfig with
// both tickets cached in memory.
func BenchmarkWeComConfig(b *testing.B) {
	h, req := wecomConfigHandler(b)
	w := &discard{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkWeComConfigRatio alternates, in rounds as BenchmarkConfigRatio
// does, the Official Account's floor and handler and WeCom's floor and
// handler (both configs), and reports the medians of the per-round
// ratios: "oa-ratio" (the Official Account's handler / its floor),
// "wecom-ratio" (WeCom's handler / WeCom's floor), "wecom/oa" (WeCom's
// handler / the Official Account's) and "wecom/floor" (WeCom's handler /
// the Official Account's floor).
func BenchmarkWeComConfigRatio(b *testing.B) {
	oa, oaReq, _ := configHandler(b)
	wc, wcReq := wecomConfigHandler(b)
	w := &discard{h: make(http.Header)}
	rounds := sitetest.Time(b,
		func() { clear(w.h); floorConfig(b, w) },
		func() { clear(w.h); oa.ServeHTTP(w, oaReq) },
		func() { clear(w.h); floorWeComConfig(b, w) },
		func() { clear(w.h); wc.ServeHTTP(w, wcReq) })
	const floor, oaHandler, wecomFloor, wecomHandler = 0, 1, 2, 3
	median := func(num, den int) float64 { return sitetest.Quantile(rounds.Ratios(num, den), 0.5) }
	b.ReportMetric(median(oaHandler, floor), "oa-ratio")
	b.ReportMetric(median(wecomHandler, wecomFloor), "wecom-ratio")
	b.ReportMetric(median(wecomHandler, oaHandler), "wecom/oa")
	b.ReportMetric(median(wecomHandler, floor), "wecom/floor")
	for i, unit := range []string{"floor-ns/req", "oa-ns/req", "wecom-floor-ns/req", "wecom-ns/req"} {
		b.ReportMetric(rounds.NsPerCall(i), unit)
	}
	b.ReportMetric(0, "ns/op")
}
