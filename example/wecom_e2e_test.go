package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The emulator's WeCom pages and API the tests look at, its default
// member, and its built-in non-member.
const (
	pathWeComLogin       = "/wwlogin/sso/login"
	pathWeComUserInfo    = "/cgi-bin/auth/getuserinfo"
	pathWeComGetToken    = "/cgi-bin/gettoken"
	zhangsan, zhangsanCN = "zhangsan", "张三"
	weComGuest           = "oWeComGuest0000000000000000001"
)

// User-Agents of WeCom's client on an iPhone (WECOM.md §9: it says
// MicroMessenger too) and of a desktop browser.
const (
	iosWeCom = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.39 MicroMessenger/7.0.1 Language/zh ColorScheme/Light wwmver/3.26.38.377"
	desktop  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
)

// weComStack is the example app in WeCom mode and its emulator, as
// `WECOM=1 go run ./example` runs them, on loopback ports.
type weComStack struct {
	wx  *wechattest.Server
	app string // the app's origin
}

// newWeComStack starts the example app in WeCom mode, letting
// non-members in when allowNonMembers is set, as
// WECOM_ALLOW_NON_MEMBERS=1 does.
func newWeComStack(t *testing.T, allowNonMembers bool) *weComStack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := &weComStack{app: "http://" + ln.Addr().String()}
	cfg := config{
		WeCom:           true,
		CallbackURL:     st.app + "/wecom/callback",
		AllowNonMembers: allowNonMembers,
		Logger:          slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
	st.wx, err = startEmulator(cfg.CallbackURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.wx.Close)
	cfg.CorpID, cfg.AgentID, cfg.CorpSecret, cfg.WeComEndpoints = st.wx.CorpID, st.wx.AgentID, st.wx.CorpSecret, st.wx.WeComEndpoints()
	cfg.Endpoints.JSSDK = st.wx.Endpoints().JSSDK
	handler, closeApp, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeApp() })
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: handler}}
	srv.Start()
	t.Cleanup(srv.Close)
	return st
}

// userAgent makes the tab's browser say it is ua.
func (tb *tab) userAgent(ua string) {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		tb.t.Fatalf("setting the User-Agent: %v", explain(ctx, err))
	}
}

// emulatorQuery returns the query of the tab's location, after checking
// that it is at path on st's emulator.
func (tb *tab) emulatorQuery(st *weComStack, path string) url.Values {
	tb.t.Helper()
	loc, err := url.Parse(tb.location())
	if err != nil || loc.Scheme+"://"+loc.Host != st.wx.URL || loc.Path != path {
		tb.t.Fatalf("location: got %q, want the emulator's %s", tb.location(), path)
	}
	return loc.Query()
}

// h1 returns the text of the page's heading.
func (tb *tab) h1() string {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		tb.t.Fatalf("heading: %v (at %s)", explain(ctx, err), tb.location())
	}
	return strings.TrimSpace(s)
}

// value returns the value of the form field with the id.
func (tb *tab) value(id string) string {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		tb.t.Fatalf("value of #%s: %v (at %s)", id, explain(ctx, err), tb.location())
	}
	return v
}

