package wechatauth_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// profileRoute mounts /profile/ behind RequireScope(scope) on h.
func profileRoute(h *harness, scope wechatauth.Scope) {
	h.mux.Handle("/profile/", h.auth.RequireScope(scope, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "profile of %s: %s", u.OpenID, u.Nickname)
	})))
}

// One route asks for the profile in an app that is snsapi_base elsewhere.
func TestRequireScopeAsksForTheProfileOnItsRouteOnly(t *testing.T) {
	h := newHarness(t, nil) // ScopeBase
	profileRoute(h, wechatauth.ScopeUserInfo)
	c := h.login("/account/") // a silent snsapi_base login
	if got := h.wx.Calls("/sns/userinfo"); got != 0 {
		t.Fatalf("base login fetched the profile %d times", got)
	}
	resp, body := h.get(c, "/profile/me")
	if resp.StatusCode != http.StatusOK || body != "profile of oTestUser0000000000000000001: 测试用户" {
		t.Fatalf("profile route: status %d, body %q; want the nickname after one consent", resp.StatusCode, body)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got != 2 {
		t.Errorf("authorize round trips: got %d, want 2 (the base login, the consent)", got)
	}
	// Once allowed, the route costs nothing more, and the rest of the app
	// sees the profile too.
	h.get(c, "/profile/again")
	if _, body := h.get(c, "/account/x"); !strings.Contains(body, "nickname=测试用户") {
		t.Errorf("account page after consent: %q", body)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got != 2 {
		t.Errorf("authorize round trips after: got %d, want still 2", got)
	}

	// A visitor without a login goes straight through snsapi_userinfo.
	fresh := h.browser(true)
	if _, body := h.get(fresh, "/profile/new"); body != "profile of oTestUser0000000000000000001: 测试用户" {
		t.Errorf("new visitor: body %q", body)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got != 3 {
		t.Errorf("authorize round trips: got %d, want 3", got)
	}
}

// A profile that WeChat fails to give does not loop the route: the user
// allowed it, and the page gets the user without it.
func TestRequireScopeDoesNotLoopWhenTheProfileFails(t *testing.T) {
	h := newHarness(t, nil)
	profileRoute(h, wechatauth.ScopeUserInfo)
	for i := 0; i < 3; i++ {
		h.wx.FailNext("/sns/userinfo", -1)
	}
	resp, body := h.get(h.browser(true), "/profile/")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "profile of oTestUser0000000000000000001") {
		t.Errorf("status %d, body %q; want the page, without the nickname", resp.StatusCode, body)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got != 1 {
		t.Errorf("authorize round trips: got %d, want 1", got)
	}
}

// A snapshot-page guest on a route that needs the profile gets the page
// that says how to get the full one: another round trip would only bring
// back another guest.
func TestRequireScopeStopsSnapshotGuests(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.SnapshotGuests = true; o.Scope = wechatauth.ScopeUserInfo })
	profileRoute(h, wechatauth.ScopeUserInfo)
	h.wx.AddUser(wechattest.User{OpenID: "oSnap", Snapshot: true})
	h.wx.SetVisitor("oSnap")
	c := h.browser(true)
	resp, body := h.get(c, "/profile/x")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "使用完整服务") {
		t.Errorf("status %d, body %q; want the 403 snapshot page", resp.StatusCode, body)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got > 2 {
		t.Errorf("authorize round trips: got %d, want at most 2 (no loop)", got)
	}
}
