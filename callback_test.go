package wechatauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

func TestCallbackRefusesBadState(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name  string
		state func(real string) string
	}{
		{"missing", func(string) string { return "" }},
		{"forged", func(real string) string { return strings.Repeat("a", len(real)) }},
		{"one character off", func(real string) string {
			return real[:len(real)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", real[len(real)-1])+1)%16])
		}},
		{"malformed", func(string) string { return "<script>" }},
		{"too long", func(real string) string { return real + real + real }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.browser(false)
			cb := h.callbackURL(c, "/account/")
			real, _ := url.Parse(cb)
			bad := withState(t, cb, tc.state(real.Query().Get("state")))
			before := h.exchanges()
			resp, body := h.get(c, bad)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %q", resp.StatusCode, body)
			}
			if !strings.Contains(body, `id="retry"`) {
				t.Errorf("400 page has no retry link: %q", body)
			}
			if got := h.exchanges() - before; got != 0 {
				t.Errorf("exchanges: got %d, want 0", got)
			}
			h.assertLoggedOut(c)
		})
	}
}

func TestCallbackStateFromAnotherBrowserIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	victim := h.browser(false)
	cb := h.callbackURL(victim, "/account/")
	attacker := h.browser(false)
	h.step(attacker, "/account/", http.StatusFound) // the attacker has a session too
	resp, _ := h.get(attacker, cb)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	h.assertLoggedOut(attacker)
	// A browser that brings a code for a state it did not start spends
	// the state (TestCodeForAnotherBrowsersStateIsSpent says why): the
	// victim's delivery of it is refused too, and a fresh login works.
	resp, _ = h.get(victim, cb)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("victim after the stranger: status %d, Location %q; want 400", resp.StatusCode, resp.Header.Get("Location"))
	}
	h.assertLoggedOut(victim)
	h.loginWith(h.browser(true), "/account/")
}

func TestCallbackExpiredStateIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	now := time.Now()
	var mu sync.Mutex
	wechatauth.SetClock(h.auth, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/x")
	mu.Lock()
	now = now.Add(10*time.Minute + time.Second)
	mu.Unlock()
	resp, body := h.get(c, cb)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") {
		t.Fatalf("status %d, want 400 saying the login took too long; body %q", resp.StatusCode, body)
	}
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	if !strings.Contains(body, url.QueryEscape("/account/x")) {
		t.Errorf("retry link does not lead back to /account/x: %q", body)
	}
	h.assertLoggedOut(c)
}

func TestCallbackWithoutCodeIsRefusal(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	h.wx.SetMode(wechattest.Refuse)
	c := h.browser(true)
	resp, body := h.get(c, "/account/x")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(body, "declined") || !strings.Contains(body, `id="retry"`) {
		t.Errorf("refusal page does not say so with a retry link: %q", body)
	}
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	// The retry link starts a login that ends on the original page.
	h.wx.SetMode(wechattest.AutoApprove)
	resp, body = h.get(c, h.auth.LoginURL("/account/x"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/x openid=") {
		t.Errorf("retry: status %d, body %q", resp.StatusCode, body)
	}
}

func TestCallbackRefusalIsReplaceable(t *testing.T) {
	var retry string
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Refused = func(w http.ResponseWriter, r *http.Request, retryURL string) {
			retry = retryURL
			w.WriteHeader(http.StatusTeapot)
		}
	})
	h.wx.SetMode(wechattest.Refuse)
	resp, _ := h.get(h.browser(true), "/account/y")
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d, want the custom handler's 418", resp.StatusCode)
	}
	if want := h.auth.LoginURL("/account/y"); retry != want {
		t.Errorf("retryURL: got %q, want %q", retry, want)
	}
}

