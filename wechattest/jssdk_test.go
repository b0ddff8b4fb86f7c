package wechattest_test

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathTicket   = "/cgi-bin/ticket/getticket"
	pathJWeixin  = "/open/js/jweixin-1.6.0.js"
	pathJSVerify = "/open/js/verify"
)

// jsapiTicket fetches a ticket with a fresh global token.
func jsapiTicket(t *testing.T, s *wechattest.Server) string {
	t.Helper()
	r := call(t, s, pathTicket, "access_token", globalToken(t, s), "type", "jsapi")
	wantErrcode(t, r, 0)
	if len(r.Ticket) < 64 || !isURLSafe(r.Ticket) || r.ExpiresIn != 7200 {
		t.Fatalf("getticket: got ticket %q, expires_in %d; want 64+ characters of [A-Za-z0-9_-] and 7200", r.Ticket, r.ExpiresIn)
	}
	return r.Ticket
}

func TestTicketErrors(t *testing.T) {
	s := newServer(t)
	expired := globalToken(t, s)
	s.Advance(2 * time.Hour)
	tests := []struct {
		name  string
		pairs []string
		want  int
	}{
		{"ok", []string{"access_token", globalToken(t, s), "type", "jsapi"}, 0},
		{"missing token", []string{"type", "jsapi"}, 41001},
		{"malformed token", []string{"access_token", "a token?", "type", "jsapi"}, 40014},
		{"unknown token", []string{"access_token", strings.Repeat("A", 128), "type", "jsapi"}, 40001},
		{"expired token", []string{"access_token", expired, "type", "jsapi"}, 42001},
		{"other type", []string{"access_token", globalToken(t, s), "type", "wx_cards"}, 40097},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErrcode(t, call(t, s, pathTicket, tt.pairs...), tt.want)
		})
	}
	t.Run("busy", func(t *testing.T) {
		s.FailNext(pathTicket, -1)
		wantErrcode(t, call(t, s, pathTicket, "access_token", globalToken(t, s), "type", "jsapi"), -1)
	})
}

// verify asks the emulator, as the stand-in script does, whether a config
// signed with ticket for signedURL passes on a page at pageURL.
func verify(t *testing.T, s *wechattest.Server, ticket, signedURL, pageURL string) string {
	t.Helper()
	const nonce, ts = "Wm3WZYTPz0wzccnW", int64(1414587457)
	sum := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, ts, signedURL)))
	body, _ := json.Marshal(map[string]any{"appId": s.AppID, "timestamp": ts, "nonceStr": nonce, "signature": hex.EncodeToString(sum[:]), "url": pageURL})
	resp, err := s.Client().Post(s.URL+pathJSVerify, "text/plain", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin: got %q, want %q", got, "*")
	}
	var r struct{ ErrMsg string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.ErrMsg
}

func TestJSConfigVerification(t *testing.T) {
	s := newServer(t)
	const page = "https://app.example/account/?from=singlemessage&isappinstalled=0"
	const ok, invalid = "config:ok", "config:invalid signature"
	first := jsapiTicket(t, s)
	if got := verify(t, s, first, page, page); got != ok {
		t.Errorf("a ticket just issued: got %q, want %q", got, ok)
	}
	if got := verify(t, s, first, page, "https://app.example/account/"); got != invalid {
		t.Errorf("signed for another URL: got %q, want %q", got, invalid)
	}
	if got := verify(t, s, strings.Repeat("x", 86), page, page); got != invalid {
		t.Errorf("a ticket never issued: got %q, want %q", got, invalid)
	}
	s.StaleTickets()
	if got := verify(t, s, first, page, page); got != invalid {
		t.Errorf("a stale ticket: got %q, want %q", got, invalid)
	}
	second := jsapiTicket(t, s)
	if got := verify(t, s, second, page, page); got != ok {
		t.Errorf("a ticket fetched after StaleTickets: got %q, want %q", got, ok)
	}
	s.Advance(7200 * time.Second)
	if got := verify(t, s, second, page, page); got != invalid {
		t.Errorf("an expired ticket: got %q, want %q", got, invalid)
	}
}

func TestJWeixinStandIn(t *testing.T) {
	s := newServer(t)
	resp, err := s.Client().Get(s.URL + pathJWeixin)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "application/javascript") {
		t.Errorf("GET %s: got HTTP %d, %q; want 200 and JavaScript", pathJWeixin, resp.StatusCode, ct)
	}
	for _, want := range []string{"config", "ready", "error", "updateAppMessageShareData", "getLocation", pathJSVerify} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the stand-in script lacks %q", want)
		}
	}
	if got, want := s.Endpoints().JSSDK, s.URL+pathJWeixin; got != want {
		t.Errorf("Endpoints().JSSDK: got %q, want %q", got, want)
	}
}

// getticket hands out one ticket for 7200 seconds whichever access token
// asks, each time with expires_in 7200, and a ticket works 7200 seconds
// after the last answer that gave it.
func TestTicketOnePerExpiry(t *testing.T) {
	s := newServer(t)
	const page = "https://app.example/"
	first := jsapiTicket(t, s)
	s.Advance(time.Hour)
	if again := jsapiTicket(t, s); again != first {
		t.Fatalf("an hour on: got a new ticket %q, want the same %q", again, first)
	}
	// With the other chain's token: still the account's one ticket.
	if r := call(t, s, pathTicket, "access_token", stableToken(t, s, false).AccessToken, "type", "jsapi"); r.Ticket != first || r.ExpiresIn != 7200 {
		t.Errorf("with a stable_token: got %q expires_in %d, want %q and 7200", r.Ticket, r.ExpiresIn, first)
	}
	s.Advance(time.Hour)
	second := jsapiTicket(t, s)
	if second == first {
		t.Fatalf("7200 s after it was issued: got the same ticket, want a new one")
	}
	for _, tk := range []string{first, second} {
		if got := verify(t, s, tk, page, page); got != "config:ok" {
			t.Errorf("ticket %.8s… after the renewal: got %q, want config:ok", tk, got)
		}
	}
	// The first was last handed out two hours ago.
	s.Advance(time.Hour)
	if got := verify(t, s, first, page, page); got != "config:invalid signature" {
		t.Errorf("7200 s after the last answer that gave it: got %q, want invalid signature", got)
	}
	if got := verify(t, s, second, page, page); got != "config:ok" {
		t.Errorf("the current ticket: got %q, want config:ok", got)
	}
}

func TestTicketQuota(t *testing.T) {
	s := newServer(t)
	token := globalToken(t, s)
	get := func() reply { return call(t, s, pathTicket, "access_token", token, "type", "jsapi") }
	s.SetTicketQuota(2)
	wantErrcode(t, get(), 0)
	wantErrcode(t, get(), 0)
	r := get()
	wantErrcode(t, r, 45009)
	if !strings.HasPrefix(r.ErrMsg, "reach max api daily quota limit rid: ") {
		t.Errorf("errmsg: got %q, want WeChat's text for 45009", r.ErrMsg)
	}
	// /cgi-bin/token has a quota of its own.
	globalToken(t, s)
	// A new day (Beijing time) starts a new quota.
	s.Advance(24 * time.Hour)
	token = globalToken(t, s)
	wantErrcode(t, get(), 0)
	s.SetTicketQuota(0)
	wantErrcode(t, get(), 45009)
	s.SetTicketQuota(math.MaxInt)
	wantErrcode(t, get(), 0)
	defer func() {
		if recover() == nil {
			t.Errorf("SetTicketQuota(-1): got no panic, want one")
		}
	}()
	s.SetTicketQuota(-1)
}
