package wechatauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func TestSnapshotUsers(t *testing.T) {
	snap := wechattest.User{OpenID: "oSnapReal", Nickname: "real name", Snapshot: true}
	t.Run("refused by default", func(t *testing.T) {
		h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
		h.wx.AddUser(snap)
		h.wx.SetVisitor(snap.OpenID)
		c := h.browser(true)
		resp, body := h.get(c, "/account/")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "使用完整服务") {
			t.Fatalf("status %d, body %q; want 403 telling to tap 使用完整服务", resp.StatusCode, body)
		}
		nc := h.browser(false)
		nc.Jar = c.Jar
		h.assertLoggedOut(nc)
		if _, err := h.store.User(context.Background(), "oSnapReal"); err == nil {
			t.Errorf("a snapshot user was stored")
		}
		if got := h.wx.Calls("/sns/userinfo"); got != 0 {
			t.Errorf("userinfo calls for a snapshot user: got %d, want 0", got)
		}
	})
	t.Run("guest", func(t *testing.T) {
		h := newHarness(t, func(o *wechatauth.Options) {
			o.Scope = wechatauth.ScopeUserInfo
			o.SnapshotGuests = true
		})
		h.wx.AddUser(snap)
		h.wx.SetVisitor(snap.OpenID)
		c := h.browser(true)
		resp, body := h.get(c, "/account/guest")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/guest openid= nickname= ") {
			t.Fatalf("status %d, body %q; want the page with an empty identity", resp.StatusCode, body)
		}
		if _, err := h.store.User(context.Background(), "oSnapReal"); err == nil {
			t.Errorf("a snapshot user was stored")
		}
		// The full login replaces the guest.
		h.wx.AddUser(wechattest.User{OpenID: "oSnapReal", Nickname: "real name"})
		resp, body = h.get(c, h.auth.LoginURL("/account/full"))
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/full openid=oSnapReal nickname=real name") {
			t.Fatalf("full login: status %d, body %q", resp.StatusCode, body)
		}
	})
}

func TestReturnURLFromHostileRequestTargets(t *testing.T) {
	h := newHarness(t, nil)
	handler := h.opts.Sessions.LoadAndSave(h.auth.RequireWeChatUser(http.NotFoundHandler()))
	for _, target := range []string{"//evil.example/account/", "/\\evil.example/", "//evil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "///evil.example"} {
		// The request target as a server parses it, without a router that
		// would clean it first.
		req := httptest.NewRequest("GET", "/", nil)
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		req.URL, req.RequestURI = u, target
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			t.Fatalf("%q: status %d, want 302", target, rec.Code)
		}
		c := h.browser(false)
		c.Jar.SetCookies(mustURL(t, h.app.URL), rec.Result().Cookies())
		resp, _ := h.step(c, rec.Header().Get("Location"), http.StatusFound)
		resp, _ = h.get(c, resp.Header.Get("Location"))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
			t.Errorf("%q: after login status %d, Location %q; want /", target, resp.StatusCode, loc)
		}
	}
}

func TestUpstreamGarbage(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		status  int
	}{
		{"malformed JSON", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"access_token":`) }, http.StatusBadGateway},
		{"HTML", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		}, http.StatusBadGateway},
		{"HTTP 500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }, http.StatusBadGateway},
		{"no openid", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"access_token":"x","expires_in":7200}`) }, http.StatusBadGateway},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, http.StatusBadGateway},
		{"too slow", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // never answers: the budget is what ends the wait
		}, http.StatusGatewayTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(tc.handler)
			defer api.Close()
			timeout := testclock.Patience(30 * time.Second) // room for the answer however busy the machine
			if tc.status == http.StatusGatewayTimeout {
				timeout = 200 * time.Millisecond // no answer comes: the budget is what ends the wait
			}
			h := newHarness(t, func(o *wechatauth.Options) {
				o.Timeout = timeout
				o.Endpoints.API = api.URL // WeChat's API is bad; its authorize step is the emulator's
			})
			c := h.browser(false)
			cb := h.callbackURL(c, "/account/")
			before := runtime.NumGoroutine()
			resp, body := h.get(c, cb)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			for _, sc := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(sc, h.opts.Sessions.Cookie.Name+"=") && strings.Contains(sc, "Max-Age=0") {
					t.Errorf("session destroyed: %q", sc)
				}
			}
			h.assertLoggedOut(c)
			h.app.CloseClientConnections()
			api.CloseClientConnections()
			waitGoroutines(t, before)
		})
	}
}

