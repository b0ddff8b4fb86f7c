package wechattest_test

// Tests of the emulator with the real wechatauth client: the global
// access_token through TokenSource, the menu through CreateMenu, and
// website QR login through the middleware.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// apiClient is the Official Account's client for s.
func apiClient(s *wechattest.Server) *mp.Client {
	return &mp.Client{AppID: s.AppID, AppSecret: s.AppSecret, HTTPClient: s.Client(), Endpoints: s.Endpoints()}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testclock.Patience(time.Minute))
	t.Cleanup(cancel)
	return ctx
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("decoding %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func clientMenu() mp.Menu {
	return mp.Menu{Buttons: []mp.Button{
		{Type: mp.ButtonView, Name: "账户", URL: "https://example.com/account/"},
		{Name: "更多", SubButtons: []mp.Button{
			{Type: mp.ButtonClick, Name: "签到", Key: "CHECK_IN"},
			{Type: mp.ButtonMiniProgram, Name: "小程序", AppID: "wx1234567890abcdef", PagePath: "pages/index", URL: "https://example.com/"},
		}},
	}}
}

func TestTokenSourceAgainstEmulator(t *testing.T) {
	for _, tt := range []struct {
		stable bool
		path   string
	}{{false, pathGlobalToken}, {true, pathStableToken}} {
		t.Run(tt.path, func(t *testing.T) {
			wx := newServer(t)
			ctx := testContext(t)
			ts := mp.NewAccessTokenSource(apiClient(wx), mp.CredentialOptions{Stable: tt.stable})
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			again, err := ts.Token(ctx)
			if err != nil || again != tok {
				t.Fatalf("second Token: got %v, want the cached token", err)
			}
			if got := wx.Calls(tt.path); got != 1 {
				t.Errorf("Calls(%q): got %d, want exactly one upstream fetch", tt.path, got)
			}
			if err := apiClient(wx).CreateMenu(ctx, ts, clientMenu()); err != nil {
				t.Fatalf("CreateMenu: %v", err)
			}
			want, err := json.Marshal(clientMenu())
			if err != nil {
				t.Fatal(err)
			}
			if got := wx.Menu(); !sameJSON(t, got, want) {
				t.Errorf("Menu: got %s, want %s", got, want)
			}
			if got := wx.Calls(tt.path); got != 1 {
				t.Errorf("Calls(%q) after CreateMenu: got %d, want 1", tt.path, got)
			}
		})
	}
}

func TestClientAccessTokenErrors(t *testing.T) {
	wx := newServer(t)
	c := apiClient(wx)
	c.AppSecret = "not-the-secret"
	_, err := c.AccessToken(testContext(t))
	var apiErr *mp.Error
	if !errors.As(err, &apiErr) || apiErr.Code != mp.CodeInvalidAppSecret {
		t.Errorf("AccessToken with a wrong secret: got %v, want APIError 40125", err)
	}
	c = apiClient(wx)
	if _, err := c.StableAccessToken(testContext(t), true); err != nil {
		t.Fatalf("StableAccessToken(force): %v", err)
	}
	_, err = c.StableAccessToken(testContext(t), true)
	if !errors.As(err, &apiErr) || apiErr.Code != mp.CodeMinuteQuota {
		t.Errorf("a second force_refresh at once: got %v, want APIError 45011", err)
	}
}

// Two instances that each fetch from /cgi-bin/token: the second fetch
// retires the first instance's token five minutes later; CreateMenu then
// meets 40001, drops the token and succeeds with a fresh one.
func TestCreateMenuRecoversFromReplacedToken(t *testing.T) {
	wx := newServer(t)
	ctx := testContext(t)
	ts := mp.NewAccessTokenSource(apiClient(wx), mp.CredentialOptions{})
	if _, err := ts.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := apiClient(wx).AccessToken(ctx); err != nil { // the other instance
		t.Fatal(err)
	}
	wx.Advance(5*time.Minute + time.Second)
	if err := apiClient(wx).CreateMenu(ctx, ts, clientMenu()); err != nil {
		t.Fatalf("CreateMenu: %v", err)
	}
	if got, want := wx.Calls(pathGlobalToken), 3; got != want {
		t.Errorf("Calls(%q): got %d, want %d", pathGlobalToken, got, want)
	}
	if got, want := wx.Calls(pathMenuCreate), 2; got != want {
		t.Errorf("Calls(%q): got %d, want %d (a 40001, then the retry)", pathMenuCreate, got, want)
	}
}

