package wechatauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func TestUserInfoRefreshesExpiredToken(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	clk := testclock.New(h.wx, func(now func() time.Time) { wechatauth.SetClock(h.auth, now) })
	h.login("/account/")
	ctx := context.Background()
	const id = "oTestUser0000000000000000001"
	before, _ := h.store.Token(ctx, id)

	p, err := h.auth.RefreshUser(ctx, id)
	if err != nil || p.Nickname != "测试用户" {
		t.Fatalf("UserInfo with a live token: got %+v, %v", p, err)
	}
	if got := h.wx.Calls("/sns/oauth2/refresh_token"); got != 0 {
		t.Errorf("refreshes with a live token: got %d, want 0", got)
	}

	clk.Advance(3 * time.Hour) // the access token (2 h) has expired
	p, err = h.auth.RefreshUser(ctx, id)
	if err != nil || p.OpenID != id {
		t.Fatalf("UserInfo after expiry: got %+v, %v", p, err)
	}
	if got := h.wx.Calls("/sns/oauth2/refresh_token"); got != 1 {
		t.Errorf("refreshes: got %d, want 1", got)
	}
	after, _ := h.store.Token(ctx, id)
	if after.AccessToken == before.AccessToken || after.RefreshToken != before.RefreshToken {
		t.Errorf("stored tokens after refresh: access changed %v, refresh kept %v; want true, true",
			after.AccessToken != before.AccessToken, after.RefreshToken == before.RefreshToken)
	}
	if u, _ := h.store.User(ctx, id); u.Nickname != "测试用户" || u.UpdatedAt.IsZero() {
		t.Errorf("stored user: got %+v", u)
	}

	clk.Advance(31 * 24 * time.Hour) // the refresh token (30 days) has expired
	_, err = h.auth.RefreshUser(ctx, id)
	if !errors.Is(err, wechatauth.ErrReauthorize) {
		t.Fatalf("UserInfo after 31 days: got %v, want ErrReauthorize", err)
	}
	var apiErr *mp.Error
	if !errors.As(err, &apiErr) || apiErr.Code != mp.CodeRefreshTokenExpired {
		t.Errorf("got %v, want it to keep WeChat's 42002", err)
	}
}

func TestUserInfoNeedsReauthorization(t *testing.T) {
	h := newHarness(t, nil) // snsapi_base: the profile was never allowed
	h.login("/account/")
	ctx := context.Background()
	if _, err := h.auth.RefreshUser(ctx, "oTestUser0000000000000000001"); !errors.Is(err, wechatauth.ErrReauthorize) {
		t.Errorf("base-scope login: got %v, want ErrReauthorize", err)
	}
	if _, err := h.auth.RefreshUser(ctx, "oNeverSeen"); !errors.Is(err, wechatauth.ErrReauthorize) {
		t.Errorf("no tokens: got %v, want ErrReauthorize", err)
	}
}

func TestReauthorizeSendsThroughConsentAndBack(t *testing.T) {
	h := newHarness(t, nil)
	var auth *wechatauth.Auth
	profile := func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		p, err := auth.RefreshUser(r.Context(), u.OpenID)
		if errors.Is(err, wechatauth.ErrReauthorize) {
			auth.Reauthorize(w, r)
			return
		}
		if err != nil {
			http.Error(w, "failed", http.StatusBadGateway)
			return
		}
		w.Write([]byte("profile of " + p.Nickname))
	}
	auth = h.auth
	h.mux.Handle("/profile", h.auth.RequireWeChatUser(http.HandlerFunc(profile)))
	c := h.login("/account/") // a snsapi_base login

	sc := &scopeCounter{next: c.Transport, scopes: map[string]int{}}
	c.Transport = sc
	resp, body := h.get(c, "/profile")
	if resp.StatusCode != http.StatusOK || body != "profile of 测试用户" {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	if sc.scopes["snsapi_userinfo"] != 1 {
		t.Errorf("authorize pages: %v, want one snsapi_userinfo consent", sc.scopes)
	}
	if !strings.Contains(h.logs.String(), "wechatauth: login") {
		t.Errorf("no login logged")
	}
}

func TestUserInfoRefreshesTokensOfAQRLogin(t *testing.T) {
	h := newHarness(t, withWebsiteApp)
	clk := testclock.New(h.wx, func(now func() time.Time) { wechatauth.SetClock(h.auth, now) })
	c := h.browser(true)
	resp, body := h.do(c, "GET", "/account/", http.Header{"User-Agent": {desktopUA}})
	webID := h.wx.WebsiteOpenID("oTestUser0000000000000000001")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "openid="+webID+" ") {
		t.Fatalf("QR login: status %d, body %q; want logged in as %s", resp.StatusCode, body, webID)
	}
	clk.Advance(3 * time.Hour)
	p, err := h.auth.RefreshUser(context.Background(), webID)
	if err != nil || p.OpenID != webID {
		t.Fatalf("UserInfo of a QR login after expiry: got %+v, %v", p, err)
	}
	if got := h.wx.Calls("/sns/oauth2/refresh_token"); got != 1 {
		t.Errorf("refreshes: got %d, want 1", got)
	}
}

// One person, two apps: a QR login on the desktop first, then logins inside
// WeChat. The two apps give the person two openids; the first login inside
// WeChat makes the Official Account's user, and from then on every login,
// inside WeChat and on the desktop, is that user (the QR login finds it by
// the unionid). The unionid is what stays the same throughout.
func TestDesktopThenWeChatIsOneUser(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		withWebsiteApp(o)
		o.Scope = wechatauth.ScopeProgressive
	})
	h.wx.AddUser(wechattest.User{OpenID: "oCarol", UnionID: "uCarol", Nickname: "Carol"})
	h.wx.SetVisitor("oCarol")
	login := func(ua, path string) string {
		t.Helper()
		c := h.browser(true)
		resp, body := h.do(c, "GET", path, http.Header{"User-Agent": {ua}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %q", path, resp.StatusCode, body)
		}
		return body
	}
	if body := login(desktopUA, "/account/1"); !strings.Contains(body, "openid="+h.wx.WebsiteOpenID("oCarol")+" nickname=Carol unionid=uCarol") {
		t.Fatalf("QR login: body %q", body)
	}
	for i, ua := range []string{wechatUA, wechatUA, desktopUA} {
		if body := login(ua, fmt.Sprintf("/account/%d", i+2)); !strings.Contains(body, "openid=oCarol nickname=Carol unionid=uCarol") {
			t.Errorf("login %d after the QR login: body %q; want the Official Account's user oCarol", i+2, body)
		}
	}
	if u, err := h.store.UserByUnionID(context.Background(), "uCarol"); err != nil || u.OpenID != "oCarol" {
		t.Errorf("UserByUnionID: got %+v, %v; want oCarol", u, err)
	}
}
