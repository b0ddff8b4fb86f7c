package wechatauth_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/sitetest"
	"github.com/wechatauth/wechatauth/wechattest"
)

// harness is an app protected by wechatauth, the WeChat emulator it logs in
// against, and a log that tests read. The steps of its browsers are
// sitetest's, shared with the other faces.
type harness struct {
	t     testing.TB
	wx    *wechattest.Server
	app   *httptest.Server
	mux   *http.ServeMux // the app's routes; tests may add their own
	auth  *wechatauth.Auth
	opts  wechatauth.Options
	store *wechatauth.MemoryStore
	logs  *syncBuffer
}

// syncBuffer is a log that tests read.
type syncBuffer = sitetest.Log

// newHarness starts the emulator and an app with these routes:
//
//	/wechat/callback  the callback
//	/account/         protected: prints the user
//	/logout           logs out
//	/                 public: prints the user if logged in
//
// configure may change the options before New.
func newHarness(t testing.TB, configure func(*wechatauth.Options)) *harness {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	return newHarnessOn(t, wx, configure)
}

// newHarnessOn is newHarness against the emulator wx.
func newHarnessOn(t testing.TB, wx *wechattest.Server, configure func(*wechatauth.Options)) *harness {
	t.Helper()
	ln := sitetest.Listen(t)
	logs := &syncBuffer{}
	store := wechatauth.NewMemoryStore()
	sessions := scs.New()
	opts := wechatauth.Options{
		AppID:       wx.AppID,
		AppSecret:   wx.AppSecret,
		CallbackURL: "http://" + ln.Addr().String() + "/wechat/callback",
		Sessions:    sessions,
		Users:       store,
		Tokens:      store,
		Callbacks:   store,
		HTTPClient:  wx.Client(),
		Endpoints:   wx.Endpoints(),
		Logger:      logs.Logger(),
	}
	if configure != nil {
		configure(&opts)
	}
	if opts.WebsiteAppID == emulatorWebsiteApp {
		opts.WebsiteAppID, opts.WebsiteAppSecret = wx.WebsiteAppID, wx.WebsiteAppSecret
	}
	auth, err := wechatauth.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	app, mux := sitetest.Start(t, ln, sessions, sitetest.Pages{
		Callback:        "GET /wechat/callback",
		CallbackHandler: auth.CallbackHandler(),
		Protect:         auth.RequireWeChatUser,
		User: func(r *http.Request) (string, error) {
			u, ok := wechatauth.UserFrom(r)
			if !ok {
				return "", errors.New("UserFrom: no user")
			}
			return fmt.Sprintf("openid=%s nickname=%s unionid=%s", u.OpenID, u.Nickname, u.UnionID), nil
		},
		Current: func(r *http.Request) string {
			u, _ := auth.CurrentUser(r)
			return "openid=" + u.OpenID
		},
		Logout: auth.Logout,
	})
	return &harness{t: t, wx: wx, app: app, mux: mux, auth: auth, opts: opts, store: store, logs: logs}
}

// withWebsiteApp asks newHarness for the emulator's website app, so that
// browsers outside WeChat log in through QR login.
func withWebsiteApp(o *wechatauth.Options) { o.WebsiteAppID = emulatorWebsiteApp }

// emulatorWebsiteApp stands in for the emulator's website app until
// newHarness knows the emulator.
const emulatorWebsiteApp = "emulator-website-app"

// site is the harness as sitetest's steps see it.
func (h *harness) site() *sitetest.Site {
	return &sitetest.Site{
		T: h.t, URL: h.app.URL, Transport: h.wx.Client().Transport, Platform: "WeChat",
		Callback: h.opts.CallbackURL, Authorize: h.wx.Endpoints().Authorize,
		LoggedIn: func(body string) bool { return strings.Contains(body, "openid=o") },
	}
}

// The steps of sitetest.Site under the names this package's tests use.

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

func (h *harness) login(path string) *http.Client {
	h.t.Helper()
	return h.site().Login(path)
}

func (h *harness) loginWith(c *http.Client, path string) {
	h.t.Helper()
	h.site().LoginWith(c, path)
}

func (h *harness) cookies(c *http.Client) []*http.Cookie      { return h.site().Cookies(c) }
func (h *harness) withCookies(cs []*http.Cookie) *http.Client { return h.site().WithCookies(cs) }

// cookie returns the value of the session cookie c holds for the app.
func (h *harness) cookie(c *http.Client) string {
	return h.site().Cookie(c, h.opts.Sessions.Cookie.Name)
}

// exchanges is the number of code exchanges the emulator has served.
func (h *harness) exchanges() int { return h.wx.Calls("/sns/oauth2/access_token") }

// assertLoggedOut checks that browser c has no login: a protected page
// sends it to WeChat.
func (h *harness) assertLoggedOut(c *http.Client) {
	h.t.Helper()
	h.site().AssertLoggedOut(c)
}

// assertLoggedIn checks that browser c is logged in as openID.
func (h *harness) assertLoggedIn(c *http.Client, openID string) {
	h.t.Helper()
	h.site().AssertLoggedIn(c, "openid="+openID+" ")
}

// withCode and withState return callback URL cb with its code or its
// state replaced.
var withCode, withState = sitetest.WithCode, sitetest.WithState
