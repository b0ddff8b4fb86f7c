package wechatauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/logintest"
	"github.com/wechatauth/wechatauth/wechattest"
)

// Paths of the component endpoints the emulator counts.
const (
	pathComponentExchange = "/sns/oauth2/component/access_token"
	pathComponentRefresh  = "/sns/oauth2/component/refresh_token"
	pathComponentToken    = "/cgi-bin/component/api_component_token"
)

// componentSite is the harness in component mode: a third-party platform
// of the emulator's, with a verify ticket pushed, logs users in for the
// emulator's two authorizers: b at "/b/", a everywhere else.
type componentSite struct {
	*harness
	platform *component.Platform
	a, b     string // the authorizers' appids
}

func newComponentSite(t testing.TB, configure func(*wechatauth.Options)) *componentSite {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, HTTPClient: wx.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	push := httptest.NewServer(platform.PushHandler())
	t.Cleanup(push.Close)
	if _, err := wx.PushVerifyTicket(push.URL); err != nil {
		t.Fatal(err)
	}
	accounts := wx.Authorizers()
	s := &componentSite{platform: platform, a: accounts[0], b: accounts[1]}
	s.harness = newHarnessOn(t, wx, func(o *wechatauth.Options) {
		o.AppID, o.AppSecret = "", ""
		o.Component = platform
		o.Authorizer = wechatauth.AuthorizerByPath(map[string]string{"/": s.a, "/b/": s.b})
		if configure != nil {
			configure(o)
		}
	})
	s.mux.Handle("/b/", s.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		w.Write([]byte("b appid=" + u.AppID + " openid=" + u.OpenID + " "))
	})))
	return s
}

// openID is the openid of the emulator's visitor in the account appID.
func (s *componentSite) openID(appID string) string {
	return s.wx.AuthorizerOpenID(appID, "oTestUser0000000000000000001") // the emulator's visitor
}

// componentDriver is the component site as the shared suite of the
// flow's protections drives it.
type componentDriver struct{ *componentSite }

func (d componentDriver) App() string                      { return d.app.URL }
func (d componentDriver) Browser(follow bool) *http.Client { return d.browser(follow) }
func (d componentDriver) LoginURL(returnTo string) string  { return d.auth.LoginURL(returnTo) }
func (d componentDriver) Authorize() string                { return d.wx.Endpoints().Authorize }
func (d componentDriver) Exchanges() int                   { return d.wx.Calls(pathComponentExchange) }
func (d componentDriver) LoggedIn(body string) bool {
	return strings.Contains(body, "openid="+d.openID(d.a)+" ")
}
func (d componentDriver) SetClock(now func() time.Time) { wechatauth.SetClock(d.auth, now) }
func (d componentDriver) FailExchanges(n int) {
	for range n {
		d.wx.FailNext(pathComponentExchange, 40029)
	}
}
func (d componentDriver) Refuse(on bool)            { d.wx.SetMode(emulatorMode(on)) }
func (d componentDriver) SessionCookie() string     { return d.opts.Sessions.Cookie.Name }
func (d componentDriver) LoginCookiePrefix() string { return "wechatauth-login-" }
func (d componentDriver) IssueCode() string         { return d.wx.IssueAuthorizerCode(d.a, "", "snsapi_base") }

// Every protection of the Official Account's login holds in component
// mode: the same suite, run through the platform.
func TestComponentLoginSuite(t *testing.T) {
	logintest.Run(t, func(t *testing.T) logintest.Driver { return componentDriver{newComponentSite(t, nil)} })
}

