package wecom_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
)

// The User-Agents of WECOM.md §9, as the browsers send them.
const (
	uaWeComIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.39 MicroMessenger/7.0.1 Language/zh ColorScheme/Light wwmver/3.26.38.377"
	uaWeComWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 wxwork/4.1.39 (MicroMessenger/6.2) WindowsWechat MailPlugin_Electron WeMail embeddisk wwmver/3.26.38.377"
	uaWeComMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)wxwork/3.1.8 (MicroMessenger/6.2) WeChat/2.0.4"
	uaWeChatWin    = "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x6309092b) XWEB/9105 Flue"
	uaWeChatIOS    = "Mozilla/5.0 (iPhone; CPU iPhone OS 10_2 like Mac OS X) AppleWebKit/602.3.12 (KHTML, like Gecko) Mobile/14C92 MicroMessenger/6.5.23 NetType/WIFI Language/zh_CN"
	uaDesktop      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// harness is an app protected by a wecom.Auth, the emulator it logs in
// against, and a log that tests read: the WeCom face of the harness
// that every face shares (package internal/sitetest).
type harness struct {
	t     testing.TB
	wx    *wechattest.Server
	app   *httptest.Server
	mux   *http.ServeMux
	auth  *wecom.Auth
	opts  wecom.Options
	store *wechatauth.MemoryStore
	logs  *syncBuffer
}

// syncBuffer is a log that tests read.
type syncBuffer = sitetest.Log

// newHarness starts the emulator and an app with these routes:
//
//	/wecom/callback  the callback
//	/account/        protected: prints the member
//	/logout          logs out
//	/                public: prints the member if logged in
//
// configure may change the options before New.
func newHarness(t testing.TB, configure func(*wecom.Options)) *harness {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	return newHarnessOn(t, wx, nil, configure)
}

// newHarnessOn starts an app against wx; ln, if not nil, is its listener.
func newHarnessOn(t testing.TB, wx *wechattest.Server, ln net.Listener, configure func(*wecom.Options)) *harness {
	t.Helper()
	if ln == nil {
		ln = sitetest.Listen(t)
	}
	logs := &syncBuffer{}
	store := wechatauth.NewMemoryStore()
	opts := wecom.Options{
		CorpID:      wx.CorpID,
		AgentID:     wx.AgentID,
		Secret:      wx.CorpSecret,
		CallbackURL: "http://" + ln.Addr().String() + "/wecom/callback",
		Sessions:    scs.New(),
		Callbacks:   store,
		HTTPClient:  wx.Client(),
		Endpoints:   wx.WeComEndpoints(),
		Logger:      logs.Logger(),
	}
	if configure != nil {
		configure(&opts)
	}
	auth, err := wecom.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	app, mux := sitetest.Start(t, ln, opts.Sessions, sitetest.Pages{
		Callback:        "GET /wecom/callback",
		CallbackHandler: auth.CallbackHandler(),
		Protect:         auth.RequireMember,
		User: func(r *http.Request) (string, error) {
			m, ok := wecom.MemberFrom(r)
			if !ok {
				return "", errors.New("MemberFrom: no member")
			}
			return describe(m), nil
		},
		Current: func(r *http.Request) string {
			m, _ := auth.CurrentMember(r)
			return describe(m)
		},
		Logout: auth.Logout,
	})
	return &harness{t: t, wx: wx, app: app, mux: mux, auth: auth, opts: opts, store: store, logs: logs}
}

// describe writes m as the app's pages show it, every field named.
func describe(m wecom.Member) string {
	return fmt.Sprintf("member=%t userid=%s corpid=%s openid=%s external=%s name=%s dept=%v mobile=%s gender=%s ",
		m.IsMember(), m.UserID, m.CorpID, m.OpenID, m.ExternalUserID, m.Name, m.Department, m.Private.Mobile, m.Private.Gender)
}

// site is the harness as sitetest's steps see it.
func (h *harness) site() *sitetest.Site {
	return &sitetest.Site{
		T: h.t, URL: h.app.URL, Transport: h.wx.Client().Transport, UserAgent: uaWeComIOS, Platform: "WeCom",
		Callback: h.opts.CallbackURL, Authorize: h.wx.WeComEndpoints().Authorize,
		LoggedIn: func(body string) bool { return strings.HasPrefix(body, "path=") },
	}
}

// The steps of sitetest.Site under the names this package's tests use;
// browser is WeCom's own browser on a phone.

func (h *harness) browserAs(ua string, follow bool) *http.Client {
	return h.site().BrowserAs(ua, follow)
}
func (h *harness) browser(follow bool) *http.Client { return h.site().Browser(follow) }

func (h *harness) get(c *http.Client, rawURL string) (*http.Response, string) {
	h.t.Helper()
	return h.site().Get(c, rawURL)
}

func (h *harness) do(c *http.Client, method, rawURL string, header http.Header) (*http.Response, string) {
	h.t.Helper()
	return h.site().Do(c, method, rawURL, header)
}

func (h *harness) step(c *http.Client, rawURL string, wantStatus int) (*http.Response, string) {
	h.t.Helper()
	return h.site().Step(c, rawURL, wantStatus)
}

func (h *harness) callbackURL(c *http.Client, path string) string {
	h.t.Helper()
	return h.site().CallbackURL(c, path)
}

// login logs a new WeCom browser in through the emulator and returns it.
func (h *harness) login(path string) *http.Client {
	h.t.Helper()
	return h.site().Login(path)
}

// loginWith logs browser c in through the emulator, from path, as the
// emulator's WeCom visitor (by default the member zhangsan).
func (h *harness) loginWith(c *http.Client, path string) string {
	h.t.Helper()
	return h.site().LoginWith(c, path)
}

// cookie returns the value of the session cookie c holds for the app.
func (h *harness) cookie(c *http.Client) string {
	return h.site().Cookie(c, h.opts.Sessions.Cookie.Name)
}

// roundTrip is an http.RoundTripper of a function.
type roundTrip = sitetest.RoundTripFunc

// exchanges is the number of code exchanges the emulator has served.
func (h *harness) exchanges() int { return h.wx.Calls("/cgi-bin/auth/getuserinfo") }

// assertLoggedOut checks that browser c has no login: a protected page
// sends it to WeCom.
func (h *harness) assertLoggedOut(c *http.Client) {
	h.t.Helper()
	h.site().AssertLoggedOut(c)
}

// assertLoggedIn checks that browser c is logged in as the member userID.
func (h *harness) assertLoggedIn(c *http.Client, userID string) {
	h.t.Helper()
	h.site().AssertLoggedIn(c, " userid="+userID+" ")
}

// withCode and withState return callback URL cb with its code or its
// state replaced.
var withCode, withState = sitetest.WithCode, sitetest.WithState

// param returns the query parameter name of rawURL.
func param(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}
