package wechatauth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
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

// quotingTransport fails every request the way retrying transports do:
// with an error that quotes the whole URL, and the body, once its calls
// are allowed to pass run out.
type quotingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	pass int // requests let through before it starts failing
}

func (q *quotingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	q.mu.Lock()
	pass := q.pass > 0
	q.pass--
	q.mu.Unlock()
	if pass {
		return q.next.RoundTrip(req)
	}
	var body string
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		body = string(b)
	}
	return nil, fmt.Errorf("%s %s giving up after 3 attempts (body %s): %w", req.Method, req.URL, body, context.DeadlineExceeded)
}

// Whatever the application's transport writes into its errors, no secret
// reaches Event.Err, a log line, the error page, or the errors of
// RefreshUser, the access_token source and CreateMenu.
func TestSecretsNeverLeakThroughTheTransportsErrors(t *testing.T) {
	var events []error
	qt := &quotingTransport{}
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Scope = wechatauth.ScopeUserInfo
		o.HTTPClient = &http.Client{Transport: qt}
		o.OnEvent = func(r *http.Request, e wechatauth.Event) {
			if e.Err != nil {
				events = append(events, e.Err)
			}
		}
	})
	qt.next = h.wx.Client().Transport
	qt.pass = 2 // the login's exchange and userinfo get through
	h.login("/account/")
	tok, err := h.store.Token(context.Background(), "oTestUser0000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{h.wx.AppSecret, tok.AccessToken, tok.RefreshToken, "secret="}

	// A callback whose exchange fails in the transport.
	b := h.browser(false)
	cb := h.callbackURL(b, "/account/")
	code := mustURL(t, cb).Query().Get("code")
	resp, page := h.get(b, cb)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("callback: status %d, want 504 (the transport's error kept its deadline)", resp.StatusCode)
	}
	// Refreshing the user, with an expired access token.
	clk := testclock.New(h.wx, func(now func() time.Time) { wechatauth.SetClock(h.auth, now) })
	clk.Advance(3 * time.Hour)
	_, refreshErr := h.auth.RefreshUser(context.Background(), "oTestUser0000000000000000001")
	// The account's access token and the menu.
	client := &mp.Client{AppID: h.wx.AppID, AppSecret: h.wx.AppSecret, Endpoints: h.wx.Endpoints(), HTTPClient: &http.Client{Transport: qt}}
	_, tokenErr := client.AccessToken(context.Background())
	_, stableErr := client.StableAccessToken(context.Background(), false)
	ts := mp.NewAccessTokenSource(client, mp.CredentialOptions{})
	menu := mp.Menu{Buttons: []mp.Button{{Type: mp.ButtonView, Name: "a", URL: "https://example.com/"}}}
	menuErr := client.CreateMenu(context.Background(), ts, menu)

	texts := map[string]string{"error page": page, "log": h.logs.String()}
	for i, e := range events {
		texts[fmt.Sprintf("Event.Err %d", i)] = e.Error()
	}
	for name, e := range map[string]error{"RefreshUser": refreshErr, "AccessToken": tokenErr, "StableAccessToken": stableErr, "CreateMenu": menuErr} {
		if e == nil {
			t.Errorf("%s: nil error through a failing transport", name)
			continue
		}
		texts[name] = e.Error()
		if !errors.Is(e, mp.ErrUpstream) {
			t.Errorf("%s: %v does not wrap mp.ErrUpstream", name, e)
		}
	}
	if len(events) == 0 {
		t.Error("no failure event")
	}
	for name, text := range texts {
		for _, s := range append(secrets, code) {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q: %.300s", name, s, text)
			}
		}
	}
}