// Two users log into two accounts on one site, each through their own
// account, and land on that account's page as that account's user; a
// session of one account is no login on the other's pages.
func TestComponentTwoAccounts(t *testing.T) {
	s := newComponentSite(t, nil)
	c := s.browser(false)
	first, _ := s.step(c, "/account/page", http.StatusFound)
	link, err := url.Parse(first.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := link.Query()
	if q.Get("appid") != s.a || q.Get("component_appid") != s.wx.ComponentAppID {
		t.Fatalf("authorize link %q: want appid %s and component_appid %s", link, s.a, s.wx.ComponentAppID)
	}
	if raw := link.RawQuery; strings.Index(raw, "&component_appid=") < strings.Index(raw, "&state=") {
		t.Errorf("authorize link %q: component_appid must come after state, as WeChat's page requires", raw)
	}

	alice := s.login("/account/page")
	_, body := s.get(alice, "/account/page")
	if !strings.Contains(body, "openid="+s.openID(s.a)+" ") {
		t.Fatalf("account a's page shows %q, want the visitor's openid in a, %s", body, s.openID(s.a))
	}
	bob := s.login("/b/page")
	_, body = s.get(bob, "/b/page")
	if want := "b appid=" + s.b + " openid=" + s.openID(s.b) + " "; body != want {
		t.Fatalf("account b's page shows %q, want %q", body, want)
	}
	if s.openID(s.a) == s.openID(s.b) {
		t.Fatal("the emulator gave one openid in both accounts")
	}
	if got := s.wx.Calls(pathComponentExchange); got != 2 {
		t.Errorf("%d component exchanges, want 2", got)
	}
	if got := s.wx.Calls("/sns/oauth2/access_token"); got != 0 {
		t.Errorf("%d exchanges through the Official Account's endpoint, want 0", got)
	}
	if got := s.wx.Calls(pathComponentToken); got != 1 {
		t.Errorf("%d component_access_token fetches, want 1 for both logins", got)
	}

	// Alice's session is a's: on b's page she logs in through b.
	resp, _ := s.step(s.noFollow(alice), "/b/page", http.StatusFound)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "appid="+s.b+"&") {
		t.Fatalf("a's user on b's page was sent to %q, want b's authorize page", loc)
	}
	_, body = s.get(alice, "/b/page")
	if want := "b appid=" + s.b + " openid=" + s.openID(s.b) + " "; body != want {
		t.Fatalf("after logging in through b, b's page shows %q, want %q", body, want)
	}
	// Her login to a stays: back on a's page, no round trip.
	exchanges := s.wx.Calls(pathComponentExchange)
	resp, body = s.get(s.noFollow(alice), "/account/page")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "openid="+s.openID(s.a)+" ") {
		t.Fatalf("back on a's page after logging in to b: %d %q, want a's user with no round trip", resp.StatusCode, body)
	}
	if got := s.wx.Calls(pathComponentExchange); got != exchanges {
		t.Errorf("back on a's page: %d more exchanges, want 0", got-exchanges)
	}
	// Logout logs out of both.
	s.step(s.noFollow(alice), "/logout", http.StatusFound)
	for _, page := range []string{"/account/page", "/b/page"} {
		if resp, _ := s.get(s.noFollow(alice), page); resp.StatusCode != http.StatusFound {
			t.Errorf("after logout, %s: %d, want a redirect to log in", page, resp.StatusCode)
		}
	}

	// The stores keep each account's user under its key.
	ctx := context.Background()
	for _, id := range []string{s.a + "/" + s.openID(s.a), s.b + "/" + s.openID(s.b)} {
		if _, err := s.store.User(ctx, id); err != nil {
			t.Errorf("no user stored under %q: %v", id, err)
		}
	}
	if _, err := s.store.User(ctx, s.openID(s.a)); err == nil {
		t.Errorf("a user stored under the bare openid %q: accounts' users must be keyed by appid", s.openID(s.a))
	}
}

