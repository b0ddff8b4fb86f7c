package mp_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func newClient(wx *wechattest.Server) *mp.Client {
	return &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
}

func TestClientExchangeAndUserInfo(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.AddUser(wechattest.User{OpenID: "oBob", UnionID: "uBob", Nickname: "鲍勃", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/b/132"})
	c := newClient(wx)
	ctx := context.Background()
	tok, err := c.Exchange(ctx, wx.IssueCode("oBob", "snsapi_userinfo"))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.OpenID != "oBob" || tok.UnionID != "uBob" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Snapshot {
		t.Errorf("token: %+v", tok)
	}
	if d := time.Until(tok.Expiry); d < 7100*time.Second || d > 7200*time.Second {
		t.Errorf("expiry in %v, want about 7200 s", d)
	}
	p, err := c.UserInfo(ctx, tok.AccessToken, tok.OpenID)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if p.Nickname != "鲍勃" || p.UnionID != "uBob" || p.HeadImgURL == "" {
		t.Errorf("profile: %+v", p)
	}
	ok, err := c.CheckToken(ctx, tok.AccessToken, tok.OpenID)
	if !ok || err != nil {
		t.Errorf("CheckToken: got %v, %v; want true, nil", ok, err)
	}
	ok, err = c.CheckToken(ctx, "not-a-token", tok.OpenID)
	if ok || err != nil {
		t.Errorf("CheckToken of a bad token: got %v, %v; want false, nil", ok, err)
	}
	fresh, err := c.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.AccessToken == "" || fresh.AccessToken == tok.AccessToken || fresh.OpenID != "oBob" {
		t.Errorf("Refresh: got %+v, %v", fresh, err)
	}
}

func TestClientErrorsAreTypedAndRedacted(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	ctx := context.Background()
	base := wx.IssueCode("oTestUser0000000000000000001", "snsapi_base")
	baseTok, err := newClient(wx).Exchange(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		call func(c *mp.Client) error
		code int
	}{
		{"unknown code", func(c *mp.Client) error { _, err := c.Exchange(ctx, "nosuchcode"); return err }, mp.CodeInvalidCode},
		{"spent code", func(c *mp.Client) error { _, err := c.Exchange(ctx, base); return err }, mp.CodeCodeUsed},
		{"wrong secret", func(c *mp.Client) error {
			c.AppSecret = "wrong-secret"
			_, err := c.Exchange(ctx, wx.IssueCode("oTestUser0000000000000000001", "snsapi_base"))
			return err
		}, mp.CodeInvalidAppSecret},
		{"unknown refresh token", func(c *mp.Client) error { _, err := c.Refresh(ctx, "nosuchtoken"); return err }, mp.CodeInvalidRefreshToken},
		{"userinfo with base scope", func(c *mp.Client) error {
			_, err := c.UserInfo(ctx, baseTok.AccessToken, baseTok.OpenID)
			return err
		}, mp.CodeScopeUnauthorized},
		{"busy", func(c *mp.Client) error {
			wx.FailNext("/sns/oauth2/access_token", mp.CodeBusy)
			_, err := c.Exchange(ctx, "whatever")
			return err
		}, mp.CodeBusy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(newClient(wx))
			var apiErr *mp.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %v (%T), want an *APIError", err, err)
			}
			if apiErr.Code != tc.code {
				t.Errorf("Code: got %d, want %d", apiErr.Code, tc.code)
			}
			if got := wechatauth.HTTPStatus(err); got != http.StatusBadGateway {
				t.Errorf("HTTPStatus: got %d, want 502", got)
			}
			for _, secret := range []string{wx.AppSecret, "wrong-secret", base, baseTok.AccessToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a secret", err)
				}
			}
		})
	}
}
