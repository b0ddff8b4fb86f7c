package logintest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The suite's tests of the session and of the cookies of logins under
// way: what a browser holds, plants or rewrites.

// The login renews the session token: a token planted in the victim's
// browser before the login (session fixation), here one of the
// attacker's logged in and out, is worth nothing after it.
func sessionRenewed(t *testing.T, s *site) {
	name := s.d.SessionCookie()
	attacker := s.d.Browser(true)
	if !s.loggedIn(attacker) {
		t.Fatal("the attacker's own login did not log in")
	}
	s.step(s.stopping(attacker), "/logout", http.StatusFound)
	planted := s.cookie(attacker, name)
	if planted == "" {
		t.Fatalf("no session cookie %q after logout", name)
	}
	c := s.withCookies([]*http.Cookie{{Name: name, Value: planted}})
	s.step(c, s.callbackURL(c, "/account/"), http.StatusFound)
	if after := s.cookie(c, name); after == planted || after == "" {
		t.Fatalf("session token not renewed: before %q, after %q", planted, after)
	}
	// The planted token is not logged in.
	s.assertLoggedOut(s.withCookies([]*http.Cookie{{Name: name, Value: planted}}))
	s.assertLoggedIn(c)
}

// Logout renews the session token too: the token of the logged-in
// session, wherever a copy of it went (a shared computer, a log), is
// worth nothing after it.
func logoutRenewed(t *testing.T, s *site) {
	name := s.d.SessionCookie()
	c := s.d.Browser(true)
	if !s.loggedIn(c) {
		t.Fatal("the login did not log in")
	}
	in := s.cookie(c, name)
	s.step(s.stopping(c), "/logout", http.StatusFound)
	if out := s.cookie(c, name); out == in || out == "" {
		t.Fatalf("session token not renewed at logout: logged in %q, after logout %q", in, out)
	}
	s.assertLoggedOut(s.withCookies([]*http.Cookie{{Name: name, Value: in}}))
	s.assertLoggedOut(c)
}