// has reports whether the page has an element with the id.
func (tb *tab) has(id string) bool {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("`+id+`") !== null`))
	if err != nil {
		tb.t.Fatalf("looking for #%s: %v", id, explain(ctx, err))
	}
	return ok
}

// confirm clicks the emulator page's confirm button and checks that the
// login ends on a page of the app with HTTP status want.
func (tb *tab) confirm(want int64) {
	tb.t.Helper()
	if got := tb.response(chromedp.Click(chromedp.ID("allow"))); got != want {
		tb.screenshot("unexpected")
		tb.t.Fatalf("after the emulator's page: got HTTP %d at %s, want %d", got, tb.location(), want)
	}
}

// wantMember checks that the tab shows the member page of the emulator's
// default member, 张三 of department 1.
func (tb *tab) wantMember() {
	tb.t.Helper()
	if !tb.has("userid") {
		tb.t.Fatalf("at %s: got no member page (#userid), want 张三's", tb.location())
	}
	for id, want := range map[string]string{"userid": zhangsan, "name": zhangsanCN, "department": "1"} {
		if got := tb.text(id); got != want {
			tb.t.Errorf("#%s: got %q, want %q", id, got, want)
		}
	}
}

func TestBrowserWeCom(t *testing.T) {
	path := browserPath(t)
	begin := time.Now()
	st := newWeComStack(t, false)
	open := newWeComStack(t, true) // WECOM_ALLOW_NON_MEMBERS=1
	browser := newBrowser(t, path)
	t.Cleanup(func() { t.Logf("wall time with the browser: %v", time.Since(begin).Round(time.Millisecond)) })

	t.Run("inside WeCom: the authorize page, then the member's page", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.userAgent(iosWeCom)
		exchanges := st.wx.Calls(pathWeComUserInfo)
		page := st.app + "/account/orders?x=1"
		tb.do(chromedp.Navigate(page))
		tb.screenshot("wecom-authorize")
		q := tb.emulatorQuery(st, pathAuthorize)
		if q.Get("appid") != st.wx.CorpID || q.Get("agentid") != st.wx.AgentID || q.Get("scope") != "snsapi_base" {
			t.Errorf("authorize link: got %v, want appid %s, agentid %s, scope snsapi_base", q, st.wx.CorpID, st.wx.AgentID)
		}
		tb.confirm(http.StatusOK)
		tb.screenshot("member")
		tb.wantLocation(page)
		tb.wantMember()
		if got := st.wx.Calls(pathWeComUserInfo) - exchanges; got != 1 {
			t.Errorf("auth/getuserinfo calls: got %d, want 1", got)
		}
	})

	t.Run("desktop browser: the Web login, revisit, logout", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.userAgent(desktop)
		page := st.app + "/account/"
		tb.do(chromedp.Navigate(page))
		tb.screenshot("wecom-web-login")
		q := tb.emulatorQuery(st, pathWeComLogin)
		if q.Get("login_type") != "CorpApp" || q.Get("appid") != st.wx.CorpID || q.Get("agentid") != st.wx.AgentID {
			t.Errorf("Web login link: got %v, want login_type CorpApp, appid %s, agentid %s", q, st.wx.CorpID, st.wx.AgentID)
		}
		tb.confirm(http.StatusOK)
		tb.screenshot("member")
		tb.wantLocation(page)
		tb.wantMember()

		// Logged in: another page does not go to WeCom.
		logins, exchanges := st.wx.Calls(pathWeComLogin), st.wx.Calls(pathWeComUserInfo)
		other := st.app + "/account/other?y=2"
		tb.do(chromedp.Navigate(other))
		tb.wantLocation(other)
		tb.wantMember()
		if l, e := st.wx.Calls(pathWeComLogin), st.wx.Calls(pathWeComUserInfo); l != logins || e != exchanges {
			t.Errorf("emulator calls on the second visit: got %d Web login and %d getuserinfo, want none", l-logins, e-exchanges)
		}
		// One corp access_token for both logins so far.
		if got := st.wx.Calls(pathWeComGetToken); got != 1 {
			t.Errorf("gettoken calls: got %d, want 1", got)
		}

		// Log out: the home page says so, and the account needs WeCom again.
		tb.do(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("logged-out")))
		tb.wantLocation(st.app + "/")
		tb.do(chromedp.Navigate(page))
		tb.emulatorQuery(st, pathWeComLogin)
	})

	t.Run("a non-member is refused, and let in where allowed", func(t *testing.T) {
		for _, s := range []*weComStack{st, open} {
			s.wx.SetWeComVisitor(weComGuest)
		}
		t.Cleanup(func() { st.wx.SetWeComVisitor(zhangsan) })

		tb := newTab(t, browser)
		tb.userAgent(iosWeCom)
		tb.do(chromedp.Navigate(st.app + "/account/"))
		tb.emulatorQuery(st, pathAuthorize)
		if got := tb.value("userid"); got != weComGuest {
			t.Fatalf("the emulator's picker: got %q, want the visitor %q", got, weComGuest)
		}
		tb.confirm(http.StatusForbidden)
		tb.screenshot("not-a-member")
		if got := tb.h1(); !strings.Contains(got, "not a member") {
			t.Errorf("heading: got %q, want it to say not a member", got)
		}
		if tb.has("userid") || tb.has("openid") {
			t.Errorf("refusal page: got a logged-in page, want no member")
		}
		tb.do(chromedp.Navigate(st.app + "/"))
		if !tb.has("logged-out") {
			t.Errorf("home page after the refusal: want it logged out")
		}

		// The same person on the app that allows non-members.
		tb = newTab(t, browser)
		tb.userAgent(iosWeCom)
		page := open.app + "/account/"
		tb.do(chromedp.Navigate(page))
		tb.emulatorQuery(open, pathAuthorize)
		tb.confirm(http.StatusOK)
		tb.screenshot("non-member")
		tb.wantLocation(page)
		if !tb.has("non-member") || tb.has("userid") {
			t.Fatalf("page: want it to say not a member, and no userid")
		}
		if got := tb.text("openid"); got != weComGuest {
			t.Errorf("openid: got %q, want %q", got, weComGuest)
		}

		// Personal WeChat too: there the app sends it to the authorize
		// page, where WeCom gives a non-member an openid.
		tb = newTab(t, browser)
		tb.userAgent(iosWeChat)
		tb.do(chromedp.Navigate(page))
		tb.emulatorQuery(open, pathAuthorize)
		tb.confirm(http.StatusOK)
		if got := tb.text("openid"); got != weComGuest {
			t.Errorf("openid from personal WeChat: got %q, want %q", got, weComGuest)
		}
	})

	t.Run("personal WeChat: open the page in WeCom", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.userAgent(iosWeChat)
		authorizes, logins := st.wx.Calls(pathAuthorize), st.wx.Calls(pathWeComLogin)
		page := st.app + "/account/orders?x=2"
		if status := tb.response(chromedp.Navigate(page)); status != http.StatusOK {
			t.Errorf("open-in-WeCom page: got HTTP %d, want 200", status)
		}
		tb.screenshot("open-in-wecom")
		tb.wantLocation(page)
		if got := tb.h1(); !strings.Contains(got, "Open this page in WeCom") {
			t.Fatalf("heading: got %q, want it to ask to open the page in WeCom", got)
		}
		if got := tb.text("url"); got != page {
			t.Errorf("address shown: got %q, want %q", got, page)
		}
		if !tb.has("qr") {
			t.Errorf("no QR code of the address")
		}
		if a, l := st.wx.Calls(pathAuthorize), st.wx.Calls(pathWeComLogin); a != authorizes || l != logins {
			t.Errorf("WeCom pages: got %d authorize and %d Web login, want none", a-authorizes, l-logins)
		}
	})
}
