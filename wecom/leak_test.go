package wecom_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
)

// tap keeps everything that passes through it: what the app sent to
// browsers (statuses, headers with cookies and Locations, bodies), and
// the replies WeCom sent to the app.
type tap struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen strings.Builder
}

func (t *tap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(&t.seen, "%d %s\n", resp.StatusCode, req.URL)
	for k, v := range resp.Header {
		t.seen.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	t.seen.Write(body)
	return resp, nil
}

func (t *tap) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen.String()
}

// Mirrors TestNoSecretReachesBrowserOrLog: the Secret, the corp
// access_token and the user_ticket reach no browser (URL, cookie, page),
// no log line and no error the application is handed, through a
// success, a second delivery, an API 401, WeCom's errors (a stale token,
// an untrusted IP, a failed detail), a refusal, a forged state, a
// refused non-member and a debug login.
func TestNoSecretReachesBrowserOrLog(t *testing.T) {
	cache := mp.NewMemoryCache()
	fromWeCom := &tap{}
	var errs strings.Builder
	var mu sync.Mutex
	h := newHarness(t, func(o *wecom.Options) {
		o.Scope = wecom.ScopePrivateInfo
		o.Profile = true
		o.DebugBypass = true
		o.TokenCache = cache
		fromWeCom.next = o.HTTPClient.Transport
		o.HTTPClient = &http.Client{Transport: fromWeCom}
		o.OnEvent = func(_ *http.Request, e wecom.Event) {
			if e.Err != nil {
				mu.Lock()
				fmt.Fprintf(&errs, "%v\n%+v\n", e.Err, e.Err)
				mu.Unlock()
			}
		}
	})
	var seen []*tap
	b := func(ua string, follow bool) *http.Client {
		c := h.browserAs(ua, follow)
		tp := &tap{next: c.Transport}
		c.Transport = tp
		seen = append(seen, tp)
		return c
	}

	c := b(uaWeComIOS, false)
	cb := h.callbackURL(c, "/account/")
	h.get(c, cb)
	h.get(c, cb)
	h.do(b(uaWeComIOS, false), "POST", "/account/api", nil)
	h.wx.FailNext("/cgi-bin/auth/getuserdetail", 40058)
	h.get(b(uaWeComIOS, true), "/account/")
	h.wx.InvalidateWeComTokens() // a stale token: fetched again, never shown
	h.get(b(uaDesktop, true), "/account/")
	h.wx.SetWeComTrustedIPs("203.0.113.7")
	h.get(b(uaWeComIOS, true), "/account/")
	h.wx.SetWeComTrustedIPs()
	h.wx.SetMode(wechattest.Refuse)
	h.get(b(uaWeComIOS, true), "/account/")
	h.wx.SetMode(wechattest.AutoApprove)
	h.get(b(uaWeComIOS, false), withState(t, cb, strings.Repeat("f", 48)))
	h.wx.AddNonMember(wechattest.NonMember{OpenID: "wmStranger0000000000000001"})
	h.wx.SetWeComVisitor("wmStranger0000000000000001")
	h.get(b(uaWeComIOS, true), "/account/")
	h.get(b(uaDesktop, true), "/account/?_user=dev")

	replies := fromWeCom.String()
	secrets := map[string]string{"Secret": h.opts.Secret}
	tok, err := cache.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	secrets["corp access_token"] = tok.Value
	for i, m := range regexp.MustCompile(`"access_token":"([^"]+)"`).FindAllStringSubmatch(replies, -1) {
		secrets[fmt.Sprintf("corp access_token %d", i+1)] = m[1]
	}
	tickets := regexp.MustCompile(`"user_ticket":"([^"]+)"`).FindAllStringSubmatch(replies, -1)
	if len(tickets) < 2 {
		t.Fatalf("WeCom gave %d user_tickets, want 2 or more to check", len(tickets))
	}
	for i, m := range tickets {
		secrets[fmt.Sprintf("user_ticket %d", i+1)] = m[1]
	}
	var toBrowsers strings.Builder
	for _, s := range seen {
		toBrowsers.WriteString(s.String())
	}
	logs := h.logs.String()
	if !strings.Contains(toBrowsers.String(), "Set-Cookie") || !strings.Contains(logs, "login") || errs.Len() == 0 || !strings.Contains(logs, "errcode=60020") {
		t.Fatalf("the flows left no trace to check: responses %d bytes, errors %q, logs %q", toBrowsers.Len(), errs.String(), logs)
	}
	for name, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("%s is %q", name, secret)
		}
		for where, text := range map[string]string{"a browser": toBrowsers.String(), "the log": logs, "an error": errs.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s reached %s", name, where)
			}
		}
	}
	if strings.Contains(logs, "corpsecret=") || strings.Contains(logs, "access_token=") {
		t.Errorf("a URL with a credential reached the log")
	}
}