// A callback replayed after logout logs nobody in: logout renewed the
// token and closed the login, and the session is not the one that logged
// in; nor does the login's cookie, which a browser whose first answer was
// lost still holds, bring it back.
func replayAfterLogout(t *testing.T, s *site) {
	c := s.d.Browser(false)
	cb := s.callbackURL(c, "/account/")
	before := s.cookies(c)
	s.step(c, cb, http.StatusFound)
	s.step(c, "/logout", http.StatusFound)
	if resp, body := s.get(c, cb); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replay after logout: status %d, Location %q, body %q; want 400", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	s.assertLoggedOut(c)
	for _, ck := range before {
		c.Jar.SetCookies(s.origin(), []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	if resp, body := s.get(c, cb); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replay after logout with the login's cookie: status %d, Location %q, body %q; want 400", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	s.assertLoggedOut(c)
	if got := s.d.Exchanges(); got != 1 {
		t.Errorf("exchanges: %d, want 1", got)
	}
}

// plantedLogin has an attacker start a login, plant its cookies in a
// victim's browser (cookie tossing) and send the victim through its
// authorize link. The victim logs in; plantedLogin returns the victim's
// browser, the callback URL (with the victim's code, as a log would keep
// it) and the planted cookies.
func (s *site) plantedLogin() (victim *http.Client, callback string, planted []*http.Cookie) {
	s.t.Helper()
	attacker := s.d.Browser(false)
	resp := s.step(attacker, "/account/", http.StatusFound)
	planted = s.cookies(attacker)
	victim = s.withCookies(planted)
	resp = s.step(victim, resp.Header.Get("Location"), http.StatusFound)
	callback = resp.Header.Get("Location")
	s.step(victim, callback, http.StatusFound)
	s.assertLoggedIn(victim)
	return victim, callback, planted
}

// An attacker who planted a login cookie of their own in the victim's
// browser and read the victim's callback URL from a log gets nothing once
// the platform's retries are over, nor after the victim logged out.
func leakedWithPlantedCookie(t *testing.T, s *site) {
	advance := s.clock()
	for _, tc := range []struct {
		name  string
		after func(victim *http.Client)
	}{
		{"a minute later", func(*http.Client) { advance(time.Minute) }},
		{"after the victim logged out", func(victim *http.Client) { s.step(victim, "/logout", http.StatusFound) }},
	} {
		victim, leaked, planted := s.plantedLogin()
		tc.after(victim)
		replay := s.withCookies(planted)
		if resp, body := s.get(replay, leaked); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: replay: status %d, Location %q, body %q; want 400", tc.name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		s.assertLoggedOut(replay)
	}
}

// Replaying the victim's callback with the planted cookie and the state,
// but without the victim's code (none, or one made up), does not bring
// the login to the attacker, even within the platform's retries.
func plantedCookieNeedsTheCode(t *testing.T, s *site) {
	_, cb, planted := s.plantedLogin()
	for _, code := range []string{"", "junk"} {
		replay := s.withCookies(planted)
		if resp, body := s.get(replay, query(cb, "code", code)); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replay with code %q: status %d, Location %q, body %q; want 400", code, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		s.assertLoggedOut(replay)
	}
}

// What the server relies on in a login's cookie is the server's: a
// browser that rewrites its expiry, scope, app, attempts or return path
// gets no login and costs no exchange, and no login outlives StateTTL
// whatever the cookie says.
func cookieRewritten(t *testing.T, s *site) {
	// The fields of a login's cookie, found by their shape: the expiry (a
	// Unix time), the scope ("snsapi_…"), the app, the attempts, the
	// return path last.
	for _, tc := range []struct {
		name string
		// rewrite changes fields, the scope at fields[i].
		rewrite func(fields []string, i int)
		later   time.Duration // how long after the start the callback comes
	}{
		{"expiry pushed a month on, callback 29 days later", func(f []string, i int) {
			n, err := strconv.ParseInt(f[i-1], 10, 64)
			if err != nil || n < time.Now().Unix() || n > time.Now().Add(time.Hour).Unix() {
				s.t.Fatalf("no expiry before the scope in the login's cookie: %q", strings.Join(f, ":"))
			}
			f[i-1] = strconv.FormatInt(n+30*24*3600, 10)
		}, 29 * 24 * time.Hour},
		{"scope", func(f []string, i int) {
			if f[i] == "snsapi_userinfo" {
				f[i] = "snsapi_base"
			} else {
				f[i] = "snsapi_userinfo"
			}
		}, 0},
		{"app", func(f []string, i int) {
			// The other app of a site with two ("-" and "web"), or
			// another account's appid.
			switch app := f[i+1]; app {
			case "-":
				f[i+1] = "web"
			case "web":
				f[i+1] = "-"
			default:
				f[i+1] = app[:len(app)-1] + string("ab"[strings.IndexByte("a", app[len(app)-1])+1])
			}
		}, 0},
		{"attempts", func(f []string, i int) {
			n, err := strconv.Atoi(f[i+2])
			if err != nil {
				s.t.Fatalf("no attempts after the app in the login's cookie: %q", strings.Join(f, ":"))
			}
			f[i+2] = strconv.Itoa(n + 1)
		}, 0},
		{"return path", func(f []string, i int) {
			if f[len(f)-1] != "/account/mine" {
				s.t.Fatalf("the login's cookie does not end with its return path: %q", strings.Join(f, ":"))
			}
			f[len(f)-1] = "/account/elsewhere"
		}, 0},
	} {
		b := s.d.Browser(false)
		cb := s.callbackURL(b, "/account/mine")
		changed := 0
		for _, c := range s.cookies(b) {
			if !strings.HasPrefix(c.Name, s.d.LoginCookiePrefix()) {
				continue
			}
			fields := strings.Split(c.Value, ":")
			i := 0
			for i < len(fields) && !strings.HasPrefix(fields[i], "snsapi_") {
				i++
			}
			if i < 1 || i+3 >= len(fields) {
				t.Fatalf("%s: no scope amid the login cookie's fields: %q", tc.name, c.Value)
			}
			tc.rewrite(fields, i)
			b.Jar.SetCookies(s.origin(), []*http.Cookie{{Name: c.Name, Value: strings.Join(fields, ":"), Path: "/"}})
			changed++
		}
		if changed != 1 {
			t.Fatalf("%s: %d login cookies (named %q…), want 1", tc.name, changed, s.d.LoginCookiePrefix())
		}
		if tc.later > 0 {
			later := time.Now().Add(tc.later)
			s.d.SetClock(func() time.Time { return later })
		}
		before := s.d.Exchanges()
		resp, body := s.get(b, cb)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: callback with the rewritten cookie: status %d, Location %q, body %.80q; want 400", tc.name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if got := s.d.Exchanges() - before; got != 0 {
			t.Errorf("%s: exchanges: %d, want 0", tc.name, got)
		}
		s.assertLoggedOut(b)
		s.d.SetClock(time.Now)
	}
}

// fetch is get for other goroutines than the test's: it reports what
// went wrong instead of failing the test.
func (s *site) fetch(c *http.Client, rawURL string) (*http.Response, error) {
	if strings.HasPrefix(rawURL, "/") {
		rawURL = s.d.App() + rawURL
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp, err
}

// startAtOnce starts a login of each page in browser, all at once: each
// start leaves before any answer is back, so none carries the cookies
// the others set, and every answer's cookies then land in browser. It
// returns each start's answer.
func (s *site) startAtOnce(browser *http.Client, pages []string) []*http.Response {
	s.t.Helper()
	held := s.cookies(browser)
	tabs := make([]*http.Client, len(pages))
	for i := range tabs {
		tabs[i] = s.withCookies(held)
	}
	starts := make([]*http.Response, len(pages))
	errs := make([]error, len(pages))
	var wg sync.WaitGroup
	for i, page := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			starts[i], errs[i] = s.fetch(tabs[i], page)
		}()
	}
	wg.Wait()
	for i, resp := range starts {
		if errs[i] != nil {
			s.t.Fatalf("start of %.40s…: %v", pages[i], errs[i])
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, s.d.Authorize()) {
			s.t.Fatalf("start of %.40s…: status %d, Location %q; want the platform's page", pages[i], resp.StatusCode, loc)
		}
		browser.Jar.SetCookies(s.origin(), resp.Cookies())
	}
	return starts
}

