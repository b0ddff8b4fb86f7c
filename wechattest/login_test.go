package wechattest_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// newApp is an application protected by wechatauth on wx, as a test of the
// application's own handlers builds it.
func newApp(t *testing.T, wx *wechattest.Server, scope wechatauth.Scope, callbackURL string) http.Handler {
	t.Helper()
	sessions := scs.New()
	auth, err := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: callbackURL, Scope: scope,
		Sessions: sessions, Endpoints: wx.Endpoints(), HTTPClient: wx.Client(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "%s %s %s", r.URL.RequestURI(), u.OpenID, u.Nickname)
	})))
	return sessions.LoadAndSave(mux)
}

func TestLogInARequest(t *testing.T) {
	for _, scope := range []wechatauth.Scope{wechatauth.ScopeBase, wechatauth.ScopeUserInfo, wechatauth.ScopeProgressive} {
		t.Run(string(scope), func(t *testing.T) {
			wx := newServer(t)
			wx.AddUser(wechattest.User{OpenID: "oAlice", Nickname: "Alice"})
			app := newApp(t, wx, scope, "http://app.example/wechat/callback")
			req := httptest.NewRequest("GET", "/account/orders?id=7", nil)
			if err := wx.LogIn(app, req, "oAlice"); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, req)
			want := "/account/orders?id=7 oAlice "
			if scope != wechatauth.ScopeBase {
				want += "Alice"
			}
			if rec.Code != http.StatusOK || rec.Body.String() != want {
				t.Errorf("got HTTP %d %q, want 200 %q", rec.Code, rec.Body, want)
			}
		})
	}
}

func TestLogInAJar(t *testing.T) {
	wx := newServer(t)
	var app http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.ServeHTTP(w, r) }))
	defer srv.Close()
	app = newApp(t, wx, wechatauth.ScopeBase, srv.URL+"/wechat/callback")
	jar, _ := cookiejar.New(nil)
	if err := wx.LogInJar(jar, srv.URL+"/account/", "oBob"); err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Jar: jar}).Get(srv.URL + "/account/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "/account/me oBob " {
		t.Errorf("got %q, want the page of oBob", body)
	}
}

func TestLogInNamesAnAppOnOtherEndpoints(t *testing.T) {
	wx := newServer(t)
	other := newServer(t)
	app := newApp(t, other, wechatauth.ScopeBase, "http://app.example/wechat/callback")
	err := wx.LogIn(app, httptest.NewRequest("GET", "/account/", nil), "oAlice")
	if err == nil {
		t.Fatal("LogIn against an application on another emulator: nil error")
	}
}
