package redisstore_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

const renewPage = "https://app.example/account/"

// signerInstance is the JS-SDK handler of one instance of an application:
// a pool of its own to srv, and its own sources and Signer.
func signerInstance(t *testing.T, srv *redistest.Server, wx *wechattest.Server) http.Handler {
	t.Helper()
	store := redisstore.New(ownPool(t, srv.Addr()))
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID)})
	signer, err := jssdk.New(jssdk.Options{
		AppID:   wx.AppID,
		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: store.CredentialCache(mp.JSAPITicketCredential, wx.AppID)}),
		Origins: []string{"https://app.example"},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return signer.Handler()
}

// reportFresh does what a hostile page can do against one instance: get
// a config, signed with the ticket cached now, and report it as refused.
// It returns whether the instance renewed the ticket.
func reportFresh(t *testing.T, h http.Handler) bool {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape(renewPage), nil))
	var c jssdk.Config
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &c) != nil {
		t.Fatalf("config: HTTP %d %s", w.Code, w.Body)
	}
	body, _ := json.Marshal(map[string]any{"url": renewPage, "timestamp": c.Timestamp, "nonceStr": c.NonceStr, "signature": c.Signature})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wechat/jssdk", bytes.NewReader(body)))
	var res struct{ Renewed bool }
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &res) != nil {
		t.Fatalf("report: HTTP %d %s", w.Code, w.Body)
	}
	return res.Renewed
}

// TestRenewalsAcrossInstances: a page reports a fresh config as refused to
// each of 10 instances that share one Redis, in turn; the ticket is
// renewed once in the interval, not once per instance.
func TestRenewalsAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	const instances = 10
	handlers := make([]http.Handler, instances)
	for i := range handlers {
		handlers[i] = signerInstance(t, srv, wx)
	}
	renewals := 0
	before := wx.Calls(pathTicket)
	for _, h := range handlers {
		if reportFresh(t, h) {
			renewals++
		}
	}
	fetches := wx.Calls(pathTicket) - before - 1 // the first config fetched the first ticket
	t.Logf("renewals in one RenewInterval across %d instances sharing Redis: %d (getticket calls for them: %d)", instances, renewals, fetches)
	if renewals != 1 || fetches != 1 {
		t.Errorf("renewals: got %d (%d getticket calls), want 1", renewals, fetches)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	key := redisstore.DefaultPrefix + "jsapi_ticket_renew:" + wx.AppID
	pttl, err := redis.Int64(conn.Do("PTTL", key))
	if err != nil || pttl <= 0 || pttl > (5*time.Minute).Milliseconds() {
		t.Errorf("PTTL of %s: got %d, %v; want up to RenewInterval, 5 minutes", key, pttl, err)
	}
	// The interval ends (the key expires): one more renewal among them all.
	if _, err := conn.Do("DEL", key); err != nil {
		t.Fatal(err)
	}
	renewals = 0
	for _, h := range handlers {
		if reportFresh(t, h) {
			renewals++
		}
	}
	if renewals != 1 {
		t.Errorf("renewals in the next interval: got %d, want 1", renewals)
	}
}
