package wechatauth_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// scopeCounter counts the authorize pages a browser opens, by scope.
type scopeCounter struct {
	next   http.RoundTripper
	mu     sync.Mutex
	scopes map[string]int
}

func (sc *scopeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/connect/oauth2/authorize") {
		sc.mu.Lock()
		sc.scopes[req.URL.Query().Get("scope")]++
		sc.mu.Unlock()
	}
	return sc.next.RoundTrip(req)
}

func TestProgressiveConsent(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Scope = wechatauth.ScopeProgressive
		o.ProfileMaxAge = 24 * time.Hour
	})
	h.wx.AddUser(wechattest.User{OpenID: "oCarol", Nickname: "Carol", UnionID: "uCarol"})
	h.wx.SetVisitor("oCarol")
	login := func() (*scopeCounter, string) {
		t.Helper()
		c := h.browser(true)
		sc := &scopeCounter{next: c.Transport, scopes: map[string]int{}}
		c.Transport = sc
		resp, body := h.get(c, "/account/p?x=1")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, body %q", resp.StatusCode, body)
		}
		return sc, body
	}

	// A new user: a silent round trip, then consent for the profile.
	sc, body := login()
	if !strings.HasPrefix(body, "path=/account/p?x=1 openid=oCarol nickname=Carol unionid=uCarol") {
		t.Errorf("new user: got %q", body)
	}
	if sc.scopes["snsapi_base"] != 1 || sc.scopes["snsapi_userinfo"] != 1 {
		t.Errorf("new user: authorize pages %v, want one of each scope", sc.scopes)
	}
	// A returning user: the silent round trip only, no consent screen.
	sc, body = login()
	if !strings.Contains(body, "openid=oCarol nickname=Carol") {
		t.Errorf("returning user: got %q", body)
	}
	if sc.scopes["snsapi_base"] != 1 || sc.scopes["snsapi_userinfo"] != 0 {
		t.Errorf("returning user: authorize pages %v, want snsapi_base only", sc.scopes)
	}
	if got := h.wx.Calls("/sns/userinfo"); got != 1 {
		t.Errorf("userinfo calls: got %d, want 1", got)
	}
	// A stale profile goes through consent again.
	wechatauth.SetClock(h.auth, func() time.Time { return time.Now().Add(48 * time.Hour) })
	sc, _ = login()
	if sc.scopes["snsapi_userinfo"] != 1 {
		t.Errorf("stale profile: authorize pages %v, want a consent round trip", sc.scopes)
	}
	if got := h.wx.Calls("/sns/userinfo"); got != 2 {
		t.Errorf("userinfo calls: got %d, want 2", got)
	}
}
