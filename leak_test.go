package wechatauth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// recorder keeps everything the app sent to browsers: statuses, headers
// (cookies and Location among them) and bodies.
type recorder struct {
	next http.RoundTripper
	app  string
	mu   sync.Mutex
	seen strings.Builder
}

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.String(), rt.app) {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for k, v := range resp.Header {
		rt.seen.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	rt.seen.Write(body)
	return resp, nil
}

func TestNoSecretReachesBrowserOrLog(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Scope = wechatauth.ScopeUserInfo
		o.DebugBypass = true
	})
	rec := &recorder{next: h.wx.Client().Transport, app: h.app.URL}
	browser := func(follow bool) *http.Client {
		c := h.browser(follow)
		c.Transport = rec
		return c
	}
	// Success, a second delivery, an API 401, a WeChat error, a refusal, a
	// forged state and a debug login.
	c := browser(false)
	cb := h.callbackURL(c, "/account/")
	h.get(c, cb)
	h.get(c, cb)
	h.do(browser(false), "POST", "/account/api", nil)
	c2 := browser(false)
	cb2 := h.callbackURL(c2, "/account/")
	h.wx.FailNext("/sns/oauth2/access_token", mp.CodeInvalidAppSecret)
	h.get(c2, cb2)
	h.wx.SetMode(wechattest.Refuse)
	h.get(browser(true), "/account/")
	h.wx.SetMode(wechattest.AutoApprove)
	h.get(browser(false), withState(t, cb, strings.Repeat("f", 48)))
	h.get(browser(true), "/account/?_user=oDebug")

	tok, err := h.store.Token(context.Background(), "oTestUser0000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"app secret": h.opts.AppSecret, "access token": tok.AccessToken, "refresh token": tok.RefreshToken}
	seen := rec.seen.String()
	logs := h.logs.String()
	if !strings.Contains(seen, "Set-Cookie") || !strings.Contains(logs, "login") {
		t.Fatalf("the flows left no trace to check: responses %d bytes, logs %q", len(seen), logs)
	}
	for name, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(seen, secret) {
			t.Errorf("the %s reached a browser", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the %s reached the log", name)
		}
	}
	if strings.Contains(logs, "secret=") {
		t.Errorf("a URL with secret= reached the log")
	}
}