// noFollow returns a client with c's cookies that stops at redirects.
func (s *componentSite) noFollow(c *http.Client) *http.Client {
	return &http.Client{Jar: c.Jar, Transport: c.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// A callback whose appid is not its login's account logs nobody in and
// exchanges nothing; its code is refused for good.
func TestComponentCallbackOfAnotherAccount(t *testing.T) {
	s := newComponentSite(t, nil)
	for _, appid := range []string{"", "b", "wx00000000000000ff"} {
		c := s.browser(false)
		cb := s.callbackURL(c, "/account/page")
		u, _ := url.Parse(cb)
		q := u.Query()
		switch appid {
		case "":
			q.Del("appid")
		case "b":
			q.Set("appid", s.b)
		default:
			q.Set("appid", appid)
		}
		u.RawQuery = q.Encode()
		resp, body := s.get(c, u.String())
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback with appid %q: status %d, want 400; body %q", q.Get("appid"), resp.StatusCode, body)
		}
		// The same code with the right appid is refused too: nobody takes it.
		q.Set("appid", s.a)
		u.RawQuery = q.Encode()
		if resp, _ := s.get(s.browser(false), u.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("the refused code, delivered again with the right appid: status %d, want 400", resp.StatusCode)
		}
	}
	if got := s.wx.Calls(pathComponentExchange); got != 0 {
		t.Errorf("%d component exchanges, want 0", got)
	}
	if !strings.Contains(s.logs.String(), "is not the Official Account") {
		t.Errorf("the log does not say why the callback was refused:\n%s", s.logs.String())
	}
}

// A page that no account serves gets 404, not a login.
func TestComponentPageOfNoAccount(t *testing.T) {
	s := newComponentSite(t, func(o *wechatauth.Options) {
		o.Authorizer = func(r *http.Request) string { return r.URL.Query().Get("account") }
	})
	s.step(s.browser(false), "/account/page", http.StatusNotFound)
	s.step(s.browser(false), "/account/page?account=bad/appid", http.StatusNotFound)
	resp, _ := s.step(s.browser(false), "/account/page?account="+s.b, http.StatusFound)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "appid="+s.b+"&") {
		t.Errorf("a page of account b sent the browser to %q", loc)
	}
}

