package logintest

import (
	"fmt"
	"net/http"
	"strings"
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

// A callback delivered again after it completed (a reload, or a retry
// whose first answer was lost, with the cookies of before) ends on the
// page again, logged in, without a second exchange.
func deliveredTwice(t *testing.T, s *site) {
	for _, tc := range []struct {
		name   string
		second func(c *http.Client, before []*http.Cookie) *http.Client
	}{
		{"same browser (reload)", func(c *http.Client, _ []*http.Cookie) *http.Client { return c }},
		{"old cookie (first answer lost)", func(_ *http.Client, before []*http.Cookie) *http.Client { return s.withCookies(before) }},
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
		resp, body = s.get(second, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/orders?id=7" {
			t.Errorf("%s: second delivery: status %d, Location %q, body %q", tc.name, resp.StatusCode, loc, body)
		}
		if got := s.d.Exchanges() - exchanges; got != 1 {
			t.Errorf("%s: exchanges: %d, want 1", tc.name, got)
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
