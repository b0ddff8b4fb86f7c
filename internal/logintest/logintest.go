// Package logintest is the login flow's protections as one test suite,
// run against every face of the flow: the Official Account's and
// component mode's (package wechatauth), WeCom's inside its client and
// through its Web login (package wecom) each implement a Driver over
// their test harness and the emulator, and call Run. A protection of the
// flow holds for a face when the suite passes against it.
package logintest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Driver is a site protected by one face, served against the emulator,
// with the routes the suite visits: "/account/…", protected, whose page
// shows the logged-in user; "/logout", which logs the browser out and
// redirects (302); and the face's callback.
type Driver interface {
	// App is the site's origin, such as "http://127.0.0.1:4000".
	App() string
	// Browser returns a new browser with a cookie jar of its own, which
	// the face sends through its login inside the platform's client (the
	// authorize page); follow chooses whether it follows redirects.
	Browser(follow bool) *http.Client
	// LoginURL is the face's LoginURL.
	LoginURL(returnTo string) string
	// Authorize is the address of the platform's page that a login is
	// sent to.
	Authorize() string
	// Exchanges is how many codes the platform has exchanged so far.
	Exchanges() int
	// LoggedIn reports whether body, a protected page's, shows the
	// platform's default user (the emulator's visitor).
	LoggedIn(body string) bool
	// SetClock replaces the clock of the face's login flow.
	SetClock(now func() time.Time)
	// FailExchanges makes the platform answer the next n code exchanges
	// with its errcode for a spent code.
	FailExchanges(n int)
	// Refuse makes the platform's page decline every login while on, as
	// a user who declines: it sends the browser back with the state and
	// no code.
	Refuse(on bool)
	// SessionCookie is the name of the site's session cookie.
	SessionCookie() string
	// IssueCode returns a fresh code of the platform's default user for
	// the site's default login, as a second redirect of the platform for
	// one login brings.
	IssueCode() string
	// LoginCookiePrefix starts the name of every cookie of a login under
	// way that the face sets on this (plain-http) site.
	LoginCookiePrefix() string
}

// Run runs every test of the suite, each against a site that newDriver
// starts for it with the face's defaults (MaxAttempts 5, StateTTL 10
// minutes).
func Run(t *testing.T, newDriver func(t *testing.T) Driver) {
	tests := []struct {
		name string
		test func(t *testing.T, s *site)
	}{
		{"BadStateIsRefused", badState},
		{"StateOfAnotherBrowserIsRefused", anotherBrowser},
		{"ExpiredStateIsRefused", expiredState},
		{"HostileReturnsEndOnTheSite", hostileReturns},
		{"ConcurrentDeliveriesExchangeOnce", concurrentDeliveries},
		{"RefusedCodeLogsNobodyIn", refusedCode},
		{"APIRequestsGet401JSON", apiRequests},
		{"NoRedirectLoop", noLoop},
		{"LoginRenewsSessionToken", sessionRenewed},
		{"StateReplayedAfterLogoutIsRefused", replayAfterLogout},
		{"LogoutRenewsSessionToken", logoutRenewed},
		{"LeakedCallbackURLWithPlantedCookie", leakedWithPlantedCookie},
		{"ReplayWithPlantedCookieNeedsTheCode", plantedCookieNeedsTheCode},
		{"LoginCookieCannotBeRewritten", cookieRewritten},
		{"TwoTabsStartingAtOnceBothLogIn", twoTabs},
		{"LoginsStartedAtOnceFitACookieHeader", cookieHeaderBound},
		{"HostileCookieFloodGetsABoundedAnswer", cookieFlood},
		{"SpentCodeStartsOneFreshRoundTrip", spentCode},
		{"CallbackWithoutCodeIsRefusal", declined},
		{"CallbackDeliveredTwice", deliveredTwice},
		{"ConcurrentDeliveriesOfTwoCodesExchangeEachOnce", concurrentTwoCodes},
		{"ReplayedJunkCodeReachesThePlatformOnce", replayedJunk},
		{"JunkSecondCodesReachThePlatformTwiceAtMost", junkSecondCodes},
		{"RefusedCodeLeavesOtherLoginsAlone", otherLoginsAlone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, &site{t: t, d: newDriver(t)}) })
	}
}