func TestClientWebsiteExchange(t *testing.T) {
	wx := newServer(t)
	wx.AddUser(wechattest.User{OpenID: "oAlice", UnionID: "uAlice", Nickname: "Alice"})
	ctx := testContext(t)
	web := &mp.Client{AppID: wx.WebsiteAppID, AppSecret: wx.WebsiteAppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	tok, err := web.Exchange(ctx, wx.IssueCode("oAlice", "snsapi_login"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.OpenID != wx.WebsiteOpenID("oAlice") || tok.UnionID != "uAlice" || tok.Scope != "snsapi_login" {
		t.Errorf("token: got openid %q unionid %q scope %q", tok.OpenID, tok.UnionID, tok.Scope)
	}
	p, err := web.UserInfo(ctx, tok.AccessToken, tok.OpenID)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if p.Nickname != "Alice" || p.UnionID != "uAlice" {
		t.Errorf("profile: got %+v", p)
	}
}

// A desktop browser logs in through QR login: the middleware sends
// it to the emulator's qrconnect, which approves, and the callback
// exchanges the code with the website app.
func TestQRLoginThroughMiddleware(t *testing.T) {
	wx := newServer(t)
	wx.AddUser(wechattest.User{OpenID: "oAlice", UnionID: "uAlice", Nickname: "Alice"})
	wx.SetVisitor("oAlice")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	sessions := scs.New()
	auth, err := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret,
		WebsiteAppID: wx.WebsiteAppID, WebsiteAppSecret: wx.WebsiteAppSecret,
		CallbackURL: appURL + "/wechat/callback",
		Sessions:    sessions,
		HTTPClient:  wx.Client(),
		Endpoints:   wx.Endpoints(),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "openid=%s unionid=%s nickname=%s", u.OpenID, u.UnionID, u.Nickname)
	})))
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	t.Cleanup(app.Close)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Transport: wx.Client().Transport}
	req, err := http.NewRequest(http.MethodGet, appURL+"/account/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "openid=" + wx.WebsiteOpenID("oAlice") + " unionid=uAlice nickname=Alice"
	if resp.StatusCode != http.StatusOK || string(body) != want {
		t.Errorf("got HTTP %d %q, want 200 %q", resp.StatusCode, body, want)
	}
	if wx.Calls(pathQRConnect) != 1 || wx.Calls(pathAuthorize) != 0 {
		t.Errorf("calls: qrconnect %d, authorize %d; want 1 and 0", wx.Calls(pathQRConnect), wx.Calls(pathAuthorize))
	}
}

// Menu reads back what CreateMenu set, through menu/get, and recovers from
// a token the emulator's clock has expired.
func TestClientMenuReadsTheLiveMenu(t *testing.T) {
	wx := newServer(t)
	ctx := testContext(t)
	ts := mp.NewAccessTokenSource(apiClient(wx), mp.CredentialOptions{})
	_, err := apiClient(wx).Menu(ctx, ts)
	var apiErr *mp.Error
	if !errors.As(err, &apiErr) || apiErr.Code != mp.CodeNoMenu {
		t.Fatalf("Menu before any was created: got %v, want an *mp.Error with CodeNoMenu", err)
	}
	if err := apiClient(wx).CreateMenu(ctx, ts, clientMenu()); err != nil {
		t.Fatalf("CreateMenu: %v", err)
	}
	wx.Advance(2*time.Hour + time.Second) // the cached token has expired upstream: 42001
	got, err := apiClient(wx).Menu(ctx, ts)
	if err != nil {
		t.Fatalf("Menu: %v", err)
	}
	if want := clientMenu(); !reflect.DeepEqual(got, want) {
		t.Errorf("Menu: got %+v, want %+v", got, want)
	}
	if got, want := wx.Calls("/cgi-bin/menu/get"), 3; got != want {
		t.Errorf("Calls(menu/get): got %d, want %d (46003, a 42001, then the retry)", got, want)
	}
}
