package mp_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// componentClient returns a Client of the emulator's first authorizer in
// component mode, through a platform that has its verify ticket.
func componentClient(t *testing.T) (*mp.Client, *wechattest.Server, *component.Platform) {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	p, err := component.New(component.Options{AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey, APIURL: wx.URL, HTTPClient: wx.Client()})
	if err != nil {
		t.Fatal(err)
	}
	push := httptest.NewServer(p.PushHandler())
	t.Cleanup(push.Close)
	if _, err := wx.PushVerifyTicket(push.URL); err != nil {
		t.Fatal(err)
	}
	return &mp.Client{AppID: wx.Authorizers()[0], Component: p, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}, wx, p
}

// In component mode the authorize link names the platform after the
// state, in the order WeChat's page requires, and sends no secret.
func TestComponentAuthorizeURL(t *testing.T) {
	c := &mp.Client{AppID: "wxa", Component: fixedComponent("wxc")}
	got := c.AuthorizeURL("https://p.example.com/cb", "snsapi_base", "S1")
	want := "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wxa&redirect_uri=https%3A%2F%2Fp.example.com%2Fcb&response_type=code&scope=snsapi_base&state=S1&component_appid=wxc#wechat_redirect"
	if got != want {
		t.Errorf("AuthorizeURL:\n got %s\nwant %s", got, want)
	}
}

type fixedComponent string

func (f fixedComponent) ComponentAppID() string                   { return string(f) }
func (f fixedComponent) Token(context.Context) (string, error)    { return "", errors.New("unused") }
func (f fixedComponent) Invalidate(context.Context, string) error { return nil }

// A code is exchanged, and tokens refreshed, through the component
// endpoints with the component_access_token, for the authorizer's openid;
// no error shows the token.
func TestComponentExchangeAndRefresh(t *testing.T) {
	c, wx, p := componentClient(t)
	ctx := context.Background()
	code := wx.IssueAuthorizerCode(c.AppID, "", "snsapi_userinfo")
	tok, err := c.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if want := wx.AuthorizerOpenID(c.AppID, "oTestUser0000000000000000001"); tok.OpenID != want || tok.AppID != c.AppID || !tok.HasScope("snsapi_userinfo") {
		t.Errorf("Exchange = openid %q appid %q scope %q, want %q %q snsapi_userinfo", tok.OpenID, tok.AppID, tok.Scope, want, c.AppID)
	}
	fresh, err := c.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.OpenID != tok.OpenID {
		t.Fatalf("Refresh = %+v, %v", fresh, err)
	}
	if n := wx.Calls("/sns/oauth2/component/access_token") + wx.Calls("/sns/oauth2/component/refresh_token"); n != 2 {
		t.Errorf("%d calls of the component endpoints, want 2", n)
	}
	if n := wx.Calls("/sns/oauth2/access_token") + wx.Calls("/sns/oauth2/refresh_token"); n != 0 {
		t.Errorf("%d calls of the Official Account's endpoints, want 0", n)
	}

	// A code of another authorizer is refused, and the error shows
	// neither the code nor the component token.
	other := wx.IssueAuthorizerCode(wx.Authorizers()[1], "", "snsapi_base")
	_, err = c.Exchange(ctx, other)
	var apiErr *mp.Error
	if !errors.As(err, &apiErr) || apiErr.Code != mp.CodeInvalidCode {
		t.Fatalf("exchanging another authorizer's code: %v, want errcode %d", err, mp.CodeInvalidCode)
	}
	token, _ := p.Token(ctx)
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), other) {
		t.Errorf("the error shows a secret: %v", err)
	}
}