func TestCallbackConcurrentDeliveriesExchangeOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.wx.SetLatency(50 * time.Millisecond) // keep the first exchange in flight
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/p?q=1")
	second := withCode(t, cb, h.wx.IssueCode("oTestUser0000000000000000001", "snsapi_base"))
	before := h.cookies(c)
	const n = 20
	var wg sync.WaitGroup
	browsers := make([]*http.Client, n)
	statuses := make([]int, n)
	locations := make([]string, n)
	for i := range browsers {
		browsers[i] = h.withCookies(before)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			url := cb
			if i%2 == 1 { // half of them bring WeChat's second code for the same state
				url = second
			}
			req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
			resp, err := browsers[i].Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i], locations[i] = resp.StatusCode, resp.Header.Get("Location")
		}(i)
	}
	wg.Wait()
	for i := range browsers {
		if statuses[i] != http.StatusFound || locations[i] != "/account/p?q=1" {
			t.Errorf("delivery %d: status %d, Location %q", i, statuses[i], locations[i])
		}
	}
	// The first code once, and the second code once, to check its user.
	if got := h.exchanges(); got != 2 {
		t.Errorf("exchanges: got %d, want 2", got)
	}
	h.wx.SetLatency(0)
	for i := range browsers {
		h.assertLoggedIn(browsers[i], "oTestUser0000000000000000001")
	}
}

func TestUserInfoFetchedForNewUsersOnly(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	h.wx.AddUser(wechattest.User{OpenID: "oAlice", UnionID: "uAlice", Nickname: "Alice", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/a/132"})
	h.wx.SetVisitor("oAlice")
	c := h.login("/account/")
	_, body := h.get(c, "/account/me")
	if want := "openid=oAlice nickname=Alice unionid=uAlice"; !strings.Contains(body, want) {
		t.Errorf("got %q, want %q", body, want)
	}
	if got := h.wx.Calls("/sns/userinfo"); got != 1 {
		t.Errorf("userinfo calls after first login: got %d, want 1", got)
	}
	u, err := h.store.User(context.Background(), "oAlice")
	if err != nil || u.Nickname != "Alice" || u.UpdatedAt.IsZero() {
		t.Errorf("stored user: got %+v, %v; want Alice with UpdatedAt", u, err)
	}
	// A known user: no second profile fetch, same profile in the session.
	c2 := h.login("/account/")
	_, body = h.get(c2, "/account/me")
	if !strings.Contains(body, "nickname=Alice") {
		t.Errorf("second login: got %q, want nickname=Alice", body)
	}
	if got := h.wx.Calls("/sns/userinfo"); got != 1 {
		t.Errorf("userinfo calls after second login: got %d, want 1", got)
	}
}

func TestStaleProfileIsFetchedAgain(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Scope = wechatauth.ScopeUserInfo
		o.ProfileMaxAge = time.Hour
	})
	h.store.SaveUser(context.Background(), wechatauth.User{OpenID: "oTestUser0000000000000000001", Nickname: "old", UpdatedAt: time.Now().Add(-2 * time.Hour)})
	c := h.login("/account/")
	_, body := h.get(c, "/account/")
	if strings.Contains(body, "nickname=old") {
		t.Errorf("stale profile kept: %q", body)
	}
	if got := h.wx.Calls("/sns/userinfo"); got != 1 {
		t.Errorf("userinfo calls: got %d, want 1", got)
	}
}

func TestBaseScopeNeverCallsUserInfo(t *testing.T) {
	h := newHarness(t, nil)
	h.login("/account/")
	if got := h.wx.Calls("/sns/userinfo"); got != 0 {
		t.Errorf("userinfo calls with snsapi_base: got %d, want 0", got)
	}
}

func TestTokensKeptServerSide(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	c := h.login("/account/")
	tok, err := h.store.Token(context.Background(), "oTestUser0000000000000000001")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !tok.Expiry.After(time.Now()) || !tok.HasScope(string(wechatauth.ScopeUserInfo)) {
		t.Errorf("stored token: %+v", tok)
	}
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
		if strings.Contains(h.cookie(c), secret) {
			t.Errorf("a token is in the cookie")
		}
	}
}