// RefreshUser renews a user's tokens through the component endpoint.
func TestComponentRefreshUser(t *testing.T) {
	s := newComponentSite(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	s.login("/account/page")
	later := time.Now().Add(3 * time.Hour) // past the user's access token
	wechatauth.SetClock(s.auth, func() time.Time { return later })
	u, err := s.auth.RefreshUser(context.Background(), s.a+"/"+s.openID(s.a))
	if err != nil {
		t.Fatal(err)
	}
	if u.AppID != s.a || u.OpenID != s.openID(s.a) || u.Nickname == "" {
		t.Errorf("RefreshUser = %+v, want a's user with a nickname", u)
	}
	if got := s.wx.Calls(pathComponentRefresh); got != 1 {
		t.Errorf("%d component refreshes, want 1", got)
	}
}

// A component_access_token WeChat refuses as stale is renewed, and the
// login goes on.
func TestComponentStaleTokenRenewed(t *testing.T) {
	s := newComponentSite(t, nil)
	s.wx.FailNext(pathComponentExchange, 40001)
	s.login("/account/page")
	if got := s.wx.Calls(pathComponentToken); got != 2 {
		t.Errorf("%d component_access_token fetches, want 2 (the stale one renewed)", got)
	}
}

// Options say what component mode needs.
func TestComponentOptionsChecked(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	platform, err := component.New(component.Options{AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey, APIURL: wx.URL})
	if err != nil {
		t.Fatal(err)
	}
	base := wechatauth.Options{CallbackURL: "https://example.com/wechat/callback", Sessions: scs.New()}
	for _, tc := range []struct {
		name string
		set  func(*wechatauth.Options)
		want string
	}{
		{"no authorizer", func(o *wechatauth.Options) { o.Component = platform }, "Options.Authorizer: required with Component"},
		{"no platform", func(o *wechatauth.Options) { o.Authorizer = wechatauth.AuthorizerByPath(nil) }, "Options.Component: required with Authorizer"},
		{"an AppID too", func(o *wechatauth.Options) {
			o.Component, o.Authorizer, o.AppID = platform, wechatauth.AuthorizerByPath(nil), "wx0000000000000001"
		}, "leave AppID and AppSecret empty in component mode"},
	} {
		o := base
		tc.set(&o)
		if _, err := wechatauth.New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	o := base
	o.Component, o.Authorizer = platform, wechatauth.AuthorizerByPath(nil)
	if _, err := wechatauth.New(o); err != nil {
		t.Errorf("New in component mode: %v", err)
	}
}

func TestAuthorizerByPath(t *testing.T) {
	byPath := wechatauth.AuthorizerByPath(map[string]string{"/s/": "wxs", "/s/a/": "wxsa"})
	for _, tc := range []struct {
		by   func(*http.Request) string
		url  string
		want string
	}{
		{byPath, "http://h/s/a/b", "wxsa"},
		{byPath, "http://h/s/b", "wxs"},
		{byPath, "http://h/t/", ""},
	} {
		if got := tc.by(httptest.NewRequest("GET", tc.url, nil)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.url, got, tc.want)
		}
	}
}

// BenchmarkComponentRatio is BenchmarkAuthenticatedRatio in component
// mode: the logged-in path also asks Options.Authorizer (AuthorizerByPath
// here) which account serves the request and checks the session's user
// belongs to it.
func BenchmarkComponentRatio(b *testing.B) {
	floor, floorReq := floorSetup(b, nil)
	s := newComponentSite(b, func(o *wechatauth.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	c := s.login("/account/")
	cookie := &http.Cookie{Name: s.opts.Sessions.Cookie.Name, Value: s.cookie(c)}
	mw := s.opts.Sessions.LoadAndSave(s.auth.RequireWeChatUser(ok))
	reportRatio(b, floor, floorReq, mw, benchRequest(cookie))
}

func BenchmarkComponentRequireWeChatUser(b *testing.B) {
	s := newComponentSite(b, func(o *wechatauth.Options) { o.Logger = slog.New(slog.DiscardHandler) })
	c := s.login("/account/")
	cookie := &http.Cookie{Name: s.opts.Sessions.Cookie.Name, Value: s.cookie(c)}
	serve(b, s.opts.Sessions.LoadAndSave(s.auth.RequireWeChatUser(ok)), benchRequest(cookie), http.StatusOK)
}

// The debug login and the events of component mode name the account:
// a debug login on b's page logs in b's user, and events carry the appid
// beside the openid.
func TestComponentDebugLoginAndEvents(t *testing.T) {
	var mu sync.Mutex
	var events []wechatauth.Event
	s := newComponentSite(t, func(o *wechatauth.Options) {
		o.DebugBypass = true
		o.OnEvent = func(_ *http.Request, e wechatauth.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}
	})
	c := s.browser(true)
	if _, body := s.get(c, "/b/page?_user=oDeveloper"); body != "b appid="+s.b+" openid=oDeveloper " {
		t.Fatalf("debug login on b's page: %q", body)
	}
	s.login("/account/page")
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, e := range events {
		if e.Kind == wechatauth.EventLogin || e.Kind == wechatauth.EventDebugLogin {
			got = append(got, e.Kind.String()+" "+e.AppID+" "+e.OpenID)
		}
	}
	want := []string{"debug_login " + s.b + " oDeveloper", "login " + s.a + " " + s.openID(s.a)}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

// Before the first verify ticket a login fails on a page that says so,
// the log names the missing ticket, and WeChat is not asked for a token.
func TestComponentNoTicketYet(t *testing.T) {
	s := newComponentSite(t, func(o *wechatauth.Options) {
		p, err := component.New(component.Options{AppID: "wx00000000000000c1", AppSecret: "emulator-component-secret-000000",
			Token: "emulatortoken", EncodingAESKey: "emulatorComponentAESKey00000000000000000000",
			PushURL: "https://platform.example.com/wechat/push"})
		if err != nil {
			t.Fatal(err)
		}
		o.Component = p
	})
	tokens := s.wx.Calls(pathComponentToken)
	resp, body := s.get(s.browser(true), "/account/page")
	if resp.StatusCode < 500 {
		t.Fatalf("login without a verify ticket: status %d, want a 5xx; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(s.logs.String(), "component_verify_ticket") || !strings.Contains(s.logs.String(), "https://platform.example.com/wechat/push") {
		t.Errorf("the log does not name the missing ticket and the push URL:\n%s", s.logs.String())
	}
	if got := s.wx.Calls(pathComponentToken) - tokens; got != 0 {
		t.Errorf("%d component_access_token calls without a ticket, want 0", got)
	}
	t.Logf("status %d", resp.StatusCode)
}
