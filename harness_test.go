package wechatauth_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// harness is an app protected by wechatauth, the WeChat emulator it logs in
// against, and a log that tests read.
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

// newHarness starts the emulator and an app with these routes:
//
//	/wechat/callback  the callback
//	/account/         protected: prints the user
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

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	logs := &syncBuffer{}
	store := wechatauth.NewMemoryStore()
	sessions := scs.New()
	opts := wechatauth.Options{
		AppID:       wx.AppID,
		AppSecret:   wx.AppSecret,
		CallbackURL: appURL + "/wechat/callback",
		Sessions:    sessions,
		Users:       store,
		Tokens:      store,
		Callbacks:   store,
		HTTPClient:  wx.Client(),
		Endpoints:   wx.Endpoints(),
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
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

	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := wechatauth.UserFrom(r)
		if !ok {
			http.Error(w, "UserFrom: no user", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "path=%s openid=%s nickname=%s unionid=%s", r.URL.RequestURI(), u.OpenID, u.Nickname, u.UnionID)
	})))
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Logout(r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.CurrentUser(r)
		fmt.Fprintf(w, "public path=%s openid=%s", r.URL.RequestURI(), u.OpenID)
	})
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	t.Cleanup(app.Close)
	return &harness{t: t, wx: wx, app: app, mux: mux, auth: auth, opts: opts, store: store, logs: logs}
}

// withWebsiteApp asks newHarness for the emulator's website app, so that
// browsers outside WeChat log in through QR login.
func withWebsiteApp(o *wechatauth.Options) { o.WebsiteAppID = emulatorWebsiteApp }

// emulatorWebsiteApp stands in for the emulator's website app until
// newHarness knows the emulator.
const emulatorWebsiteApp = "emulator-website-app"

// browser is a client with its own cookie jar. follow chooses whether it
// follows redirects (through the emulator and back) or stops at each.
func (h *harness) browser(follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: h.wx.Client().Transport}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// get sends a page navigation and returns the response with its body read.
func (h *harness) get(c *http.Client, rawURL string) (*http.Response, string) {
	h.t.Helper()
	return h.do(c, "GET", rawURL, nil)
}

func (h *harness) do(c *http.Client, method, rawURL string, header http.Header) (*http.Response, string) {
	h.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = h.app.URL + rawURL
	}
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// login logs a new browser in through the emulator and returns it.
func (h *harness) login(path string) *http.Client {
	h.t.Helper()
	c := h.browser(true)
	h.loginWith(c, path)
	return c
}

// loginWith logs browser c in through the emulator, from path.
func (h *harness) loginWith(c *http.Client, path string) {
	h.t.Helper()
	resp, body := h.get(c, path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "openid=o") {
		h.t.Fatalf("login through %s: status %d, body %q", path, resp.StatusCode, body)
	}
}

// step follows one redirect by hand and returns the next Location.
func (h *harness) step(c *http.Client, rawURL string, wantStatus int) (*http.Response, string) {
	h.t.Helper()
	resp, body := h.get(c, rawURL)
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("GET %s: status %d, want %d; body %q", rawURL, resp.StatusCode, wantStatus, body)
	}
	return resp, body
}

// callbackURL walks a browser that stops at redirects from a protected page
// to WeChat and back, and returns the callback URL WeChat sent it to,
// without visiting it.
func (h *harness) callbackURL(c *http.Client, path string) string {
	h.t.Helper()
	resp, _ := h.step(c, path, http.StatusFound)
	resp, _ = h.step(c, resp.Header.Get("Location"), http.StatusFound)
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, h.opts.CallbackURL+"?") {
		h.t.Fatalf("WeChat redirected to %q, want the callback %q", cb, h.opts.CallbackURL)
	}
	return cb
}

// cookie returns the value of the session cookie c holds for the app.
func (h *harness) cookie(c *http.Client) string {
	u, _ := url.Parse(h.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == h.opts.Sessions.Cookie.Name {
			return ck.Value
		}
	}
	return ""
}

// cookies returns a copy of every cookie c holds for the app: the state of
// the browser at a moment, such as before an answer that is then lost.
func (h *harness) cookies(c *http.Client) []*http.Cookie {
	u, _ := url.Parse(h.app.URL)
	return c.Jar.Cookies(u)
}

// withCookies returns a new browser that stops at redirects and holds the
// given cookies, as cookies returned them.
func (h *harness) withCookies(cs []*http.Cookie) *http.Client {
	c := h.browser(false)
	u, _ := url.Parse(h.app.URL)
	for _, ck := range cs {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	return c
}

// exchanges is the number of code exchanges the emulator has served.
func (h *harness) exchanges() int { return h.wx.Calls("/sns/oauth2/access_token") }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
