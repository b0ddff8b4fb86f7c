package wechatauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

// Hostile inputs against component mode: each test tries a group of them
// against the two-account site of authorizers_test.go and says what each
// got (go test -v shows the lines).

// accountPage mounts at pattern a protected page that prints the account
// and the user it let in.
func (s *componentSite) accountPage(pattern, name string) {
	s.mux.Handle(pattern, s.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "%s appid=%s openid=%s ", name, u.AppID, u.OpenID)
	})))
}

// An encoded "/" does not separate path segments for http.ServeMux, so
// "/b%2Fpage" is served by the site's one-segment pages, which are
// account a's (the "/" entry): the lookup of the account must read the
// path as the mux routes it, or b's users are let in on a's pages.
func TestRedTeamEncodedSlashIsNotAnotherAccountsPage(t *testing.T) {
	s := newComponentSite(t, nil)
	s.accountPage("/{page}", "a-page") // a's one-segment pages, such as /about
	bob := s.login("/b/page")          // logged in through b

	for _, path := range []string{"/b%2Fpage", "/b%2fpage", "/b%2F", "/b%2F%2E%2E%2Fpage"} {
		resp, body := s.get(s.noFollow(bob), path)
		t.Logf("b's user on %s: %d %q", path, resp.StatusCode, body)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("%s, served by a's page, let b's user in: %q", path, body)
			continue
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.Contains(loc, "appid="+s.a+"&") {
			t.Errorf("%s: %d to %q, want a login through a", path, resp.StatusCode, loc)
		}
	}
	// The public page ("/", a's) does not see b's user either.
	_, body := s.get(bob, "/b%2Fx/y")
	if strings.Contains(body, s.openID(s.b)) {
		t.Errorf("a's public page at /b%%2Fx/y shows b's user: %q", body)
	}
	// Escapes that the mux decodes before routing still name the account.
	_, body = s.get(bob, "/%62/page")
	if want := "b appid=" + s.b + " openid=" + s.openID(s.b) + " "; body != want {
		t.Errorf("/%%62/page (b's page for the mux) shows %q, want %q", body, want)
	}
}

func TestRedTeamAuthorizerByPathReadsThePathAsTheMuxRoutesIt(t *testing.T) {
	by := wechatauth.AuthorizerByPath(map[string]string{"/": "wxa", "/b/": "wxb", "/b/c/": "wxbc"})
	mux := http.NewServeMux()
	for pattern, want := range map[string]string{"/": "wxa", "/b/": "wxb", "/b/c/": "wxbc"} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, want) })
	}
	for _, raw := range []string{"/x", "/b/x", "/b%2Fx", "/b%2fx", "/%62/x", "/b/c/x", "/b/c%2Fx", "/b%2Fc/x",
		"/b/%63/x", "/%2Fb/x", "/b/x%2F..%2F..%2Fc/x", "/a%2F..%2Fb/x", "/b/..%2Fc/x", "/b"} {
		r := httptest.NewRequest("GET", "http://h"+raw, nil)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		routed := w.Body.String()
		if w.Code != http.StatusOK {
			t.Logf("%s: the mux answers %d", raw, w.Code)
			continue
		}
		if got := by(r); got != routed {
			t.Errorf("%s: the mux routes it to %s's page, AuthorizerByPath says %q", raw, routed, got)
		}
	}
}