func TestReturnURLIsSameOriginOnly(t *testing.T) {
	h := newHarness(t, nil)
	hostile := []string{
		"//evil.example/", "/\\evil.example", "https://evil.example/", "http:evil.example",
		"javascript:alert(1)", "/%2F/evil.example", "/%5Cevil.example", "\\\\evil.example",
		"/\x00evil", "/\tevil", " //evil.example", "/account/\r\nLocation: https://evil.example",
		"//user@evil.example", "evil.example", "",
	}
	for _, next := range hostile {
		c := h.browser(false)
		cb := h.callbackURL(c, h.auth.LoginURL(next))
		resp, _ := h.get(c, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
			t.Errorf("next=%q: status %d, Location %q; want /", next, resp.StatusCode, loc)
		}
	}
}

func TestSpentCodeStartsOneFreshRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/z")
	// Someone else spends the code first.
	u, _ := url.Parse(cb)
	if _, err := newClient(h.wx).Exchange(context.Background(), u.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
	resp, _ := h.get(c, cb)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.wx.Endpoints().Authorize) {
		t.Fatalf("status %d, Location %q; want a new round trip to WeChat", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Following it logs in and returns to the original page.
	f := h.browser(true)
	f.Jar = c.Jar
	resp, body := h.get(f, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/z ") {
		t.Errorf("status %d, body %q", resp.StatusCode, body)
	}
}

func TestUnionIDStoredAndFound(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	h.wx.AddUser(wechattest.User{OpenID: "oDave", UnionID: "uDave", Nickname: "Dave"})
	h.wx.SetVisitor("oDave")
	h.login("/account/")
	var lookup wechatauth.UserStore = h.store
	u, err := lookup.UserByUnionID(context.Background(), "uDave")
	if err != nil || u.OpenID != "oDave" || u.Nickname != "Dave" {
		t.Errorf("UserByUnionID: got %+v, %v; want oDave", u, err)
	}
	if _, err := lookup.UserByUnionID(context.Background(), "uNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("unknown unionid: got %v, want ErrNotFound", err)
	}
}

// A session token planted in the victim's browser before the login
// (fixation) is renewed by the login; replaying the callback with the
// planted token and the state, but without the victim's code, must not
// bring the login back to the attacker.
func TestReplayWithPlantedTokenNeedsTheCode(t *testing.T) {
	h := newHarness(t, nil)
	h.wx.AddUser(wechattest.User{OpenID: "oMallory", Nickname: "Mallory"})
	attacker := h.browser(false)
	resp, _ := h.step(attacker, "/account/", http.StatusFound)
	planted := h.cookies(attacker)
	authorize := resp.Header.Get("Location")

	// The victim's browser holds the planted token and opens the link.
	victim := h.withCookies(planted)
	resp, _ = h.step(victim, authorize, http.StatusFound)
	cb := resp.Header.Get("Location")
	h.step(victim, cb, http.StatusFound)
	h.assertLoggedIn(victim, "oTestUser0000000000000000001")

	for _, code := range []string{"", "junk", h.wx.IssueCode("oMallory", "snsapi_base")} {
		replay := h.withCookies(planted)
		resp, body := h.get(replay, withCode(t, cb, code))
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replay with code %q: status %d, Location %q, body %q; want 400", code, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		h.assertLoggedOut(replay)
	}
}

func TestProgressiveCallbackDeliveredTwiceGoesToConsent(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeProgressive })
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/p")
	before := h.cookies(c)
	for i, b := range []*http.Client{c, h.withCookies(before)} {
		resp, body := h.get(b, cb)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "scope=snsapi_userinfo") {
			t.Errorf("delivery %d: status %d, Location %q, body %q; want a redirect to consent", i, resp.StatusCode, loc, body)
		}
	}
	if got := h.exchanges(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
}

func TestSnapshotGuestReloadsTheCallback(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Scope = wechatauth.ScopeUserInfo
		o.SnapshotGuests = true
	})
	h.wx.AddUser(wechattest.User{OpenID: "oSnap", Snapshot: true})
	h.wx.SetVisitor("oSnap")
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/g")
	for i := 0; i < 2; i++ {
		resp, _ := h.get(c, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/g" {
			t.Errorf("delivery %d: status %d, Location %q; want 302 to /account/g", i, resp.StatusCode, loc)
		}
	}
}