// site is a Driver with the suite's steps.
type site struct {
	t *testing.T
	d Driver
}

// get sends a page navigation (or, with accept, another request) and
// returns the response with its body read.
func (s *site) get(c *http.Client, rawURL string) (*http.Response, string) {
	return s.do(c, http.MethodGet, rawURL, "text/html")
}

func (s *site) do(c *http.Client, method, rawURL, accept string) (*http.Response, string) {
	s.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = s.d.App() + rawURL
	}
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// step fetches rawURL, expecting status want.
func (s *site) step(c *http.Client, rawURL string, want int) *http.Response {
	s.t.Helper()
	resp, body := s.get(c, rawURL)
	if resp.StatusCode != want {
		s.t.Fatalf("GET %s: status %d, want %d; body %q", rawURL, resp.StatusCode, want, body)
	}
	return resp
}

// callbackURL walks browser c, which stops at redirects, from path to the
// platform and back, and returns the callback URL without visiting it.
func (s *site) callbackURL(c *http.Client, path string) string {
	s.t.Helper()
	resp := s.step(c, path, http.StatusFound)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, s.d.Authorize()) {
		s.t.Fatalf("%s sent the browser to %q, want the platform's page %s", path, loc, s.d.Authorize())
	}
	resp = s.step(c, resp.Header.Get("Location"), http.StatusFound)
	return resp.Header.Get("Location")
}

// loggedIn reports whether browser c has a login.
func (s *site) loggedIn(c *http.Client) bool {
	s.t.Helper()
	resp, body := s.get(c, "/account/check")
	return resp.StatusCode == http.StatusOK && s.d.LoggedIn(body)
}

// assertLoggedOut checks that browser c has no login: a protected page
// sends it to the platform.
func (s *site) assertLoggedOut(c *http.Client) {
	s.t.Helper()
	resp, body := s.get(s.stopping(c), "/account/check")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s.d.Authorize()) {
		s.t.Errorf("want no login: status %d, Location %q, body %q", resp.StatusCode, loc, body)
	}
}

