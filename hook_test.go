package wechatauth_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth"
)

// loginCounter counts what OnLogin and OnEvent see.
type loginCounter struct {
	mu     sync.Mutex
	hooks  []string // openids handed to OnLogin
	events int      // EventLogin events
}

func (lc *loginCounter) configure(o *wechatauth.Options) {
	o.OnLogin = func(r *http.Request, u wechatauth.User) error {
		lc.mu.Lock()
		defer lc.mu.Unlock()
		lc.hooks = append(lc.hooks, u.OpenID)
		return nil
	}
	o.OnEvent = func(r *http.Request, e wechatauth.Event) {
		if e.Kind == wechatauth.EventLogin {
			lc.mu.Lock()
			lc.events++
			lc.mu.Unlock()
		}
	}
}

// A callback WeChat delivers twice is one login: OnLogin is called once
// and one EventLogin is counted.
func TestOnLoginOncePerLogin(t *testing.T) {
	var lc loginCounter
	h := newHarness(t, lc.configure)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	before := h.cookies(c)
	h.step(c, cb, http.StatusFound)
	retry := h.withCookies(before) // WeChat's retry, the first answer lost
	h.step(retry, cb, http.StatusFound)
	h.assertLoggedIn(retry, "oTestUser0000000000000000001")
	h.step(c, cb, http.StatusFound) // a reload
	if len(lc.hooks) != 1 || lc.hooks[0] != "oTestUser0000000000000000001" || lc.events != 1 {
		t.Errorf("OnLogin got %q, EventLogin counted %d; want the user once and 1", lc.hooks, lc.events)
	}
	// A returning user's next login is another login.
	h.login("/account/again")
	if len(lc.hooks) != 2 || lc.events != 2 {
		t.Errorf("after a second login: OnLogin %d calls, %d events; want 2 and 2", len(lc.hooks), lc.events)
	}
}

// OnLogin refuses a login: every delivery gets a 403, the session stays
// logged out, and the ErrorHandler sees the hook's own error.
func TestOnLoginRefuses(t *testing.T) {
	banned := errors.New("account suspended")
	var got []error
	h := newHarness(t, func(o *wechatauth.Options) {
		o.OnLogin = func(r *http.Request, u wechatauth.User) error { return banned }
		o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, err)
			w.WriteHeader(wechatauth.HTTPStatus(err))
		}
	})
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	before := h.cookies(c)
	for i, b := range []*http.Client{c, h.withCookies(before)} {
		if resp, _ := h.get(b, cb); resp.StatusCode != http.StatusForbidden {
			t.Errorf("delivery %d: status %d, want 403", i, resp.StatusCode)
		}
		h.assertLoggedOut(b)
	}
	if len(got) != 2 || !errors.Is(got[0], banned) {
		t.Errorf("ErrorHandler got %v; want the hook's error first", got)
	}
	// The default page says the site refused, not WeChat.
	h2 := newHarness(t, func(o *wechatauth.Options) {
		o.OnLogin = func(r *http.Request, u wechatauth.User) error { return banned }
	})
	resp, body := h2.get(h2.browser(true), "/account/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "did not let you in") || strings.Contains(body, "suspended") {
		t.Errorf("status %d, body %q; want the default 403 page, without the hook's text", resp.StatusCode, body)
	}
}

func TestOnLoginSeesDebugLogins(t *testing.T) {
	var lc loginCounter
	h := newHarness(t, func(o *wechatauth.Options) {
		lc.configure(o)
		o.DebugBypass = true
	})
	h.step(h.browser(false), "/account/?_user=oDev", http.StatusFound)
	if len(lc.hooks) != 1 || lc.hooks[0] != "oDev" {
		t.Errorf("OnLogin got %q, want [oDev]", lc.hooks)
	}
}
