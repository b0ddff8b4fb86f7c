package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// syncLog is a log that handlers of several goroutines write to.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With an https WECHAT_CALLBACK_URL the session cookie is Secure, under
// the __Host- prefix, and New has nothing to warn of.
func TestHTTPSCallbackMakesTheSessionCookieSecure(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	var logs syncLog
	app, closeApp, err := newApp(config{
		AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: "https://shop.example/wechat/callback",
		Scope: wechatauth.ScopeBase, Endpoints: wx.Endpoints(), HTTPClient: wx.Client(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeApp()
	if strings.Contains(logs.String(), "session cookie is not Secure") {
		t.Errorf("New warned of the session cookie: %s", logs.String())
	}

	// The login, by hand: to WeChat, and back to the callback.
	serve := func(target string, cookies []*http.Cookie) *http.Response {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("X-Forwarded-Proto", "https") // TLS ends at a proxy
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return rec.Result()
	}
	start := serve("https://shop.example/account/", nil)
	authorize, err := url.Parse(start.Header.Get("Location"))
	if err != nil || start.StatusCode != http.StatusFound {
		t.Fatalf("start: status %d to %q, want a redirect to WeChat", start.StatusCode, start.Header.Get("Location"))
	}
	wx.AddUser(wechattest.User{OpenID: "oAlice"})
	back := url.Values{"code": {wx.IssueCode("oAlice", "snsapi_base")}, "state": {authorize.Query().Get("state")}}
	done := serve("https://shop.example/wechat/callback?"+back.Encode(), start.Cookies())
	var session *http.Cookie
	for _, c := range done.Cookies() {
		if strings.Contains(c.Name, "session") {
			session = c
		}
	}
	if done.StatusCode != http.StatusFound || session == nil {
		t.Fatalf("callback: status %d, cookies %v; want a redirect that sets the session cookie", done.StatusCode, done.Cookies())
	}
	if !session.Secure || session.Name != "__Host-session" {
		t.Errorf("session cookie %q: Secure %v; want __Host-session, Secure", session.Name, session.Secure)
	}
}
