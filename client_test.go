package wechatauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

func newClient(wx *wechattest.Server) *wechatauth.Client {
	return &wechatauth.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
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
		call func(c *wechatauth.Client) error
		code int
	}{
		{"unknown code", func(c *wechatauth.Client) error { _, err := c.Exchange(ctx, "nosuchcode"); return err }, wechatauth.CodeInvalidCode},
		{"spent code", func(c *wechatauth.Client) error { _, err := c.Exchange(ctx, base); return err }, wechatauth.CodeCodeUsed},
		{"wrong secret", func(c *wechatauth.Client) error {
			c.AppSecret = "wrong-secret"
			_, err := c.Exchange(ctx, wx.IssueCode("oTestUser0000000000000000001", "snsapi_base"))
			return err
		}, wechatauth.CodeInvalidAppSecret},
		{"unknown refresh token", func(c *wechatauth.Client) error { _, err := c.Refresh(ctx, "nosuchtoken"); return err }, wechatauth.CodeInvalidRefreshToken},
		{"userinfo with base scope", func(c *wechatauth.Client) error {
			_, err := c.UserInfo(ctx, baseTok.AccessToken, baseTok.OpenID)
			return err
		}, wechatauth.CodeScopeUnauthorized},
		{"busy", func(c *wechatauth.Client) error {
			wx.FailNext("/sns/oauth2/access_token", wechatauth.CodeBusy)
			_, err := c.Exchange(ctx, "whatever")
			return err
		}, wechatauth.CodeBusy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(newClient(wx))
			var apiErr *wechatauth.APIError
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

func TestClientTransportErrorsAreRedacted(t *testing.T) {
	wx := wechattest.NewServer()
	c := newClient(wx)
	wx.Close() // WeChat is down
	_, err := c.Exchange(context.Background(), "code-that-must-not-leak")
	if err == nil {
		t.Fatal("Exchange against a closed server: nil error")
	}
	for _, secret := range []string{wx.AppSecret, "code-that-must-not-leak", "secret="} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q holds %q", err, secret)
		}
	}
	if got := wechatauth.HTTPStatus(err); got != http.StatusBadGateway {
		t.Errorf("HTTPStatus: got %d, want 502", got)
	}

	slow := wechattest.NewServer()
	defer slow.Close()
	slow.SetLatency(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = newClient(slow).Exchange(ctx, slow.IssueCode("oTestUser0000000000000000001", "snsapi_base"))
	if got := wechatauth.HTTPStatus(err); got != http.StatusGatewayTimeout {
		t.Errorf("slow WeChat: HTTPStatus(%v) = %d, want 504", err, got)
	}
	if strings.Contains(err.Error(), slow.AppSecret) {
		t.Errorf("error %q holds the app secret", err)
	}
}

func TestCallbackUpstreamFailures(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(h *harness)
		status int
	}{
		{"system busy", func(h *harness) { h.wx.FailNext("/sns/oauth2/access_token", wechatauth.CodeBusy) }, http.StatusBadGateway},
		{"invalid secret", func(h *harness) { h.wx.FailNext("/sns/oauth2/access_token", wechatauth.CodeInvalidAppSecret) }, http.StatusBadGateway},
		{"slow", func(h *harness) { h.wx.SetLatency(2 * time.Second) }, http.StatusGatewayTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *wechatauth.Options) { o.Timeout = 100 * time.Millisecond })
			c := h.browser(false)
			cb := h.callbackURL(c, "/account/")
			tc.setup(h)
			resp, body := h.get(c, cb)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.status, body)
			}
			if !strings.Contains(body, `id="retry"`) {
				t.Errorf("error page without a retry link: %q", body)
			}
			if strings.Contains(body, "errcode") || strings.Contains(body, "wechatauth:") {
				t.Errorf("error page shows internals: %q", body)
			}
			h.wx.SetLatency(0)
			h.assertLoggedOut(c)
		})
	}
}

func TestErrorHandlerIsReplaceable(t *testing.T) {
	var got error
	h := newHarness(t, func(o *wechatauth.Options) {
		o.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(wechatauth.HTTPStatus(err))
		}
	})
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	h.wx.FailNext("/sns/oauth2/access_token", wechatauth.CodeBusy)
	resp, _ := h.get(c, cb)
	var apiErr *wechatauth.APIError
	if !errors.As(got, &apiErr) || apiErr.Code != wechatauth.CodeBusy {
		t.Errorf("ErrorHandler got %v, want an *APIError with code -1", got)
	}
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	resp, _ = h.get(h.browser(false), withState(t, cb, strings.Repeat("0", 48)))
	if !errors.Is(got, wechatauth.ErrInvalidState) || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: ErrorHandler got %v, status %d; want ErrInvalidState, 400", got, resp.StatusCode)
	}
}
