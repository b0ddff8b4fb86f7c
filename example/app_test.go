package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/wechattest"
)

func TestNewAppRejectsBadConfig(t *testing.T) {
	_, _, err := newApp(config{CallbackURL: "http://127.0.0.1:8080/wechat/callback"})
	if err == nil || !strings.Contains(err.Error(), "AppID") {
		t.Errorf("newApp without AppID: got %v, want an error naming AppID", err)
	}
}

func TestStartEmulatorChecksCallbackDomain(t *testing.T) {
	if _, err := startEmulator("/wechat/callback"); err == nil {
		t.Errorf("startEmulator with a relative callback URL: got no error, want one")
	}
	wx, err := startEmulator("http://127.0.0.1:8080/wechat/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer wx.Close()
	for _, tt := range []struct {
		redirectURI string
		want        int
	}{
		{"http://127.0.0.1:8080/wechat/callback", http.StatusOK}, // the consent page
		{"http://127.0.0.1:9999/wechat/callback", http.StatusBadRequest},
	} {
		resp, err := wx.Client().Get(wx.URL + "/connect/oauth2/authorize?appid=" + wx.AppID +
			"&redirect_uri=" + url.QueryEscape(tt.redirectURI) + "&response_type=code&scope=snsapi_userinfo&state=s1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: got HTTP %d, want %d: %q", tt.redirectURI, resp.StatusCode, tt.want, body)
		}
		if tt.want == http.StatusBadRequest && !strings.Contains(string(body), "10003") {
			t.Errorf("%s: got %q, want the 10003 page", tt.redirectURI, body)
		}
	}
}

func TestAppWithRedis(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := "http://" + ln.Addr().String()
	// Two instances of the app on one Redis, behind one address: requests
	// alternate between them.
	var handlers [2]http.Handler
	for i := range handlers {
		h, closeApp, err := newApp(config{
			AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: site + "/wechat/callback",
			Scope: wechatauth.ScopeUserInfo, Endpoints: wx.Endpoints(), RedisAddr: srv.Addr(),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp()
		handlers[i] = h
	}
	var n atomic.Int64
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers[n.Add(1)%2].ServeHTTP(w, r)
	})}}
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	for i := 0; i < 3; i++ {
		resp, err := browser.Get(site + "/account/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "测试用户") {
			t.Fatalf("visit %d: status %d, body %q", i, resp.StatusCode, body)
		}
	}
	if got := wx.Calls("/sns/oauth2/access_token"); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
	if stats := srv.CommandStats(); stats["get"] == 0 || stats["set"] == 0 {
		t.Errorf("Redis commands: %v, want the sessions and stores in Redis", stats)
	}
	if _, _, err := newApp(config{AppID: wx.AppID, AppSecret: "x", CallbackURL: site + "/cb", RedisAddr: "127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "REDIS_ADDR") {
		t.Errorf("unreachable Redis: got %v, want an error naming REDIS_ADDR", err)
	} else if !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "check that Redis is running") || !strings.Contains(err.Error(), "unset REDIS_ADDR") {
		t.Errorf("unreachable Redis: got %q, want the address and what to check", err)
	}
}

// The example's login hook counts one login a login, its /profile route
// asks for the profile in an app on snsapi_base, and its debug login has a
// profile.
func TestAppLoginHookProfileRouteAndDebugUser(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	app, closeApp, err := newApp(config{
		AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: "http://127.0.0.1:8080/wechat/callback",
		Scope: wechatauth.ScopeBase, Endpoints: wx.Endpoints(), HTTPClient: wx.Client(), Debug: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp()
	get := func(req *http.Request) string {
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	req := httptest.NewRequest("GET", "http://127.0.0.1:8080/account/", nil)
	if err := wx.LogIn(app, req, "oAlice"); err != nil {
		t.Fatal(err)
	}
	if body := get(req); !strings.Contains(body, `<span id="logins">1</span>`) || !strings.Contains(body, "no nickname: snsapi_base login") {
		t.Errorf("account page: %q; want 1 login and no nickname", body)
	}
	// /profile sends the base user through consent, and comes back to it.
	wx.AddUser(wechattest.User{OpenID: "oAlice", Nickname: "Alice"})
	prof := httptest.NewRequest("GET", "http://127.0.0.1:8080/profile", nil)
	if err := wx.LogIn(app, prof, "oAlice"); err != nil {
		t.Fatal(err)
	}
	if body := get(prof); !strings.Contains(body, `<strong id="nickname">Alice</strong>`) {
		t.Errorf("profile page: %q; want the nickname", body)
	}
	// The debug login, from the developer's own browser.
	dbg := httptest.NewRequest("GET", "http://127.0.0.1:8080/account/", nil)
	dbg.RemoteAddr = "127.0.0.1:50000"
	if body := get(dbg); !strings.Contains(body, "开发者 (debug login)") {
		t.Errorf("debug login: %q; want the debug user's nickname", body)
	}
}
