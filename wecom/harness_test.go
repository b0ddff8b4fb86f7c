package wecom_test

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
// against, and a log that tests read: the WeCom counterpart of the
// Official Account's harness (harness_test.go of package wechatauth).
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
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	appURL := "http://" + ln.Addr().String()
	logs := &syncBuffer{}
	store := wechatauth.NewMemoryStore()
	opts := wecom.Options{
		CorpID:      wx.CorpID,
		AgentID:     wx.AgentID,
		Secret:      wx.CorpSecret,
		CallbackURL: appURL + "/wecom/callback",
		Sessions:    scs.New(),
		Callbacks:   store,
		HTTPClient:  wx.Client(),
		Endpoints:   wx.WeComEndpoints(),
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&opts)
	}
	auth, err := wecom.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wecom/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := wecom.MemberFrom(r)
		if !ok {
			http.Error(w, "MemberFrom: no member", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "path=%s %s", r.URL.RequestURI(), describe(m))
	})))
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Logout(r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		m, _ := auth.CurrentMember(r)
		fmt.Fprintf(w, "public path=%s %s", r.URL.RequestURI(), describe(m))
	})
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: opts.Sessions.LoadAndSave(mux)}}
	app.Start()
	t.Cleanup(app.Close)
	return &harness{t: t, wx: wx, app: app, mux: mux, auth: auth, opts: opts, store: store, logs: logs}
}

// describe writes m as the app's pages show it, every field named.
func describe(m wecom.Member) string {
	return fmt.Sprintf("member=%t userid=%s corpid=%s openid=%s external=%s name=%s dept=%v mobile=%s gender=%s ",
		m.IsMember(), m.UserID, m.CorpID, m.OpenID, m.ExternalUserID, m.Name, m.Department, m.Private.Mobile, m.Private.Gender)
}

// browser is a client with its own cookie jar that sends ua as its
// User-Agent. follow chooses whether it follows redirects (through the
// emulator and back) or stops at each.
func (h *harness) browserAs(ua string, follow bool) *http.Client {
	jar, _ := cookiejar.New(nil)
	base := h.wx.Client().Transport
	c := &http.Client{Jar: jar, Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", ua)
		return base.RoundTrip(r)
	})}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// browser is WeCom's own browser on a phone.
func (h *harness) browser(follow bool) *http.Client { return h.browserAs(uaWeComIOS, follow) }

// roundTrip is an http.RoundTripper of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

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

// login logs a new WeCom browser in through the emulator and returns it.
func (h *harness) login(path string) *http.Client {
	h.t.Helper()
	c := h.browser(true)
	h.loginWith(c, path)
	return c
}

// loginWith logs browser c in through the emulator, from path, as the
// emulator's WeCom visitor (by default the member zhangsan).
func (h *harness) loginWith(c *http.Client, path string) string {
	h.t.Helper()
	resp, body := h.get(c, path)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=") {
		h.t.Fatalf("login through %s: status %d, body %q", path, resp.StatusCode, body)
	}
	return body
}

// step fetches rawURL, expecting wantStatus.
func (h *harness) step(c *http.Client, rawURL string, wantStatus int) (*http.Response, string) {
	h.t.Helper()
	resp, body := h.get(c, rawURL)
	if resp.StatusCode != wantStatus {
		h.t.Fatalf("GET %s: status %d, want %d; body %q", rawURL, resp.StatusCode, wantStatus, body)
	}
	return resp, body
}

// callbackURL walks a browser that stops at redirects from a protected
// page to WeCom and back, and returns the callback URL WeCom sent it to,
// without visiting it.
func (h *harness) callbackURL(c *http.Client, path string) string {
	h.t.Helper()
	resp, _ := h.step(c, path, http.StatusFound)
	resp, _ = h.step(c, resp.Header.Get("Location"), http.StatusFound)
	cb := resp.Header.Get("Location")
	if !strings.HasPrefix(cb, h.opts.CallbackURL+"?") {
		h.t.Fatalf("WeCom redirected to %q, want the callback %q", cb, h.opts.CallbackURL)
	}
	return cb
}

// cookies returns a copy of every cookie c holds for the app.
func (h *harness) cookies(c *http.Client) []*http.Cookie {
	u, _ := url.Parse(h.app.URL)
	return c.Jar.Cookies(u)
}

// cookie returns the value of the session cookie c holds for the app.
func (h *harness) cookie(c *http.Client) string {
	for _, ck := range h.cookies(c) {
		if ck.Name == h.opts.Sessions.Cookie.Name {
			return ck.Value
		}
	}
	return ""
}

// exchanges is the number of code exchanges the emulator has served.
func (h *harness) exchanges() int { return h.wx.Calls("/cgi-bin/auth/getuserinfo") }

// assertLoggedOut checks that browser c has no login: a protected page
// sends it to WeCom.
func (h *harness) assertLoggedOut(c *http.Client) {
	h.t.Helper()
	resp, body := h.get(c, "/account/check")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.wx.WeComEndpoints().Authorize) {
		h.t.Errorf("want no login: status %d, Location %q, body %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// assertLoggedIn checks that browser c is logged in as the member userID.
func (h *harness) assertLoggedIn(c *http.Client, userID string) {
	h.t.Helper()
	resp, body := h.get(c, "/account/check")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, " userid="+userID+" ") {
		h.t.Errorf("want logged in as %s: status %d, body %q", userID, resp.StatusCode, body)
	}
}

// withCode returns callback URL cb with its code replaced (or dropped
// when code is "").
func withCode(t *testing.T, cb, code string) string {
	t.Helper()
	u, err := url.Parse(cb)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("code")
	if code != "" {
		q.Set("code", code)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withState returns callback URL cb with its state replaced.
func withState(t *testing.T, cb, state string) string {
	t.Helper()
	u, _ := url.Parse(cb)
	q := u.Query()
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

// param returns the query parameter name of rawURL.
func param(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

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
