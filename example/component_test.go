package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The emulator's paths of component mode the tests count, and its second
// user.
const (
	pathComponentExchange = "/sns/oauth2/component/access_token"
	pathComponentToken    = "/cgi-bin/component/api_component_token"
	pathAuthorizerToken   = "/cgi-bin/component/api_authorizer_token"
	bob                   = "oBob00000000000000000000001"
	bobNickname           = "Bob 鲍勃"
)

// componentStack is the example app in component mode and its emulator,
// as `COMPONENT=1 go run ./example` runs them, on loopback ports.
type componentStack struct {
	wx       *wechattest.Server
	app      string // the app's origin
	accounts []account
}

// newComponentStack starts the example app in component mode on the
// emulator's platform, and has the emulator push a verify ticket and the
// two accounts' authorizations to it, as run does.
func newComponentStack(t *testing.T) *componentStack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := &componentStack{app: "http://" + ln.Addr().String()}
	cfg := config{
		Component:   true,
		CallbackURL: st.app + "/wechat/callback",
		Scope:       "snsapi_userinfo",
		Logger:      slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
	st.wx, err = startEmulator(cfg.CallbackURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.wx.Close)
	useComponentEmulator(&cfg, st.wx)
	st.accounts = cfg.Accounts
	handler, closeApp, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeApp() })
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	srv.Start()
	t.Cleanup(srv.Close) // before the emulator's: its pushes stop reaching the app
	if err := authorizeOnEmulator(st.wx, st.app+"/wechat/push", cfg.Accounts); err != nil {
		t.Fatal(err)
	}
	return st
}