// waitGoroutines fails the test when the goroutine count does not come back
// to at most want: a goroutine outlived its request. The count normally
// drops within milliseconds; the cap is generous, for busy machines.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	limit := testclock.Patience(30 * time.Second)
	deadline := time.Now().Add(limit)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: got %d, want at most %d (%s)\n%s", n, want, testclock.RanOut("the process", limit, "ending those goroutines"), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestExchangeErrcodes(t *testing.T) {
	for _, code := range []int{
		mp.CodeBusy, mp.CodeInvalidAppID, mp.CodeInvalidAppSecret, mp.CodeInvalidGrantType,
		mp.CodeIPNotAllowed, mp.CodeMinuteQuota, mp.CodeMissingCode,
	} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			h := newHarness(t, nil)
			c := h.browser(false)
			cb := h.callbackURL(c, "/account/")
			h.wx.FailNext("/sns/oauth2/access_token", code)
			resp, body := h.get(c, cb)
			// The site's own setup (AppID, AppSecret, IP whitelist) is a 500
			// that says so; WeChat's trouble is a 502.
			want, words := http.StatusBadGateway, "Try again in a moment"
			if code == mp.CodeInvalidAppID || code == mp.CodeInvalidAppSecret || code == mp.CodeIPNotAllowed {
				want, words = http.StatusInternalServerError, "misconfigured"
			}
			if resp.StatusCode != want || !strings.Contains(body, words) {
				t.Fatalf("errcode %d: status %d, want %d and a page saying %q; body %q", code, resp.StatusCode, want, words, body)
			}
			if strings.Contains(body, fmt.Sprint(code)) && code > 0 {
				t.Errorf("page shows the errcode: %q", body)
			}
			h.assertLoggedOut(c)
		})
	}
	// Spent codes start a fresh round trip instead.
	for _, code := range []int{mp.CodeInvalidCode, mp.CodeCodeUsed, mp.CodeCodeExpired} {
		h := newHarness(t, nil)
		c := h.browser(false)
		cb := h.callbackURL(c, "/account/")
		h.wx.FailNext("/sns/oauth2/access_token", code)
		resp, _ := h.get(c, cb)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.wx.Endpoints().Authorize) {
			t.Errorf("errcode %d: status %d, Location %q; want a fresh round trip", code, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

func TestCallbackThatKeepsFailingEndsInErrorPage(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.MaxAttempts = 3 })
	for i := 0; i < 10; i++ {
		h.wx.FailNext("/sns/oauth2/access_token", mp.CodeInvalidCode)
	}
	c := h.browser(true) // follows every redirect, as a browser would
	resp, body := h.get(c, "/account/")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429 after the attempts ran out; body %q", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("error page redirects to %q", loc)
	}
	if !strings.Contains(body, "try again") {
		t.Errorf("page %q does not say what to do", body)
	}
	if got := h.exchanges(); got != 3 {
		t.Errorf("exchanges: got %d, want 3 (MaxAttempts)", got)
	}
}

func TestConcurrentLoginsOfManyBrowsers(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	const n = 30
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("oUser%023d", i)
		h.wx.AddUser(wechattest.User{OpenID: ids[i], Nickname: fmt.Sprintf("user %d", i)})
	}
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := h.browser(false)
			resp, _ := h.do(c, "GET", "/account/p"+fmt.Sprint(i), nil)
			// Each browser brings its own code for its own user.
			cb := withCode(t, resp.Header.Get("Location"), "")
			state := mustURL(t, cb).Query().Get("state")
			code := h.wx.IssueCode(ids[i], "snsapi_userinfo")
			resp, _ = h.do(c, "GET", h.opts.CallbackURL+"?code="+code+"&state="+state, nil)
			if loc := resp.Header.Get("Location"); loc != "/account/p"+fmt.Sprint(i) {
				t.Errorf("browser %d: Location %q", i, loc)
				return
			}
			_, body := h.do(c, "GET", "/account/me", nil)
			if !strings.Contains(body, "openid="+ids[i]+" nickname=user "+fmt.Sprint(i)) {
				t.Errorf("browser %d: body %q", i, body)
			}
		}(i)
	}
	wg.Wait()
	if got := h.exchanges(); got != n {
		t.Errorf("exchanges: got %d, want %d", got, n)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A log line quotes at most a bounded part of the request's path.
func TestLogLinesCutLongPaths(t *testing.T) {
	h := newHarness(t, nil)
	req := httptest.NewRequest("GET", "/account/"+strings.Repeat("x", 900_000), nil)
	h.app.Config.Handler.ServeHTTP(httptest.NewRecorder(), req) // logs the redirect to WeChat
	logs := h.logs.String()
	if !strings.Contains(logs, "redirect to WeChat") || !strings.Contains(logs, "(900009 bytes)") {
		t.Fatalf("log %.300q: want the redirect logged with the path's length", logs)
	}
	if n := len(logs); n > 2000 {
		t.Errorf("log holds %d bytes after one request with a 900 KB path; want a line of bounded size", n)
	}
}