// Two tabs of one browser start a login at once, whether the browser had
// a session or not: both come back from the platform logged in, each on
// its own page.
func twoTabs(t *testing.T, s *site) {
	for _, tc := range []struct {
		name    string
		prepare func(c *http.Client)
	}{
		{"a new browser", func(*http.Client) {}},
		{"a browser with a session", func(c *http.Client) {
			if !s.loggedIn(s.following(c)) {
				t.Fatal("the first login did not log in")
			}
			s.step(c, "/logout", http.StatusFound)
		}},
	} {
		browser := s.d.Browser(false)
		tc.prepare(browser)
		pages := []string{"/account/tab1", "/account/tab2"}
		starts := s.startAtOnce(browser, pages)
		callbacks := make([]string, len(pages))
		for i, resp := range starts {
			// The platform approves each tab at once.
			callbacks[i] = s.step(s.d.Browser(false), resp.Header.Get("Location"), http.StatusFound).Header.Get("Location")
		}
		for i, cb := range callbacks {
			resp, body := s.get(browser, cb)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != pages[i] {
				t.Errorf("%s: tab %d: status %d, Location %q, body %q; want 302 to %s", tc.name, i+1, resp.StatusCode, loc, body, pages[i])
			}
		}
		s.assertLoggedIn(browser)
	}
}

// Logins started at once by one browser, each unaware of the others (a
// page with several protected frames, tabs restored together), leave
// what a server takes in one Cookie header, however long their pages'
// URLs.
func cookieHeaderBound(t *testing.T, s *site) {
	const tabs = 8
	page := "/account/" + strings.Repeat("p", 640) + "?" + strings.Repeat("utm_campaign=spring&", 65) // 1,955 bytes
	pages := make([]string, tabs)
	for i := range pages {
		pages[i] = page + strconv.Itoa(i)
	}
	browser := s.d.Browser(false)
	s.startAtOnce(browser, pages)
	n, size := 0, 0
	for _, c := range s.cookies(browser) {
		if strings.HasPrefix(c.Name, s.d.LoginCookiePrefix()) {
			n++
			size += len(c.Name) + 1 + len(c.Value) + 2
		}
	}
	if n == 0 {
		t.Fatalf("no login cookie named %q…", s.d.LoginCookiePrefix())
	}
	if size > 8192-1024 {
		t.Errorf("%d login cookies: %d bytes of Cookie header; want room left under the 8 KB a server such as nginx takes by default", n, size)
	}
}

// A response deletes a bounded number of login cookies, whatever the
// request carries.
func cookieFlood(t *testing.T, s *site) {
	const fakes = 3000
	var cookie strings.Builder
	for i := range fakes {
		if i > 0 {
			cookie.WriteString("; ")
		}
		fmt.Fprintf(&cookie, "%s%d=x", s.d.LoginCookiePrefix(), 1000000000000000+i)
	}
	req, err := http.NewRequest(http.MethodGet, s.d.App()+"/account/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Cookie", cookie.String())
	resp, err := s.d.Browser(false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sets := len(resp.Header.Values("Set-Cookie")); resp.StatusCode != http.StatusFound || sets > 10 {
		t.Errorf("status %d with %d Set-Cookie; want 302 with at most 10", resp.StatusCode, sets)
	}
}