// browse GETs pageURL as a browser's navigation does, following
// redirects, and returns the final status and body.
func browse(t *testing.T, c *http.Client, pageURL string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, pageURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// jsConfig is the part of a wx.config the tests read.
type jsConfig struct {
	AppID     string `json:"appId"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// wxConfig gets the wx.config of the page at pageURL from endpoint.
func wxConfig(t *testing.T, c *http.Client, endpoint, pageURL string) jsConfig {
	t.Helper()
	resp, err := c.Get(endpoint + "?url=" + url.QueryEscape(pageURL))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var cfg jsConfig
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &cfg) != nil {
		t.Fatalf("GET %s: HTTP %d %s, want a wx.config", endpoint, resp.StatusCode, body)
	}
	return cfg
}

// verdict asks the emulator, as its stand-in for jweixin does in a
// browser, whether cfg is a good wx.config of pageURL: "config:ok" when
// it is signed with a ticket the emulator issued to cfg's appId.
func verdict(t *testing.T, wx *wechattest.Server, cfg jsConfig, pageURL string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"appId": cfg.AppID, "timestamp": cfg.Timestamp, "nonceStr": cfg.NonceStr,
		"signature": cfg.Signature, "url": pageURL})
	resp, err := http.Post(wx.URL+"/open/js/verify", "text/plain", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ ErrMsg string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.ErrMsg
}

// Two users log into the two accounts: each page is its account's, with
// that account's openid for the user, through the component exchange
// only; each account's JS-SDK config carries its appid and is signed with
// its own ticket.
func TestComponentApp(t *testing.T) {
	st := newComponentStack(t)
	st.wx.SetMode(wechattest.AutoApprove) // the visitor approves at once
	a, b := st.accounts[0], st.accounts[1]
	if a.AppID == b.AppID || a.Prefix != "/a/" || b.Prefix != "/b/" {
		t.Fatalf("accounts: got %+v, want two under /a/ and /b/", st.accounts)
	}

	status, home := browse(t, http.DefaultClient, st.app+"/")
	for _, acct := range st.accounts {
		if status != http.StatusOK || !strings.Contains(home, `href="`+acct.Prefix+`account/"`) || !strings.Contains(home, acct.AppID) {
			t.Errorf("home page: HTTP %d %q, want a link to %saccount/ and the appid %s", status, home, acct.Prefix, acct.AppID)
		}
	}

	configs := map[string]jsConfig{}
	clients := map[string]*http.Client{}
	for _, tt := range []struct {
		acct           account
		user, nickname string
	}{{a, alice, aliceNickname}, {b, bob, bobNickname}} {
		st.wx.SetVisitor(tt.user)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		clients[tt.acct.Prefix] = c
		status, body := browse(t, c, st.app+tt.acct.Prefix+"account/")
		openID := st.wx.AuthorizerOpenID(tt.acct.AppID, tt.user)
		for _, want := range []string{`<dd id="appid">` + tt.acct.AppID + `</dd>`, `<dd id="openid">` + openID + `</dd>`, tt.nickname} {
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%saccount/ for %s: HTTP %d %q, want %q", tt.acct.Prefix, tt.user, status, body, want)
			}
		}

		page := st.app + tt.acct.Prefix + "account/jssdk"
		if status, body := browse(t, c, page); status != http.StatusOK || !strings.Contains(body, `data-config="`+tt.acct.Prefix+`wechat/jssdk"`) {
			t.Errorf("%s: HTTP %d %q, want the page asking %swechat/jssdk", page, status, body, tt.acct.Prefix)
		}
		cfg := wxConfig(t, c, st.app+tt.acct.Prefix+"wechat/jssdk", page)
		if cfg.AppID != tt.acct.AppID {
			t.Errorf("wx.config of %s: appId %q, want the account's %q", page, cfg.AppID, tt.acct.AppID)
		}
		if got := verdict(t, st.wx, cfg, page); got != "config:ok" {
			t.Errorf("wx.config of %s: the emulator says %q, want config:ok", page, got)
		}
		configs[tt.acct.AppID] = cfg
	}

	// Each is signed with its own account's ticket: not the other's.
	wrong := configs[a.AppID]
	wrong.AppID = b.AppID
	if got := verdict(t, st.wx, wrong, st.app+"/a/account/jssdk"); got == "config:ok" {
		t.Errorf("account a's signature under account b's appid: the emulator says %q, want it refused", got)
	}
	if got := st.wx.Calls(pathComponentExchange); got != 2 {
		t.Errorf("component code exchanges: got %d, want 2", got)
	}
	if got := st.wx.Calls(pathToken); got != 0 {
		t.Errorf("the Official Account's own exchange (%s): got %d calls, want none", pathToken, got)
	}

	// Logging out of account a: its page asks WeChat again.
	c := *clients[a.Prefix]
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Post(st.app+a.Prefix+"logout", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Errorf("POST %slogout: HTTP %d to %q, want 303 to /", a.Prefix, resp.StatusCode, loc)
	}
	if status, _ := browse(t, &c, st.app+a.Prefix+"account/"); status != http.StatusFound {
		t.Errorf("%saccount/ after logout: HTTP %d, want 302 to WeChat", a.Prefix, status)
	}
}

// COMPONENT=1 gives the emulator's platform, COMPONENT_APPID and the rest
// a real one, and a malformed COMPONENT_ACCOUNTS stops the app.
func TestConfigFromEnvComponent(t *testing.T) {
	const site = "http://127.0.0.1:8080"
	clear := func(env map[string]string) {
		for _, k := range []string{"COMPONENT", "COMPONENT_APPID", "COMPONENT_SECRET", "COMPONENT_TOKEN", "COMPONENT_AES_KEY",
			"COMPONENT_CALLBACK_URL", "COMPONENT_ACCOUNTS", "WECOM", "WECOM_CORPID", "WECHAT_APPID", "WECHAT_SCOPE", "REDIS_ADDR"} {
			t.Setenv(k, env[k])
		}
	}
	clear(map[string]string{"COMPONENT": "1"})
	if got := configFromEnv(site); !got.Component || got.ComponentAppID != "" || got.CallbackURL != site+"/wechat/callback" ||
		got.Scope != "snsapi_userinfo" || got.Accounts != nil || got.Invalid != nil {
		t.Errorf("COMPONENT=1: got %+v, want component mode on the emulator", got)
	}

	clear(map[string]string{
		"COMPONENT_APPID": "wxc0c0c0c0c0c0c0c0", "COMPONENT_SECRET": "s3cret", "COMPONENT_TOKEN": "tok",
		"COMPONENT_AES_KEY": strings.Repeat("k", 43), "COMPONENT_CALLBACK_URL": "https://platform.example.com/wechat/callback",
		"COMPONENT_ACCOUNTS": "/a/=wx0000000000000001, /shop-b/=wx0000000000000002", "REDIS_ADDR": "127.0.0.1:6379",
	})
	got := configFromEnv(site)
	want := []account{{"/a/", "wx0000000000000001"}, {"/shop-b/", "wx0000000000000002"}}
	if !got.Component || got.ComponentAppID != "wxc0c0c0c0c0c0c0c0" || got.ComponentSecret != "s3cret" || got.ComponentToken != "tok" ||
		got.ComponentAESKey != strings.Repeat("k", 43) || got.CallbackURL != "https://platform.example.com/wechat/callback" ||
		got.RedisAddr != "127.0.0.1:6379" || len(got.Accounts) != 2 || got.Accounts[0] != want[0] || got.Accounts[1] != want[1] || got.Invalid != nil {
		t.Errorf("a real platform: got %+v", got)
	}

	for _, bad := range []string{"a=wx1", "/a/=", "/a/=wx1,/a/=wx2", "/a/=wx1,/b/=wx1", "/wechat/=wx1", "/a/b/=wx1"} {
		clear(map[string]string{"COMPONENT_APPID": "wxc0c0c0c0c0c0c0c0", "COMPONENT_ACCOUNTS": bad})
		cfg := configFromEnv(site)
		if _, _, err := newApp(cfg); err == nil || !strings.Contains(err.Error(), "COMPONENT_ACCOUNTS") {
			t.Errorf("COMPONENT_ACCOUNTS=%s: newApp says %v, want an error naming COMPONENT_ACCOUNTS", bad, err)
		}
	}
	clear(map[string]string{"COMPONENT_APPID": "wxc0c0c0c0c0c0c0c0"})
	if _, _, err := newApp(configFromEnv(site)); err == nil || !strings.Contains(err.Error(), "COMPONENT_ACCOUNTS") {
		t.Errorf("no COMPONENT_ACCOUNTS: newApp says %v, want an error naming it", err)
	}
}

// Two instances of the app in component mode on one Redis, behind one
// address: the verify ticket WeChat pushes to one is the other's too, the
// component_access_token and each account's jsapi_ticket are fetched once
// between them, the accounts' tokens redeemed on one serve the other, and
// a login started on one ends on the other.
func TestComponentAppWithRedis(t *testing.T) {
	srv := redistest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := "http://" + ln.Addr().String()
	wx, err := startEmulator(site + "/wechat/callback")
	if err != nil {
		t.Fatal(err)
	}
	defer wx.Close()
	wx.SetMode(wechattest.AutoApprove)
	var handlers [2]http.Handler
	var accounts []account
	for i := range handlers {
		cfg := config{Component: true, CallbackURL: site + "/wechat/callback", Scope: "snsapi_userinfo", RedisAddr: srv.Addr(),
			Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))}
		useComponentEmulator(&cfg, wx)
		h, closeApp, err := newApp(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer closeApp()
		handlers[i], accounts = h, cfg.Accounts
	}
	// WeChat's pushes reach instance 0 only; other requests go where
	// route says: one instance, or (-1) each to the other in turn.
	var route, n atomic.Int64
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := route.Load()
		switch {
		case r.URL.Path == "/wechat/push":
			i = 0
		case i < 0:
			i = n.Add(1) % 2
		}
		handlers[i].ServeHTTP(w, r)
	})}}
	app.Start()
	defer app.Close()

	// Instance 0 gets the ticket and the authorizations, and fetches the
	// component token for api_query_auth.
	if _, err := wx.PushVerifyTicket(site + "/wechat/push"); err != nil {
		t.Fatal(err)
	}
	for _, acct := range accounts {
		if err := wx.PushAuthorization(site+"/wechat/push", "authorized", acct.AppID); err != nil {
			t.Fatal(err)
		}
	}

	// Alice logs into account a wholly on instance 1, which never got a push.
	route.Store(1)
	wx.SetVisitor(alice)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	a := accounts[0]
	status, body := browse(t, c, site+a.Prefix+"account/")
	if want := `<dd id="openid">` + wx.AuthorizerOpenID(a.AppID, alice) + `</dd>`; status != http.StatusOK || !strings.Contains(body, want) {
		t.Fatalf("instance 1, %saccount/: HTTP %d %q, want %q", a.Prefix, status, body, want)
	}
	// Its JS-SDK config needs account a's authorizer token, from the
	// refresh token instance 0 redeemed.
	page := site + a.Prefix + "account/jssdk"
	if cfg := wxConfig(t, c, site+a.Prefix+"wechat/jssdk", page); cfg.AppID != a.AppID || verdict(t, wx, cfg, page) != "config:ok" {
		t.Errorf("instance 1's wx.config for %s: %+v, want account a's, signed with its ticket", a.AppID, cfg)
	}

	// Bob logs into account b, his requests alternating between the two.
	route.Store(-1)
	wx.SetVisitor(bob)
	jar, _ = cookiejar.New(nil)
	c = &http.Client{Jar: jar}
	b := accounts[1]
	for i := 0; i < 3; i++ {
		status, body := browse(t, c, site+b.Prefix+"account/")
		if want := `<dd id="openid">` + wx.AuthorizerOpenID(b.AppID, bob) + `</dd>`; status != http.StatusOK || !strings.Contains(body, want) {
			t.Fatalf("visit %d of %saccount/: HTTP %d %q, want %q", i, b.Prefix, status, body, want)
		}
	}
	page = site + b.Prefix + "account/jssdk"
	for i := 0; i < 2; i++ { // once on each instance
		if cfg := wxConfig(t, c, site+b.Prefix+"wechat/jssdk", page); cfg.AppID != b.AppID || verdict(t, wx, cfg, page) != "config:ok" {
			t.Errorf("wx.config %d for %s: %+v, want account b's, signed with its ticket", i, b.AppID, cfg)
		}
	}

	if got := wx.Calls(pathComponentToken); got != 1 {
		t.Errorf("%s: got %d calls, want 1 for both instances", pathComponentToken, got)
	}
	// api_query_auth gave instance 0 each account's authorizer token with
	// its refresh token: both instances use those, and fetch each
	// account's jsapi_ticket once between them.
	if got := wx.Calls(pathAuthorizerToken); got != 0 {
		t.Errorf("%s: got %d calls, want none (the tokens of api_query_auth serve both instances)", pathAuthorizerToken, got)
	}
	if got := wx.Calls(pathTicket); got != 2 {
		t.Errorf("%s: got %d calls, want 2 (one per account) for both instances", pathTicket, got)
	}
	if got := wx.Calls(pathComponentExchange); got != 2 {
		t.Errorf("component code exchanges: got %d, want 2", got)
	}
}
