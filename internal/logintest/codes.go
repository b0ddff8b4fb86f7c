package logintest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// The suite's tests of the codes a callback brings: spent, missing,
// delivered again, made up.

// A code the platform answers as spent (someone else exchanged it first)
// starts one fresh round trip, which logs in and ends on the page.
func spentCode(t *testing.T, s *site) {
	c := s.d.Browser(false)
	cb := s.callbackURL(c, "/account/z")
	s.d.FailExchanges(1)
	resp := s.step(c, cb, http.StatusFound)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, s.d.Authorize()) {
		t.Fatalf("Location %q; want a new round trip to the platform", loc)
	}
	resp, body := s.get(s.following(c), loc)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account/z" || !s.d.LoggedIn(body) {
		t.Errorf("after the fresh round trip: status %d at %s, body %q; want /account/z logged in", resp.StatusCode, resp.Request.URL, body)
	}
	if got := s.d.Exchanges(); got != 2 {
		t.Errorf("exchanges: %d, want 2 (the spent code, the fresh one)", got)
	}
}

// A callback without a code (the user declined) answers the refusal page
// (403, with a retry link) and exchanges nothing; the retry starts a login
// that ends on the original page.
func declined(t *testing.T, s *site) {
	s.d.Refuse(true)
	c := s.d.Browser(true)
	resp, body := s.get(c, "/account/x")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "declined") || !strings.Contains(body, `id="retry"`) {
		t.Errorf("status %d, body %q; want 403 saying the login was declined, with a retry link", resp.StatusCode, body)
	}
	if got := s.d.Exchanges(); got != 0 {
		t.Errorf("exchanges: %d, want 0", got)
	}
	s.d.Refuse(false)
	resp, body = s.get(c, s.d.LoginURL("/account/x"))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account/x" || !s.d.LoggedIn(body) {
		t.Errorf("retry: status %d at %s, body %q; want /account/x logged in", resp.StatusCode, resp.Request.URL, body)
	}
}

// A callback delivered again after it completed ends on the page again,
// logged in: a reload, a retry whose first answer was lost (with the
// cookies of before), or the platform's second redirect of the login
// with a new code. Each code is exchanged once, a second code only when
// it comes without the session of the first, to check it is the same
// user's.
func deliveredTwice(t *testing.T, s *site) {
	same := func(c *http.Client, _ []*http.Cookie) *http.Client { return c }
	old := func(_ *http.Client, before []*http.Cookie) *http.Client { return s.withCookies(before) }
	for _, tc := range []struct {
		name      string
		second    func(c *http.Client, before []*http.Cookie) *http.Client
		newCode   bool
		exchanges int
	}{
		{"same code, same browser (reload)", same, false, 1},
		{"same code, old cookie (first answer lost)", old, false, 1},
		{"new code, same browser", same, true, 1},
		{"new code, old cookie", old, true, 2},
	} {
		exchanges := s.d.Exchanges()
		c := s.d.Browser(false)
		cb := s.callbackURL(c, "/account/orders?id=7")
		before := s.cookies(c)
		resp, body := s.get(c, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/orders?id=7" {
			t.Fatalf("%s: first delivery: status %d, Location %q, body %q", tc.name, resp.StatusCode, loc, body)
		}
		second := tc.second(c, before)
		again := cb
		if tc.newCode {
			again = query(cb, "code", s.d.IssueCode())
		}
		resp, body = s.get(second, again)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/orders?id=7" {
			t.Errorf("%s: second delivery: status %d, Location %q, body %q", tc.name, resp.StatusCode, loc, body)
		}
		if got := s.d.Exchanges() - exchanges; got != tc.exchanges {
			t.Errorf("%s: exchanges: %d, want %d", tc.name, got, tc.exchanges)
		}
		s.assertLoggedIn(second)
		s.assertLoggedIn(c)
	}
}

// completed logs a new browser in from /account/ and returns the callback
// URL and the cookies the browser held before delivering it.
func (s *site) completed() (callback string, before []*http.Cookie) {
	s.t.Helper()
	c := s.d.Browser(false)
	callback = s.callbackURL(c, "/account/")
	before = s.cookies(c)
	s.step(c, callback, http.StatusFound)
	return callback, before
}

// One made-up code, replayed with the login's cookie after the login
// completed, reaches the platform once.
func replayedJunk(t *testing.T, s *site) {
	cb, before := s.completed()
	for i := range 5 {
		if resp, body := s.get(s.withCookies(before), query(cb, "code", "junk")); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("replay %d: status %d, Location %q, body %q; want 400", i, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if got := s.d.Exchanges(); got != 2 {
		t.Errorf("exchanges: %d, want 2 (the login, then the made-up code once)", got)
	}
}

// Made-up codes delivered with the login's cookie after it completed
// reach the platform twice at most in all: the platform sends a second
// code at most, and junk must not spend the site's quota.
func junkSecondCodes(t *testing.T, s *site) {
	cb, before := s.completed()
	for i := range 200 {
		if resp, body := s.get(s.withCookies(before), query(cb, "code", fmt.Sprintf("junk%03d", i))); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("made-up code %d: status %d, Location %q, body %q; want 400", i, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	if got := s.d.Exchanges(); got > 1+2 {
		t.Errorf("exchanges: %d, want at most 3 (the login, then two second codes)", got)
	}
}

// A code refused (its login's cookie had expired) hurts no other login.
func otherLoginsAlone(t *testing.T, s *site) {
	victim := s.d.Browser(false)
	cb := s.callbackURL(victim, "/account/")
	later := time.Now().Add(time.Hour) // past StateTTL
	s.d.SetClock(func() time.Time { return later })
	s.step(victim, cb, http.StatusBadRequest)
	s.d.SetClock(time.Now)
	other := s.d.Browser(true)
	if resp, body := s.get(other, "/account/x"); resp.StatusCode != http.StatusOK || !s.d.LoggedIn(body) {
		t.Errorf("another login: status %d, body %q; want logged in", resp.StatusCode, body)
	}
	s.assertLoggedIn(other)
}

// Twenty deliveries of one login's callback at once, half of them with
// the platform's second code for the same state, each from a browser with
// the cookies of before: each code is exchanged once, and every browser
// ends on the page logged in.
func concurrentTwoCodes(t *testing.T, s *site) {
	c := s.d.Browser(false)
	cb := s.callbackURL(c, "/account/p?q=1")
	second := query(cb, "code", s.d.IssueCode())
	before := s.cookies(c)
	const n = 20
	browsers := make([]*http.Client, n)
	for i := range browsers {
		browsers[i] = s.withCookies(before)
	}
	got := make([]string, n)
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := cb
			if i%2 == 1 {
				u = second
			}
			resp, err := s.fetch(b, u)
			if err != nil {
				got[i] = err.Error()
				return
			}
			got[i] = resp.Status + " " + resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	for i, g := range got {
		if g != "302 Found /account/p?q=1" {
			t.Errorf("delivery %d: %s, want 302 to /account/p?q=1", i, g)
		}
	}
	// The first code once, and the second code once, to check its user.
	if got := s.d.Exchanges(); got != 2 {
		t.Errorf("exchanges: %d, want 2", got)
	}
	for _, b := range browsers {
		s.assertLoggedIn(b)
	}
}
