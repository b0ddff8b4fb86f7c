package mp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// TestErrorKinds checks which errcodes each predicate of *mp.Error claims:
// a code is spent, a token stale or a setup wrong, never two at once.
func TestErrorKinds(t *testing.T) {
	type kinds struct{ spent, stale, misconfigured bool }
	cases := []struct {
		code int
		want kinds
	}{
		{mp.CodeInvalidCode, kinds{spent: true}},
		{mp.CodeCodeUsed, kinds{spent: true}},
		{mp.CodeCodeExpired, kinds{spent: true}},
		{mp.CodeInvalidCredential, kinds{stale: true}},
		{mp.CodeInvalidAccessToken, kinds{stale: true}},
		{mp.CodeAccessTokenExpired, kinds{stale: true}},
		{mp.CodeInvalidAppID, kinds{misconfigured: true}},
		{mp.CodeMissingAppID, kinds{misconfigured: true}},
		{mp.CodeInvalidAppSecret, kinds{misconfigured: true}},
		{mp.CodeMissingSecret, kinds{misconfigured: true}},
		{mp.CodeSecretFrozen, kinds{misconfigured: true}},
		{mp.CodeIPNotAllowed, kinds{misconfigured: true}},
		{mp.CodeBusy, kinds{}},
		{mp.CodeMissingCode, kinds{}},
		{mp.CodeInvalidRefreshToken, kinds{}},
		{mp.CodeRefreshTokenExpired, kinds{}},
		{mp.CodeScopeUnauthorized, kinds{}},
		{mp.CodeDailyQuota, kinds{}},
	}
	for _, tc := range cases {
		e := &mp.Error{Code: tc.code}
		got := kinds{spent: e.SpentCode(), stale: e.StaleAccessToken(), misconfigured: e.Misconfigured()}
		if got != tc.want {
			t.Errorf("errcode %d: got %+v, want %+v", tc.code, got, tc.want)
		}
	}
}

// TestSpentCodeOfExchanges checks SpentCode on what the emulator answers
// to exchanges of codes that can no longer be exchanged, and of one that
// can but meets another refusal.
func TestSpentCodeOfExchanges(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	ctx := context.Background()
	const visitor = "oTestUser0000000000000000001"
	cases := []struct {
		name  string
		code  func(c *mp.Client) string
		spent bool
	}{
		{"unknown", func(*mp.Client) string { return "nosuchcode" }, true},
		{"exchanged before", func(c *mp.Client) string {
			code := wx.IssueCode(visitor, "snsapi_base")
			if _, err := c.Exchange(ctx, code); err != nil {
				t.Fatalf("first exchange: %v", err)
			}
			return code
		}, true},
		{"expired", func(*mp.Client) string {
			code := wx.IssueCode(visitor, "snsapi_base")
			wx.Advance(5*time.Minute + time.Second)
			return code
		}, true},
		{"timed out (42003)", func(*mp.Client) string {
			wx.FailNext("/sns/oauth2/access_token", mp.CodeCodeExpired)
			return wx.IssueCode(visitor, "snsapi_base")
		}, true},
		{"wrong secret", func(c *mp.Client) string {
			c.AppSecret = "wrong-secret"
			return wx.IssueCode(visitor, "snsapi_base")
		}, false},
		{"busy", func(*mp.Client) string {
			wx.FailNext("/sns/oauth2/access_token", mp.CodeBusy)
			return wx.IssueCode(visitor, "snsapi_base")
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(wx)
			_, err := c.Exchange(ctx, tc.code(c))
			var e *mp.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *mp.Error", err, err)
			}
			if e.SpentCode() != tc.spent {
				t.Errorf("errcode %d: SpentCode is %v, want %v", e.Code, e.SpentCode(), tc.spent)
			}
		})
	}
}