// assertLoggedIn checks that browser c is logged in as the platform's
// default user.
func (s *site) assertLoggedIn(c *http.Client) {
	s.t.Helper()
	if resp, body := s.get(s.stopping(c), "/account/check"); resp.StatusCode != http.StatusOK || !s.d.LoggedIn(body) {
		s.t.Errorf("want a login: status %d, Location %q, body %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// stopping returns browser c (its cookies, its transport) stopping at
// every redirect.
func (s *site) stopping(c *http.Client) *http.Client {
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &nc
}

// following returns browser c following redirects.
func (s *site) following(c *http.Client) *http.Client {
	nc := *c
	nc.CheckRedirect = nil
	return &nc
}

// cookies returns a copy of every cookie c holds for the site: the
// browser's state at a moment, such as before an answer that is then
// lost.
func (s *site) cookies(c *http.Client) []*http.Cookie {
	return c.Jar.Cookies(s.origin())
}

// cookie returns the value of the cookie named name that c holds for the
// site.
func (s *site) cookie(c *http.Client, name string) string {
	for _, ck := range s.cookies(c) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// withCookies returns a new browser that stops at redirects and holds
// the given cookies, as cookies returned them.
func (s *site) withCookies(cs []*http.Cookie) *http.Client {
	c := s.d.Browser(false)
	for _, ck := range cs {
		c.Jar.SetCookies(s.origin(), []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	return c
}

func (s *site) origin() *url.URL {
	u, err := url.Parse(s.d.App())
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// clock replaces the face's clock with one that stands still at the
// wall clock's time until moved, and returns what moves it.
func (s *site) clock() (advance func(time.Duration)) {
	var mu sync.Mutex
	now := time.Now()
	s.d.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	return func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
}

// query returns rawURL with the query parameter name set to value, or
// dropped when value is "".
func query(rawURL, name, value string) string {
	u, _ := url.Parse(rawURL)
	q := u.Query()
	q.Del(name)
	if value != "" {
		q.Set(name, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func param(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	return u.Query().Get(name)
}

// A forged, altered, malformed, oversized or missing state is refused
// (400, with a retry link), and no code is exchanged.
func badState(t *testing.T, s *site) {
	for _, tc := range []struct {
		name  string
		state func(real string) string
	}{
		{"missing", func(string) string { return "" }},
		{"forged", func(real string) string { return strings.Repeat("a", len(real)) }},
		{"one character off", func(real string) string {
			if real[len(real)-1] == 'a' {
				return real[:len(real)-1] + "b"
			}
			return real[:len(real)-1] + "a"
		}},
		{"malformed", func(string) string { return "<script>" }},
		{"too long", func(real string) string { return real + real + real }},
	} {
		c := s.d.Browser(false)
		cb := s.callbackURL(c, "/account/")
		before := s.d.Exchanges()
		resp, body := s.get(c, query(cb, "state", tc.state(param(cb, "state"))))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="retry"`) {
			t.Errorf("%s state: status %d, want 400 with a retry link; body %q", tc.name, resp.StatusCode, body)
		}
		if got := s.d.Exchanges() - before; got != 0 {
			t.Errorf("%s state: %d exchanges, want 0", tc.name, got)
		}
		s.assertLoggedOut(c)
	}
}

// A callback brought by a browser that did not start its login is
// refused, and spends the state: the victim's own delivery is refused
// too, and a fresh login works.
func anotherBrowser(t *testing.T, s *site) {
	victim := s.d.Browser(false)
	cb := s.callbackURL(victim, "/account/")
	attacker := s.d.Browser(false)
	s.step(attacker, "/account/", http.StatusFound)
	s.step(attacker, cb, http.StatusBadRequest)
	s.assertLoggedOut(attacker)
	s.step(victim, cb, http.StatusBadRequest)
	s.assertLoggedOut(victim)
	if got := s.d.Exchanges(); got != 0 {
		t.Errorf("exchanges: %d, want 0", got)
	}
	if c := s.d.Browser(true); !s.loggedIn(c) {
		t.Error("a fresh login after the refusals did not log in")
	}
}

// A callback after StateTTL is refused with "took too long" and a retry
// link to the page.
func expiredState(t *testing.T, s *site) {
	var mu sync.Mutex
	now := time.Now()
	s.d.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := s.d.Browser(false)
	cb := s.callbackURL(c, "/account/x")
	mu.Lock()
	now = now.Add(10*time.Minute + time.Second)
	mu.Unlock()
	resp, body := s.get(c, cb)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") || !strings.Contains(body, url.QueryEscape("/account/x")) {
		t.Errorf("status %d, body %q; want 400, too long, retrying /account/x", resp.StatusCode, body)
	}
	if got := s.d.Exchanges(); got != 0 {
		t.Errorf("exchanges: %d, want 0", got)
	}
}

// Whatever a login URL names as its return, the login ends on the site.
func hostileReturns(t *testing.T, s *site) {
	for _, next := range []string{
		"//evil.example/", "/\\evil.example", "https://evil.example/", "http:evil.example",
		"javascript:alert(1)", "/%2F/evil.example", "/%5Cevil.example", "\\\\evil.example",
		"/\x00evil", "/\tevil", " //evil.example", "/account/\r\nLocation: https://evil.example",
		"//user@evil.example", "evil.example", "",
	} {
		c := s.d.Browser(false)
		resp, _ := s.get(c, s.callbackURL(c, s.d.LoginURL(next)))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
			t.Errorf("next=%q: status %d, Location %q; want /", next, resp.StatusCode, loc)
		}
	}
}

// Twenty deliveries of one callback at once: one exchange, every
// delivery logged in.
func concurrentDeliveries(t *testing.T, s *site) {
	c := s.d.Browser(false)
	cb := s.callbackURL(c, "/account/orders?id=7")
	u, _ := url.Parse(s.d.App())
	cookies := c.Jar.Cookies(u)
	const n = 20
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, cb, nil)
			req.Header.Set("Accept", "text/html")
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				got[i] = err.Error()
				return
			}
			resp.Body.Close()
			got[i] = resp.Status + " " + resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	for i, g := range got {
		if g != "302 Found /account/orders?id=7" {
			t.Errorf("delivery %d: %s, want 302 to /account/orders?id=7", i, g)
		}
	}
	if got := s.d.Exchanges(); got != 1 {
		t.Errorf("exchanges: %d, want 1", got)
	}
}

// A code that a callback refused before exchanging it is still valid at
// the platform, and its URL is in logs. Whoever brings it to a login of
// their own logs nobody in, and refusing it costs no exchange: whether
// the browser had not started the login, the login's cookie had expired,
// or the state's MAC failed.
func refusedCode(t *testing.T, s *site) {
	for _, tc := range []struct {
		name string
		// refused has the victim's code refused and returns its callback.
		refused func() string
	}{
		{"the browser had no cookie of the login", func() string {
			// An attacker's authorize link, opened by the victim.
			attacker := s.d.Browser(false)
			resp := s.step(attacker, "/account/", http.StatusFound)
			victim := s.d.Browser(false)
			resp = s.step(victim, resp.Header.Get("Location"), http.StatusFound)
			cb := resp.Header.Get("Location")
			s.step(victim, cb, http.StatusBadRequest)
			return cb
		}},
		{"the login's cookie had expired", func() string {
			victim := s.d.Browser(false)
			cb := s.callbackURL(victim, "/account/")
			later := time.Now().Add(time.Hour) // past StateTTL
			s.d.SetClock(func() time.Time { return later })
			s.step(victim, cb, http.StatusBadRequest)
			s.d.SetClock(time.Now)
			return cb
		}},
		{"the state's MAC failed", func() string {
			victim := s.d.Browser(false)
			cb := s.callbackURL(victim, "/account/")
			state := param(cb, "state")
			bad := state[:len(state)-4] + "0000"
			if bad == state {
				bad = state[:len(state)-4] + "1111"
			}
			s.step(victim, query(cb, "state", bad), http.StatusBadRequest)
			return cb
		}},
	} {
		before := s.d.Exchanges()
		code := param(tc.refused(), "code")
		if code == "" {
			t.Fatalf("%s: the callback had no code", tc.name)
		}
		if got := s.d.Exchanges() - before; got != 0 {
			t.Fatalf("%s: exchanges after the refusal: %d, want 0", tc.name, got)
		}
		// The attacker starts a login of their own and brings the code.
		other := s.d.Browser(false)
		own := s.callbackURL(other, "/account/")
		resp, body := s.get(other, query(own, "code", code))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: injected code: status %d, Location %q, body %q; want 400", tc.name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if got := s.d.Exchanges() - before; got != 0 {
			t.Errorf("%s: exchanges: %d, want 0: a refused code is never exchanged", tc.name, got)
		}
		s.assertLoggedOut(other)
	}
}

// A request that is not a page navigation gets 401 JSON with a login URL,
// never a redirect.
func apiRequests(t *testing.T, s *site) {
	resp, body := s.do(s.d.Browser(false), http.MethodPost, "/account/api", "application/json")
	var got struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"`
	}
	if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(body), &got) != nil || got.Error != "wechat_login_required" || !strings.Contains(got.LoginURL, "?next=") {
		t.Errorf("status %d, body %q; want 401 JSON with a login_url", resp.StatusCode, body)
	}
}

// A login whose every code comes back spent ends on an error page (429)
// after MaxAttempts round trips, not in a loop.
func noLoop(t *testing.T, s *site) {
	s.d.FailExchanges(20)
	c := s.d.Browser(true)
	c.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		if len(via) > 30 { // five round trips and their callbacks fit
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, body := s.get(c, "/account/")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Location") != "" || !strings.Contains(body, "try again") {
		t.Errorf("status %d, Location %q, body %q; want 429 after the attempts ran out", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if got := s.d.Exchanges(); got != 5 {
		t.Errorf("exchanges: %d, want 5 (MaxAttempts)", got)
	}
}
