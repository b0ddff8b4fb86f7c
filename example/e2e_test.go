package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/wechatauth/wechatauth/internal/testclock"
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
	release   chan struct{} // see holdExchange
	releaseAt int
	heldOut   bool // an exchange's budget ended while holdExchange held it
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
	cfg.HTTPClient = &http.Client{Transport: exchangeGate{st, http.DefaultTransport}}
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
			if st.release != nil && len(st.callbacks) >= st.releaseAt {
				close(st.release)
				st.release = nil
			}
			st.mu.Unlock()
		}
		handler.ServeHTTP(w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return st
}

// holdExchange makes the app's next code exchanges wait until the
// callback has been delivered n more times: an exchange in flight for as
// long as WeChat takes to repeat the callback, however long that is. The
// wait ends with the exchange's own budget (Options.Timeout) at the latest.
func (st *stack) holdExchange(n int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.release, st.releaseAt = make(chan struct{}), len(st.callbacks)+n
}

// exchangeGate is the app's transport to the emulator: code exchanges wait
// while holdExchange holds them.
type exchangeGate struct {
	st   *stack
	next http.RoundTripper
}

func (g exchangeGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == pathToken {
		g.st.mu.Lock()
		release := g.st.release
		g.st.mu.Unlock()
		if release != nil {
			select {
			case <-release:
			case <-req.Context().Done():
				g.st.mu.Lock()
				g.st.heldOut = true
				g.st.mu.Unlock()
				return nil, req.Context().Err()
			}
		}
	}
	return g.next.RoundTrip(req)
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

// The browser tests' budgets. Every chromedp call runs within them, and
// their failures say which one ran out instead of a bare "context deadline
// exceeded". They are generous, since Chromium on a machine busy with other
// work (parallel builds, other browsers) can take many seconds for a page,
// and the environment variable WECHATAUTH_TEST_TIMEOUT_SCALE
// (testclock.ScaleEnv) multiplies them: WECHATAUTH_TEST_TIMEOUT_SCALE=3
// gives every step three minutes. A passing run never waits for them.
var (
	// stepBudget bounds one step: a navigation, a click and what it waits
	// for, reading a text.
	stepBudget = testclock.Patience(time.Minute)
	// browserBudget bounds a browser's whole life: starting Chromium and
	// every step of one test. It ends earlier when go test's -timeout would.
	browserBudget = testclock.Patience(4 * time.Minute)
)

// browserFlags are Chromium's flags for the tests: headless, runnable as
// root (CI), and quiet, with nothing on the network but the test's pages.
var browserFlags = []chromedp.ExecAllocatorOption{
	chromedp.Flag("headless", true),
	chromedp.NoSandbox, // --no-sandbox: Chromium runs as root in CI
	chromedp.Flag("disable-gpu", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.NoFirstRun,
	chromedp.Flag("disable-quic", true),
}

// ranOut is the cause of a browser context whose budget ran out: it says
// which budget, for what, and how to allow more.
type ranOut struct{ msg string }

func (r ranOut) Error() string { return r.msg }

// explain returns err, or, when ctx ended because a budget ran out, an
// error that says which one, wrapping err.
func explain(ctx context.Context, err error) error {
	var r ranOut
	if err != nil && ctx.Err() != nil && errors.As(context.Cause(ctx), &r) {
		return fmt.Errorf("%s (%w)", r.msg, err)
	}
	return err
}

// newBrowser starts headless Chromium with a fresh profile and returns its
// context. The browser ends with the test, and at the latest when
// browserBudget runs out.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	profile := t.TempDir() // removed after the browser has exited (cleanups run last first)
	total, why := browserBudget, ranOut{testclock.RanOut("the browser", browserBudget, "all of "+t.Name())}
	if deadline, ok := t.Deadline(); ok && time.Until(deadline)-30*time.Second < total {
		total = max(time.Until(deadline)-30*time.Second, time.Second)
		why = ranOut{fmt.Sprintf("the browser took more than %v for all of %s, which is what go test's -timeout left it; the machine may be busy; run go test with a larger -timeout (and %s=2 for more per step)",
			total.Round(time.Second), t.Name(), testclock.ScaleEnv)}
	}
	limit, cancelLimit := context.WithTimeoutCause(context.Background(), total, why)
	t.Cleanup(cancelLimit)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(limit,
		append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(profile)}, browserFlags...)...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", path, explain(ctx, err))
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
	// own, not a step's, which ends with the step. browserBudget bounds it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", explain(ctx, err))
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

// stepContext returns the context of one browser step in tb: it ends when
// stepBudget runs out, with a cause that names the step by where the test
// takes it. Give its errors to explain.
func (tb *tab) stepContext() (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(tb.ctx, stepBudget, ranOut{testclock.RanOut("the browser", stepBudget, stepName())})
}

// stepName names the step being taken by the line of the test function
// that takes it, and the tab's method on the way, if any.
func stepName() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	method := ""
	for {
		f, more := frames.Next()
		name := f.Function[strings.LastIndex(f.Function, "/")+1:]
		if strings.Contains(name, ".Test") {
			where := fmt.Sprintf("the step at %s:%d", filepath.Base(f.File), f.Line)
			if method != "" {
				where += " (" + method + ")"
			}
			return where
		}
		_, fn, _ := strings.Cut(name, ".") // without the package
		if m, ok := strings.CutPrefix(fn, "(*tab)."); ok {
			method = m
		} else if method == "" {
			method = fn
		}
		if !more {
			return "a step of " + method
		}
	}
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v (at %s)", explain(ctx, err), tb.location())
	}
}

// response runs actions that navigate and returns the HTTP status of the
// page they end on.
func (tb *tab) response(actions ...chromedp.Action[chromedp.Void]) int64 {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.t.Fatalf("browser: %v (at %s)", explain(ctx, err), tb.location())
	}
	return resp.Status
}

func (tb *tab) text(id string) string {
	tb.t.Helper()
	ctx, cancel := tb.stepContext()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		tb.t.Fatalf("text of #%s: %v (at %s)", id, explain(ctx, err), tb.location())
	}
	return strings.TrimSpace(s)
}

func (tb *tab) location() string {
	ctx, cancel := tb.stepContext()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		if explain(ctx, err) != err {
			return "unknown: no answer within the budget either"
		}
		return "unknown: " + err.Error()
	}
	return loc
}

func (tb *tab) screenshot(name string) {
	ctx, cancel := tb.stepContext()
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

		ctx, cancel := tb.stepContext()
		defer cancel()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{st.app + "/"}})
		if err != nil {
			t.Fatal(explain(ctx, err))
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
		ctx, cancel := tb.stepContext()
		defer cancel()
		title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
		if err != nil {
			t.Fatal(explain(ctx, err))
		}
		if !strings.Contains(title, "declined") {
			t.Errorf("refusal page heading: got %q, want it to say the user declined", title)
		}
		if in, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("nickname") !== null`)); err != nil || in {
			t.Errorf("refusal page: got a logged-in page (err %v), want no nickname", explain(ctx, err))
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
		st.holdExchange(2) // the exchange is in flight until WeChat has repeated the callback
		t.Cleanup(func() {
			st.wx.SetCallbackRetry(0)
			st.mu.Lock()
			defer st.mu.Unlock()
			if st.heldOut {
				t.Errorf("the browser took more than the app's exchange budget (Options.Timeout) to repeat the callback after 300ms; the machine may be busy")
			}
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
