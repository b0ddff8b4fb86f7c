package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The emulator's paths the test counts.
const (
	pathAuthorize = "/connect/oauth2/authorize"
	pathToken     = "/sns/oauth2/access_token"
	alice         = "oAlice000000000000000000001"
	aliceNickname = "Alice 爱丽丝"
)

// browserPath finds Chromium. Without one the test is skipped, or fails
// when the environment variable CI is set, since CI installs it.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium on PATH: the real-browser test needs Debian's chromium (apt-get install chromium)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure, not a skip")
	}
	t.Skip(msg)
	return ""
}

// stack is the example app and its WeChat emulator, as `go run ./example`
// runs them, on loopback ports.
type stack struct {
	wx  *wechattest.Server
	app string // the app's origin

	mu        sync.Mutex
	callbacks []callbackHit
}

// callbackHit is one delivery of the callback with a code, as the app saw
// it: the code, the state, and the cookies of the browser's logins under way.
type callbackHit struct {
	code, state, cookies string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{app: "http://" + ln.Addr().String()}
	cfg := config{
		CallbackURL: st.app + "/wechat/callback",
		Scope:       "snsapi_userinfo",
		Logger:      slog.New(slog.NewTextHandler(testLog{t}, nil)),
	}
	st.wx, err = startEmulator(cfg.CallbackURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.wx.Close)
	cfg.AppID, cfg.AppSecret, cfg.Endpoints = st.wx.AppID, st.wx.AppSecret, st.wx.Endpoints()
	handler, closeApp, err := newApp(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeApp() })

	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); r.URL.Path == "/wechat/callback" && q.Has("code") {
			hit := callbackHit{code: q.Get("code"), state: q.Get("state")}
			for _, c := range r.Cookies() {
				if strings.HasPrefix(c.Name, "wechatauth-login-") {
					hit.cookies += c.Name + "=" + c.Value + ";"
				}
			}
			st.mu.Lock()
			st.callbacks = append(st.callbacks, hit)
			st.mu.Unlock()
		}
		handler.ServeHTTP(w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return st
}

func (st *stack) callbackHits() []callbackHit {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]callbackHit(nil), st.callbacks...)
}

// testLog sends the app's log lines to t.Log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newBrowser starts headless Chromium with a fresh profile and returns its
// context. The browser ends with the test, and at the latest after a minute.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	profile := t.TempDir() // removed after the browser has exited (cleanups run last first)
	limit, cancelLimit := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancelLimit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(limit,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // Chromium runs as root here
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// tab is one tab in a browser context of its own: its own cookies, as a
// separate person's browser.
type tab struct {
	t     *testing.T
	ctx   context.Context
	shots []shot
}

type shot struct {
	name string
	png  []byte
}

// newTab opens a tab in a fresh browser context. When the test fails, the
// screenshots taken along the way and one of the current page are written
// to a temporary directory, whose path goes to the test log.
func newTab(t *testing.T, browser context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	// The first Run binds the tab's life to its context: give it the tab's
	// own, not a step's, which ends with the step. The browser's one-minute
	// limit bounds it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		tb.screenshot("failed-here")
		dir, err := os.MkdirTemp("", "wechatauth-e2e-")
		if err != nil {
			t.Logf("screenshots: %v", err)
			return
		}
		for i, s := range tb.shots {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d-%s.png", i+1, s.name)), s.png, 0o644); err != nil {
				t.Logf("screenshots: %v", err)
			}
		}
		t.Logf("screenshots of the pages on the way: %s", dir)
	})
	return tb
}

// step bounds one browser step.
const step = 15 * time.Second

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v (at %s)", err, tb.location())
	}
}

// response runs actions that navigate and returns the HTTP status of the
// page they end on.
func (tb *tab) response(actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("browser: %v (at %s)", err, tb.location())
	}
	return resp.Status
}

func (tb *tab) text(id string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		tb.t.Fatalf("text of #%s: %v (at %s)", id, err, tb.location())
	}
	return strings.TrimSpace(s)
}

func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

func (tb *tab) screenshot(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		tb.shots = append(tb.shots, shot{name, png})
	}
}

// wantLocation fails the test unless the tab is at want.
func (tb *tab) wantLocation(want string) {
	tb.t.Helper()
	if got := tb.location(); got != want {
		tb.t.Fatalf("location: got %q, want %q", got, want)
	}
}

// consent waits for the emulator's consent page and picks Alice.
func (tb *tab) consent(st *stack) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.ID("allow")))
	tb.screenshot("consent")
	if got := tb.location(); !strings.HasPrefix(got, st.wx.URL+pathAuthorize+"?") {
		tb.t.Fatalf("consent page: got location %q, want the emulator's authorize page", got)
	}
	tb.do(chromedp.SetValue(chromedp.ID("openid"), alice))
}

// allow clicks Allow and waits for the account page.
func (tb *tab) allow() {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("nickname")))
	tb.screenshot("landing")
}