// The callback's appid, every way a browser can spell it: only the
// login's own account, as WeChat sends it, gets to the exchange.
func TestRedTeamCallbackAppIDSpellings(t *testing.T) {
	s := newComponentSite(t, nil)
	long := "wx" + strings.Repeat("0", 300)
	for _, tc := range []struct {
		name  string
		query func(q string) string // the callback's query, from one with appid= removed
		ok    bool
	}{
		{"a", func(q string) string { return q + "&appid=" + s.a }, true},
		{"a twice", func(q string) string { return q + "&appid=" + s.a + "&appid=" + s.a }, true},
		{"a then b", func(q string) string { return q + "&appid=" + s.a + "&appid=" + s.b }, true}, // Get takes the first: the exchange is a's anyway
		{"b then a", func(q string) string { return q + "&appid=" + s.b + "&appid=" + s.a }, false},
		{"b", func(q string) string { return q + "&appid=" + s.b }, false},
		{"none", func(q string) string { return q }, false},
		{"empty", func(q string) string { return q + "&appid=" }, false},
		{"bare key", func(q string) string { return q + "&appid" }, false},
		{"upper case", func(q string) string { return q + "&appid=" + strings.ToUpper(s.a) }, false},
		{"percent-encoded a", func(q string) string { return q + "&appid=" + pctAll(s.a) }, true},
		{"a with slash", func(q string) string { return q + "&appid=" + s.a + "/" }, false},
		{"a%2F", func(q string) string { return q + "&appid=" + s.a + "%2F" }, false},
		{"slash a", func(q string) string { return q + "&appid=/" + s.a }, false},
		{"a/b", func(q string) string { return q + "&appid=" + s.a + "/" + s.b }, false},
		{"unicode", func(q string) string { return q + "&appid=" + url.QueryEscape("ｗｘ"+s.a[2:]) }, false},
		{"a + NUL", func(q string) string { return q + "&appid=" + s.a + "%00" }, false},
		{"a + space", func(q string) string { return q + "&appid=" + s.a + "+" }, false},
		{"a + 0x1f", func(q string) string { return q + "&appid=" + s.a + "%1F" }, false},
		{"prefix of a", func(q string) string { return q + "&appid=" + s.a[:len(s.a)-1] }, false},
		{"a + 1", func(q string) string { return q + "&appid=" + s.a + "1" }, false},
		{"very long", func(q string) string { return q + "&appid=" + long }, false},
		{"semicolon", func(q string) string { return q + ";appid=" + s.a }, false},
		{"component appid", func(q string) string { return q + "&appid=" + s.wx.ComponentAppID }, false},
		{"APPID key", func(q string) string { return q + "&APPID=" + s.a }, false},
	} {
		c := s.browser(false)
		cb := mustURL(t, s.callbackURL(c, "/account/page"))
		q := cb.Query()
		q.Del("appid")
		cb.RawQuery = tc.query(q.Encode())
		before := s.wx.Calls(pathComponentExchange)
		resp, body := s.get(c, cb.String())
		exchanged := s.wx.Calls(pathComponentExchange) - before
		t.Logf("appid %s: %d, %d exchange(s)", tc.name, resp.StatusCode, exchanged)
		switch {
		case tc.ok && (resp.StatusCode != http.StatusFound || exchanged != 1):
			t.Errorf("appid %s: %d with %d exchanges, want a login: %.200s", tc.name, resp.StatusCode, exchanged, body)
		case !tc.ok && (resp.StatusCode != http.StatusBadRequest || exchanged != 0):
			t.Errorf("appid %s: %d with %d exchanges, want 400 and none: %.200s", tc.name, resp.StatusCode, exchanged, body)
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, long) || strings.Contains(logs, "\x00") {
		t.Errorf("the log quotes a hostile appid whole")
	}
}

// pctAll percent-encodes every byte of s.
func pctAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// A code of account a brought to a login of b (with b's appid, as the
// callback must) logs nobody in: WeChat refuses to exchange it for b.
func TestRedTeamCodeOfAnotherAccount(t *testing.T) {
	s := newComponentSite(t, nil)
	for _, scope := range []string{"snsapi_base", "snsapi_userinfo"} {
		c := s.browser(false)
		cb := mustURL(t, s.callbackURL(c, "/b/page"))
		q := cb.Query()
		q.Set("code", s.wx.IssueAuthorizerCode(s.a, "", scope))
		cb.RawQuery = q.Encode()
		resp, _ := s.get(c, cb.String())
		t.Logf("a's %s code on b's login: %d to %q", scope, resp.StatusCode, resp.Header.Get("Location"))
		if resp.StatusCode == http.StatusFound && !strings.Contains(resp.Header.Get("Location"), "appid="+s.b+"&") {
			t.Errorf("a's code on b's login sent the browser to %q", resp.Header.Get("Location"))
		}
		if _, body := s.get(s.noFollow(c), "/b/page"); strings.Contains(body, "openid=") {
			t.Errorf("a's code logged in on b's page: %q", body)
		}
	}
	if _, err := s.store.User(context.Background(), s.b+"/"+s.openID(s.a)); err == nil {
		t.Errorf("a's openid stored as b's user")
	}
}

// Options.Authorizer returning hostile strings: none is used as an
// account; the page answers 404 and nothing reaches WeChat.
func TestRedTeamHostileAuthorizer(t *testing.T) {
	var appid string
	s := newComponentSite(t, func(o *wechatauth.Options) {
		o.Authorizer = func(*http.Request) string { return appid }
	})
	for _, v := range []string{"", "/", "wx../", "../wx", "wx/..", "wx/", "/wx", "wx\x1fwx", "wx\x00", "wx wx", "wx\nSet-Cookie: x=1",
		"wx%2F", "wx#", "wx?a=1", "wx&appid=wx", "wxé", "ｗｘ", strings.Repeat("w", 257), s.a + "/" + s.b, "\x1f"} {
		appid = v
		resp, body := s.get(s.browser(false), "/account/page")
		t.Logf("Authorizer %q: %d", trimLog(v), resp.StatusCode)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("Authorizer %q: %d %q, want 404", trimLog(v), resp.StatusCode, trimLog(body))
		}
	}
	// The longest a token may be is still one account.
	appid = strings.Repeat("w", 256)
	if resp, _ := s.get(s.browser(false), "/account/page"); resp.StatusCode != http.StatusFound {
		t.Errorf("a 256-byte appid: %d, want a login (302)", resp.StatusCode)
	}
}

