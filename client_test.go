package wechatauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func newClient(wx *wechattest.Server) *mp.Client {
	return &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
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
	slow.SetLatency(time.Hour) // WeChat never answers: only the context ends the call
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
		{"system busy", func(h *harness) { h.wx.FailNext("/sns/oauth2/access_token", mp.CodeBusy) }, http.StatusBadGateway},
		{"invalid secret", func(h *harness) { h.wx.FailNext("/sns/oauth2/access_token", mp.CodeInvalidAppSecret) }, http.StatusInternalServerError},
		{"slow", func(h *harness) { h.wx.SetLatency(time.Hour) }, http.StatusGatewayTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			timeout := testclock.Patience(30 * time.Second) // room for WeChat's answer however busy the machine
			if tc.status == http.StatusGatewayTimeout {
				timeout = 100 * time.Millisecond // WeChat never answers: the budget is what ends the wait
			}
			h := newHarness(t, func(o *wechatauth.Options) { o.Timeout = timeout })
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
	h.wx.FailNext("/sns/oauth2/access_token", mp.CodeBusy)
	resp, _ := h.get(c, cb)
	var apiErr *mp.Error
	if !errors.As(got, &apiErr) || apiErr.Code != mp.CodeBusy {
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