func TestBrowserLogin(t *testing.T) {
	path := browserPath(t)
	begin := time.Now()
	st := newStack(t)
	browser := newBrowser(t, path)
	t.Cleanup(func() { t.Logf("wall time with the browser: %v", time.Since(begin).Round(time.Millisecond)) })

	t.Run("allow, revisit, logout", func(t *testing.T) {
		tb := newTab(t, browser)
		page := st.app + "/account/something?x=1"
		tb.do(chromedp.Navigate(page))
		tb.consent(st)
		tb.allow()
		tb.wantLocation(page)
		if got := tb.text("nickname"); got != aliceNickname {
			t.Errorf("nickname: got %q, want %q", got, aliceNickname)
		}
		if got := tb.text("openid"); got != alice {
			t.Errorf("openid: got %q, want %q", got, alice)
		}

		ctx, cancel := context.WithTimeout(tb.ctx, step)
		defer cancel()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{st.app + "/"}})
		if err != nil {
			t.Fatal(err)
		}
		var session *network.Cookie
		for _, c := range res.Cookies {
			if c.Name == "session" {
				session = c
			}
		}
		switch {
		case session == nil:
			t.Errorf("cookies: got %d without %q, want the session cookie", len(res.Cookies), "session")
		case !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax:
			t.Errorf("session cookie: got HttpOnly=%v SameSite=%q, want HttpOnly=true SameSite=%q", session.HTTPOnly, session.SameSite, network.CookieSameSiteLax)
		}

		// Logged in: another protected page does not go to WeChat.
		authorizes, exchanges := st.wx.Calls(pathAuthorize), st.wx.Calls(pathToken)
		other := st.app + "/account/other?y=2&z=%E4%B8%AD"
		tb.do(chromedp.Navigate(other), chromedp.WaitVisible(chromedp.ID("nickname")))
		tb.wantLocation(other)
		if got := tb.text("nickname"); got != aliceNickname {
			t.Errorf("second page nickname: got %q, want %q", got, aliceNickname)
		}
		if a, e := st.wx.Calls(pathAuthorize), st.wx.Calls(pathToken); a != authorizes || e != exchanges {
			t.Errorf("emulator calls on the second visit: got %d authorize and %d exchange, want none", a-authorizes, e-exchanges)
		}

		// Log out: the home page says so, and the account needs WeChat again.
		tb.do(chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("logged-out")))
		tb.wantLocation(st.app + "/")
		tb.do(chromedp.Navigate(st.app+"/account/"), chromedp.WaitVisible(chromedp.ID("allow")))
		if got := st.wx.Calls(pathAuthorize); got != authorizes+1 {
			t.Errorf("authorize calls after logout: got %d, want %d", got, authorizes+1)
		}
	})

	t.Run("refuse, then retry", func(t *testing.T) {
		tb := newTab(t, browser)
		page := st.app + "/account/private?y=2"
		tb.do(chromedp.Navigate(page))
		tb.consent(st)
		if status := tb.response(chromedp.Click(chromedp.ID("refuse"))); status != http.StatusForbidden {
			t.Errorf("refusal page: got HTTP %d, want 403", status)
		}
		tb.screenshot("refused")
		if got, want := tb.text("retry"), "Try again"; !strings.Contains(got, want) {
			t.Errorf("retry link: got %q, want it to contain %q", got, want)
		}
		ctx, cancel := context.WithTimeout(tb.ctx, step)
		defer cancel()
		title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(title, "declined") {
			t.Errorf("refusal page heading: got %q, want it to say the user declined", title)
		}
		if in, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("nickname") !== null`)); err != nil || in {
			t.Errorf("refusal page: got a logged-in page (err %v), want no nickname", err)
		}

		// The retry link starts over and ends on the page first asked for.
		tb.do(chromedp.Click(chromedp.ID("retry")))
		tb.consent(st)
		tb.allow()
		tb.wantLocation(page)
	})

	t.Run("snapshot user", func(t *testing.T) {
		tb := newTab(t, browser)
		tb.do(chromedp.Navigate(st.app + "/account/"))
		tb.consent(st)
		tb.do(chromedp.Click(chromedp.ID("snapshot")))
		if status := tb.response(chromedp.Click(chromedp.ID("allow"))); status != http.StatusForbidden {
			t.Errorf("snapshot login: got HTTP %d, want 403 (a virtual user is not logged in)", status)
		}
		tb.screenshot("snapshot")
		tb.do(chromedp.Navigate(st.app+"/"), chromedp.WaitVisible(chromedp.ID("logged-out")))
	})

	t.Run("WeChat repeats a slow callback", func(t *testing.T) {
		st.wx.SetCallbackRetry(300 * time.Millisecond)
		st.wx.SetLatency(time.Second) // the exchange alone takes longer than the retry delay
		t.Cleanup(func() {
			st.wx.SetCallbackRetry(0)
			st.wx.SetLatency(0)
		})
		tb := newTab(t, browser)
		before, exchanges := len(st.callbackHits()), st.wx.Calls(pathToken)
		page := st.app + "/account/slow?n=1"
		tb.do(chromedp.Navigate(page))
		tb.consent(st)
		tb.allow()
		tb.wantLocation(page)
		if got := tb.text("nickname"); got != aliceNickname {
			t.Errorf("nickname: got %q, want %q", got, aliceNickname)
		}
		hits := st.callbackHits()[before:]
		if len(hits) != 2 {
			t.Fatalf("callback deliveries: got %d, want 2: %+v", len(hits), hits)
		}
		if hits[0] != hits[1] || hits[0].cookies == "" {
			t.Errorf("deliveries: got %+v and %+v, want the same code, state and login cookie", hits[0], hits[1])
		}
		if got := st.wx.Calls(pathToken) - exchanges; got != 1 {
			t.Errorf("code exchanges: got %d, want 1", got)
		}
	})
}