func trimLog(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// The debug login's ?_user= cannot name a user of another account, nor
// carry the key's separator: such a name is no debug login, and the
// visitor logs in through WeChat (the emulator approves).
func TestRedTeamDebugLoginKeys(t *testing.T) {
	s := newComponentSite(t, func(o *wechatauth.Options) { o.DebugBypass = true })
	for _, tc := range []struct{ user, want string }{
		{"oDev", "b appid=" + s.b + " openid=oDev "},
		{s.a + "/oDev", ""},
		{"oDev/" + s.a, ""},
		{"/oDev", ""},
		{"oDev/", ""},
		{"..%2FoDev", ""},
		{"oDev%2F", ""},
		{"oDev%1F" + s.a, ""},
		{"oDev%00", ""},
		{"%C3%A9", ""},
		{strings.Repeat("o", 65), ""},
		{"oDev@x.y", "b appid=" + s.b + " openid=oDev@x.y "}, // a WeCom userid's alphabet: still b's
		{s.openID(s.a), "b appid=" + s.b + " openid=" + s.openID(s.a) + " "},
	} {
		resp, body := s.get(s.browser(true), "/b/page?_user="+tc.user)
		t.Logf("_user=%s on b's page: %d %q", trimLog(tc.user), resp.StatusCode, trimLog(body))
		switch {
		case tc.want != "" && body != tc.want:
			t.Errorf("_user=%s: %q, want %q", tc.user, body, tc.want)
		case tc.want == "" && body != "b appid="+s.b+" openid="+s.openID(s.b)+" ":
			t.Errorf("_user=%s: %q, want the debug login refused and a login through b's authorize page", tc.user, body)
		}
	}
	// Debug-logged-in on b, a's page is no login.
	c := s.browser(true)
	s.get(c, "/b/page?_user=oDev")
	if resp, body := s.get(s.noFollow(c), "/account/page"); resp.StatusCode == http.StatusOK {
		t.Errorf("b's debug user on a's page: %q", body)
	}
}

// Session values the site never writes (a store shared with other code, a
// v0.1.0 session, another account's prefix) let nobody in on a page they
// do not belong to, whichever account's session key holds them.
func TestRedTeamPlantedSessions(t *testing.T) {
	s := newComponentSite(t, nil)
	var plant string
	s.mux.HandleFunc("/plant", func(w http.ResponseWriter, r *http.Request) {
		for _, key := range []string{"wechatauth.user", "wechatauth.user:" + s.a, "wechatauth.user:" + s.b} {
			s.opts.Sessions.Put(r.Context(), key, plant)
		}
	})
	a, b, o := s.a, s.b, s.openID(s.a)
	for _, tc := range []struct {
		value string
		onA   bool // let in on a's page
		onB   bool
	}{
		{"u1\x1f" + a + "/" + o + "\x1f\x1f\x1f\x1f\x1f", true, false},
		{"u1\x1f" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},          // v0.1.0: no appid
		{"u1\x1f" + b + "/" + o + "\x1f\x1f\x1f\x1f\x1f", false, true}, // b's prefix: b's user
		{"u1\x1f" + a + o + "\x1f\x1f\x1f\x1f\x1f", false, false},      // no separator
		{"u1\x1f" + a + "\x1f\x1f\x1f\x1f\x1f\x1f", false, false},      // the appid alone
		{"u1\x1f" + a + "/\x1f\x1f\x1f\x1f\x1f", false, false},         // no openid, not a guest
		{"u1\x1f" + strings.ToUpper(a) + "/" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},
		{"u1\x1f" + a[:len(a)-1] + "/" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},
		{"u1\x1f" + a + "1/" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},
		{"u1\x1f/" + a + "/" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},
		{"u0\x1f" + a + "/" + o + "\x1f\x1f\x1f\x1f\x1f", false, false},
		{"u1" + a + "/" + o, false, false},
		{"u1\x1f" + a + "/" + o, false, false}, // truncated
		{"", false, false},
		{"\x1f\x1f\x1f\x1f\x1f\x1f", false, false},
	} {
		plant = tc.value
		c := s.browser(false)
		s.get(c, "/plant")
		resp, body := s.get(c, "/account/page")
		t.Logf("session %q on a's page: %d", trimLog(strings.ReplaceAll(tc.value, "\x1f", "|")), resp.StatusCode)
		if got := resp.StatusCode == http.StatusOK; got != tc.onA {
			t.Errorf("session %q on a's page: %d %q, want let in %v", strings.ReplaceAll(tc.value, "\x1f", "|"), resp.StatusCode, body, tc.onA)
		}
		if resp, body := s.get(c, "/b/page"); (resp.StatusCode == http.StatusOK) != tc.onB {
			t.Errorf("session %q on b's page: %d %q, want let in %v", strings.ReplaceAll(tc.value, "\x1f", "|"), resp.StatusCode, body, tc.onB)
		}
	}
}

// RefreshUser takes only a user's own key: a bare openid, another
// account's prefix or a malformed key finds no tokens and asks WeChat
// nothing.
func TestRedTeamRefreshUserKeys(t *testing.T) {
	s := newComponentSite(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	s.login("/account/page")
	o := s.openID(s.a)
	before := s.wx.Calls(pathComponentRefresh) + s.wx.Calls("/sns/userinfo")
	for _, key := range []string{o, s.b + "/" + o, "/" + o, s.a + "/", s.a, s.a + "//" + o, s.a + "/" + o + "/",
		strings.ToUpper(s.a) + "/" + o, s.a + "\x1f" + o, "", "/", s.a + "/" + s.a + "/" + o, s.a + "/" + s.openID(s.b)} {
		_, err := s.auth.RefreshUser(context.Background(), key)
		t.Logf("RefreshUser(%q): %v", key, err)
		if !errors.Is(err, wechatauth.ErrReauthorize) {
			t.Errorf("RefreshUser(%q): %v, want ErrReauthorize", key, err)
		}
	}
	if got := s.wx.Calls(pathComponentRefresh) + s.wx.Calls("/sns/userinfo") - before; got != 0 {
		t.Errorf("%d calls to WeChat for keys that are no user's", got)
	}
	if u, err := s.auth.RefreshUser(context.Background(), s.a+"/"+o); err != nil || u.AppID != s.a || u.OpenID != o {
		t.Errorf("RefreshUser of the user's own key: %+v, %v", u, err)
	}
}

// openIDRewriter replaces the openid of WeChat's code exchange replies
// with its own: a broken or hostile upstream.
type openIDRewriter struct {
	next   http.RoundTripper
	openID string
}

func (o *openIDRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req)
	if err != nil || o.openID == "" || !strings.HasSuffix(req.URL.Path, "/access_token") || !strings.HasPrefix(req.URL.Path, "/sns/") {
		return resp, err
	}
	var reply map[string]any
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if json.Unmarshal(b, &reply) == nil && reply["openid"] != nil {
		reply["openid"] = o.openID
		b, _ = json.Marshal(reply)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// An openid WeChat never issues (with the key's separator "/", the
// session's separator 0x1f, or outside WeChat's alphabet) logs nobody
// in: with 0x1f dropped by the session, "o\x1fX" would be the user "oX";
// with "/", the key of another account's user.
func TestRedTeamUpstreamOpenIDs(t *testing.T) {
	for _, mode := range []string{"component", "official account"} {
		t.Run(mode, func(t *testing.T) {
			rw := &openIDRewriter{}
			var h *harness
			var victim, page string
			if mode == "component" {
				s := newComponentSite(t, func(o *wechatauth.Options) {
					rw.next = o.HTTPClient.Transport
					o.HTTPClient = &http.Client{Transport: rw}
				})
				h, victim, page = s.harness, s.openID(s.a), "/account/page"
			} else {
				h = newHarness(t, func(o *wechatauth.Options) {
					rw.next = o.HTTPClient.Transport
					o.HTTPClient = &http.Client{Transport: rw}
				})
				victim, page = "oTestUser0000000000000000001", "/account/page"
			}
			for _, hostile := range []string{
				victim[:4] + "\x1f" + victim[4:], // the session drops 0x1f: the victim
				"wx0000000000000000/" + victim,   // an appid before the victim
				victim + "/x", "/" + victim, victim + "/", "o/../" + victim,
				victim + "\x00", victim + " ", "o\né", strings.Repeat("o", 300),
			} {
				rw.openID = hostile
				c := h.browser(true)
				resp, body := h.get(c, page)
				t.Logf("openid %q: %d %q", trimLog(hostile), resp.StatusCode, trimLog(body))
				if strings.Contains(body, "openid="+victim+" ") || resp.StatusCode == http.StatusOK {
					t.Errorf("openid %q from upstream: %d %q, want no login", trimLog(hostile), resp.StatusCode, trimLog(body))
				}
			}
		})
	}
}

// Every secret of component mode stays out of the browser and the log,
// whatever happens: logins through both accounts, a callback of the
// wrong account, a stale component token, refused exchanges, pushes of
// every kind, and a transport that quotes whole requests in its errors.
func TestRedTeamComponentSecretsNeverLeak(t *testing.T) {
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	qt := &quotingTransport{next: wx.Client().Transport, pass: 1 << 30}
	logs := &syncBuffer{}
	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, HTTPClient: &http.Client{Transport: qt}, Logger: logs.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	pushSrv := httptest.NewServer(platform.PushHandler())
	t.Cleanup(pushSrv.Close)
	push := pushSrv.URL + "/push"
	var tickets []string
	tk, err := wx.PushVerifyTicket(push)
	if err != nil {
		t.Fatal(err)
	}
	tickets = append(tickets, tk)
	accounts := wx.Authorizers()
	a, b := accounts[0], accounts[1]
	var events []error
	h := newHarnessOn(t, wx, func(o *wechatauth.Options) {
		o.AppID, o.AppSecret = "", ""
		o.Component = platform
		o.Authorizer = wechatauth.AuthorizerByPath(map[string]string{"/": a, "/b/": b})
		o.Scope = wechatauth.ScopeUserInfo
		o.DebugBypass = true
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.HTTPClient = &http.Client{Transport: qt}
		o.OnEvent = func(_ *http.Request, e wechatauth.Event) {
			if e.Err != nil {
				events = append(events, e.Err)
			}
		}
	})
	h.mux.Handle("/b/", h.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "openid=%s ", u.OpenID)
	})))
	rec := &recorder{next: wx.Client().Transport, app: h.app.URL}
	browser := func(follow bool) *http.Client {
		c := h.browser(follow)
		c.Transport = rec
		return c
	}
	ctx := context.Background()
	// Both accounts authorize the platform; their codes are redeemed.
	for _, id := range []string{a, b} {
		if err := wx.PushAuthorization(push, component.InfoAuthorized, id); err != nil {
			t.Fatal(err)
		}
	}
	// Logins through both accounts, a second delivery, the wrong appid,
	// a stale component token, a refusal, a forged state, a debug login.
	c := browser(false)
	cb := h.callbackURL(c, "/account/")
	h.get(c, cb)
	h.get(c, cb)
	h.get(browser(true), "/b/page")
	c2 := browser(false)
	cb2 := mustURL(t, h.callbackURL(c2, "/account/"))
	q := cb2.Query()
	q.Set("appid", b)
	cb2.RawQuery = q.Encode()
	h.get(c2, cb2.String())
	wx.FailNext(pathComponentExchange, 40001)
	wx.FailNext(pathComponentExchange, 40001)
	h.get(browser(true), "/account/")
	wx.FailNext(pathComponentToken, 40125)
	h.get(browser(true), "/b/x")
	wx.SetMode(wechattest.Refuse)
	h.get(browser(true), "/account/")
	wx.SetMode(wechattest.AutoApprove)
	h.get(browser(false), withState(t, cb, strings.Repeat("f", 48)))
	h.get(browser(true), "/b/page?_user=oDebug")
	// Pushes: tickets, spoiled ones, replays, revocations.
	for _, f := range []wechattest.PushFault{wechattest.PushBadSignature, wechattest.PushWrongAppID, wechattest.PushWrongKey, wechattest.PushIntact} {
		tk, _ := wx.PushVerifyTicketWith(push, f)
		tickets = append(tickets, tk)
	}
	// Secrets as they are now, before the transport fails.
	compTok, err := platform.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"component secret": wx.ComponentSecret, "EncodingAESKey": wx.ComponentAESKey,
		"component_access_token": compTok, "message Token": wx.ComponentToken}
	for i, tk := range tickets {
		secrets[fmt.Sprintf("verify ticket %d", i)] = tk
	}
	for _, id := range []string{a, b} {
		at, err := platform.AuthorizerTokens(id).Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		jt, err := platform.JSAPITickets(id).Ticket(ctx)
		if err != nil {
			t.Fatal(err)
		}
		secrets["authorizer_access_token of "+id] = at
		secrets["jsapi_ticket of "+id] = jt
		secrets["authorizer_refresh_token of "+id] = wx.AuthorizerRefreshToken(id)
	}
	for _, key := range []string{a + "/" + wx.AuthorizerOpenID(a, "oTestUser0000000000000000001")} {
		tok, err := h.store.Token(ctx, key)
		if err != nil {
			t.Fatalf("tokens of %s: %v", key, err)
		}
		secrets["user access token"], secrets["user refresh token"] = tok.AccessToken, tok.RefreshToken
	}
	// Now every call to WeChat fails with an error that quotes the
	// request whole: the exchange, the refresh, the component token,
	// QueryAuth's code, the authorizer token's refresh token.
	c3 := browser(false)
	cb3 := h.callbackURL(c3, "/account/")
	qt.mu.Lock()
	qt.pass = 0
	qt.mu.Unlock()
	h.get(c3, cb3)
	_, queryErr := platform.QueryAuth(ctx, "code-that-must-not-leak-0001")
	secrets["authorization code"] = "code-that-must-not-leak-0001"
	pushErr := wx.PushAuthorization(push, component.InfoAuthorized, a) // its code goes to QueryAuth, which fails
	wx.AddAuthorizer("wx00000000000000a9")
	_, authTokErr := platform.AuthorizerTokens(b).Token(ctx) // cached: no call
	platform.Invalidate(ctx, compTok)
	_, tokenErr := platform.Token(ctx)
	clk := testclock.New(wx, func(now func() time.Time) { wechatauth.SetClock(h.auth, now) })
	clk.Advance(3 * time.Hour)
	_, refreshErr := h.auth.RefreshUser(ctx, a+"/"+wx.AuthorizerOpenID(a, "oTestUser0000000000000000001"))
	t.Logf("with the transport failing: refresh %v; token %v; query %v; push %v; authorizer token %v", refreshErr, tokenErr, queryErr, pushErr, authTokErr)

	texts := map[string]string{"responses": rec.seen.String(), "log": logs.String()}
	for i, e := range events {
		texts[fmt.Sprintf("Event.Err %d", i)] = e.Error()
	}
	for name, e := range map[string]error{"RefreshUser": refreshErr, "Token": tokenErr, "QueryAuth": queryErr} {
		if e == nil {
			t.Errorf("%s: no error through a failing transport", name)
			continue
		}
		texts[name] = e.Error()
	}
	if !strings.Contains(texts["log"], "push refused") || !strings.Contains(texts["responses"], "Set-Cookie") {
		t.Fatalf("the flows left no trace to check:\n%s", texts["log"])
	}
	for name, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("%s is %q", name, secret)
		}
		for where, text := range texts {
			if strings.Contains(text, secret) {
				t.Errorf("the %s reached %s", name, where)
			}
		}
	}
	for where, text := range texts {
		for _, q := range []string{"component_access_token=", "secret=", "access_token=", "refresh_token="} {
			if strings.Contains(text, q) {
				t.Errorf("%s holds a query with %s", where, q)
			}
		}
	}
}

