package wechatauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// A callback that refuses a delivery before exchanging its code leaves the
// code valid at WeChat, and its URL in logs. Whoever reads it and brings
// the code with a fresh login of their own must not be logged in as the
// code's user, and refusing it costs no call to WeChat.
func TestRefusedCodeLogsNobodyIn(t *testing.T) {
	cases := []struct {
		name string
		// refused has the victim's code refused by h and returns it.
		refused func(t *testing.T, h *harness) string
	}{
		{"the browser had no cookie of the login", func(t *testing.T, h *harness) string {
			// An attacker's authorize link, opened by the victim.
			attacker := h.browser(false)
			resp, _ := h.step(attacker, "/account/", http.StatusFound)
			victim := h.browser(false)
			resp, _ = h.step(victim, resp.Header.Get("Location"), http.StatusFound)
			cb := resp.Header.Get("Location")
			h.step(victim, cb, http.StatusBadRequest)
			return codeOf(t, cb)
		}},
		{"the login's cookie had expired", func(t *testing.T, h *harness) string {
			victim := h.browser(false)
			cb := h.callbackURL(victim, "/account/")
			now := time.Now().Add(time.Hour) // past the default StateTTL
			wechatauth.SetClock(h.auth, func() time.Time { return now })
			h.step(victim, cb, http.StatusBadRequest)
			wechatauth.SetClock(h.auth, time.Now)
			return codeOf(t, cb)
		}},
		{"the state's MAC failed (the AppSecret changed)", func(t *testing.T, h *harness) string {
			victim := h.browser(false)
			cb := h.callbackURL(victim, "/account/")
			u, _ := url.Parse(cb)
			q := u.Query()
			state := q.Get("state")
			q.Set("state", state[:len(state)-4]+strings.Repeat("0", 4))
			if q.Get("state") == state {
				q.Set("state", state[:len(state)-4]+strings.Repeat("1", 4))
			}
			u.RawQuery = q.Encode()
			h.step(victim, u.String(), http.StatusBadRequest)
			return q.Get("code")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.wx.AddUser(wechattest.User{OpenID: "oVictim"})
			h.wx.SetVisitor("oVictim")
			code := tc.refused(t, h)
			if got := h.exchanges(); got != 0 {
				t.Fatalf("exchanges after the refusal: got %d, want 0", got)
			}

			// The attacker starts a login of their own and brings the code.
			h.wx.SetVisitor("oTestUser0000000000000000001")
			attacker := h.browser(false)
			resp, body := h.get(attacker, injected(t, h, attacker, code))
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("injected code: status %d, Location %q, body %q; want 400", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			h.assertLoggedOut(attacker)
			if got := h.exchanges(); got != 0 {
				t.Errorf("exchanges: got %d, want 0: a refused code is never exchanged", got)
			}
		})
	}
}

// codeOf returns the code of a callback URL.
func codeOf(t *testing.T, callback string) string {
	t.Helper()
	u, err := url.Parse(callback)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("callback URL %q: no code", callback)
	}
	return u.Query().Get("code")
}

// injected starts a login in browser c and returns its callback URL with
// code in place of the one WeChat would give.
func injected(t *testing.T, h *harness, c *http.Client, code string) string {
	t.Helper()
	resp, _ := h.step(c, "/account/", http.StatusFound)
	authorize, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	state := authorize.Query().Get("state")
	if state == "" {
		t.Fatalf("authorize URL %q: no state", authorize)
	}
	return h.opts.CallbackURL + "?" + url.Values{"code": {code}, "state": {state}}.Encode()
}