// Component mode on Redis: each account's users and tokens under their
// own keys, nothing under a bare openid, and every key the pushes and
// logins leave expires, but for users and refresh tokens, which are
// kept on purpose. Planted keys of another account's prefix are no
// user of this one.
func TestRedTeamComponentKeysInRedis(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, HTTPClient: wx.Client(), Logger: slog.New(slog.DiscardHandler),
		Tickets:               store.ComponentTickets(wx.ComponentAppID),
		Credentials:           mp.CredentialOptions{Cache: store.CredentialCache(component.AccessTokenCredential, wx.ComponentAppID)},
		Authorizers:           store.Authorizers(wx.ComponentAppID),
		AuthorizerCredentials: store.CredentialCache,
	})
	if err != nil {
		t.Fatal(err)
	}
	pushSrv := httptest.NewServer(platform.PushHandler())
	t.Cleanup(pushSrv.Close)
	if _, err := wx.PushVerifyTicket(pushSrv.URL); err != nil {
		t.Fatal(err)
	}
	accounts := wx.Authorizers()
	a, b := accounts[0], accounts[1]
	for _, id := range []string{a, b} {
		if err := wx.PushAuthorization(pushSrv.URL, component.InfoAuthorized, id); err != nil {
			t.Fatal(err)
		}
	}
	s := &componentSite{platform: platform, a: a, b: b}
	s.harness = newHarnessOn(t, wx, func(o *wechatauth.Options) {
		o.AppID, o.AppSecret = "", ""
		o.Component = platform
		o.Authorizer = wechatauth.AuthorizerByPath(map[string]string{"/": a, "/b/": b})
		o.Scope = wechatauth.ScopeUserInfo
		o.Users, o.Tokens, o.Callbacks = store, store, store
	})
	s.accountPage("/b/", "b")
	s.login("/account/page")
	s.login("/b/page")
	if _, err := platform.JSAPITickets(a).Ticket(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	keys, err := redis.Strings(conn.Do("KEYS", "*"))
	if err != nil {
		t.Fatal(err)
	}
	oa, ob := s.openID(a), s.openID(b)
	want := map[string]bool{"user:" + a + "/" + oa: false, "user:" + b + "/" + ob: false, "token:" + a + "/" + oa: false, "token:" + b + "/" + ob: false}
	for _, full := range keys {
		ttl, _ := redis.Int64(conn.Do("PTTL", full))
		k := strings.TrimPrefix(full, store.Prefix)
		t.Logf("%s (ttl %dms)", k, ttl)
		if _, ok := want[k]; ok {
			want[k] = true
		}
		if strings.Contains(k, ":"+oa) || strings.Contains(k, ":"+ob) {
			t.Errorf("key %s under a bare openid", k)
		}
		kept := strings.HasPrefix(k, "user:") || strings.HasPrefix(k, "authorizer_refresh_token:") || strings.HasPrefix(k, "unionid:")
		if ttl < 0 && !kept {
			t.Errorf("key %s never expires", k)
		}
	}
	for k, found := range want {
		if !found {
			t.Errorf("no key %s", k)
		}
	}
	// A user planted under b's prefix with a's openid is not a's user.
	ctx := context.Background()
	if err := store.SaveUser(ctx, wechatauth.User{OpenID: b + "/" + oa, Nickname: "planted"}); err != nil {
		t.Fatal(err)
	}
	_, body := s.get(s.login("/account/page"), "/account/page")
	if strings.Contains(body, "planted") {
		t.Errorf("a's page shows the user planted under b's key: %q", body)
	}
	if _, err := s.auth.RefreshUser(ctx, b+"/"+oa); !errors.Is(err, wechatauth.ErrReauthorize) {
		t.Errorf("RefreshUser of the planted key: %v, want ErrReauthorize (no tokens)", err)
	}
}
