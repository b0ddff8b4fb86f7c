package wecom_test

// The protections of the Official Account's login, shown against WeCom.
// Each test names the test of package wechatauth it mirrors.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
	"github.com/wechatauth/wechatauth/work"
)

// Mirrors TestCallbackRefusesBadState.
func TestCallbackRefusesBadState(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name  string
		state func(real string) string
	}{
		{"missing", func(string) string { return "" }},
		{"forged", func(real string) string { return strings.Repeat("a", len(real)) }},
		{"one character off", func(real string) string {
			last := real[len(real)-1]
			swap := byte('a')
			if last == 'a' {
				swap = 'b'
			}
			return real[:len(real)-1] + string(swap)
		}},
		{"malformed", func(string) string { return "<script>" }},
		{"too long", func(real string) string { return real + real + real }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.browser(false)
			cb := h.callbackURL(c, "/account/")
			bad := withState(t, cb, tc.state(param(cb, "state")))
			before := h.exchanges()
			resp, body := h.get(c, bad)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="retry"`) {
				t.Fatalf("status %d, want 400 with a retry link; body %q", resp.StatusCode, body)
			}
			if got := h.exchanges() - before; got != 0 {
				t.Errorf("exchanges: got %d, want 0", got)
			}
			h.assertLoggedOut(c)
		})
	}
}

// Mirrors TestCallbackStateFromAnotherBrowserIsRefused.
func TestCallbackStateFromAnotherBrowserIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	victim := h.browser(false)
	cb := h.callbackURL(victim, "/account/")
	attacker := h.browser(false)
	h.step(attacker, "/account/", http.StatusFound)
	h.step(attacker, cb, http.StatusBadRequest)
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	h.assertLoggedOut(attacker)
	h.step(victim, cb, http.StatusBadRequest) // the stranger spent the state
	h.assertLoggedOut(victim)
	h.loginWith(h.browser(true), "/account/")
}

// Mirrors TestCallbackExpiredStateIsRefused.
func TestCallbackExpiredStateIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	now := time.Now()
	wecom.SetClock(h.auth, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/x")
	mu.Lock()
	now = now.Add(10*time.Minute + time.Second)
	mu.Unlock()
	resp, body := h.get(c, cb)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too long") || !strings.Contains(body, url.QueryEscape("/account/x")) {
		t.Fatalf("status %d, want 400 saying the login took too long, retrying /account/x; body %q", resp.StatusCode, body)
	}
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	h.assertLoggedOut(c)
}

// Mirrors TestCallbackWithoutCodeIsRefusal: a member who declines the
// consent of ScopePrivateInfo (or the Web login) gets the refusal page.
func TestDeclinedConsentIsRefusal(t *testing.T) {
	for _, ua := range []string{uaWeComIOS, uaDesktop} {
		h := newHarness(t, func(o *wecom.Options) { o.Scope = wecom.ScopePrivateInfo })
		h.wx.SetMode(wechattest.Refuse)
		c := h.browserAs(ua, true)
		resp, body := h.get(c, "/account/x")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "declined") || !strings.Contains(body, `id="retry"`) {
			t.Fatalf("%s: status %d, want 403 with a retry link; body %q", ua, resp.StatusCode, body)
		}
		if got := h.exchanges(); got != 0 {
			t.Errorf("exchanges: got %d, want 0", got)
		}
		h.wx.SetMode(wechattest.AutoApprove)
		if resp, body = h.get(c, h.auth.LoginURL("/account/x")); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/x member=true userid=zhangsan ") {
			t.Errorf("retry: status %d, body %q", resp.StatusCode, body)
		}
	}
}

// Mirrors TestTwoTabsStartingAtOnceBothLogIn: each login under way has a
// cookie of its own.
func TestTwoTabsStartingAtOnceBothLogIn(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Sessions.Store = slowStore{memstore.New(), 30 * time.Millisecond} })
	browser := h.browser(false)
	pages := []string{"/account/tab1", "/account/tab2"}
	callbacks := make([]string, len(pages))
	var wg sync.WaitGroup
	for i, page := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := h.get(browser, page)
			resp, _ = h.get(browser, resp.Header.Get("Location"))
			callbacks[i] = resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	for i, cb := range callbacks {
		resp, body := h.get(browser, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != pages[i] {
			t.Errorf("tab %d: status %d, Location %q, body %q; want 302 to %s", i+1, resp.StatusCode, loc, body, pages[i])
		}
	}
	h.assertLoggedIn(browser, "zhangsan")
	var wecomCookies int
	for _, ck := range h.cookies(browser) {
		if strings.HasPrefix(ck.Name, "wechatauth-login-") {
			t.Errorf("login cookie %q has the Official Account's prefix", ck.Name)
		}
		if strings.HasPrefix(ck.Name, "wechatauth-wecom-login-") {
			wecomCookies++
		}
	}
	_ = wecomCookies // both ended: their cookies are gone
}

// slowStore is a session store whose every call takes a while, so that
// two tabs' requests overlap.
type slowStore struct {
	*memstore.MemStore
	d time.Duration
}

func (s slowStore) Find(token string) ([]byte, bool, error) {
	time.Sleep(s.d) // widens the overlap; the test waits on answers, not on this
	return s.MemStore.Find(token)
}

// Mirrors TestCallbackDeliveredTwice and
// TestCallbackConcurrentDeliveriesExchangeOnce: however often a callback
// comes, its code is exchanged once and every delivery ends logged in.
func TestConcurrentDeliveriesExchangeOnce(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/orders?id=7")
	cookies := h.cookies(c)
	const n = 20
	codes := make([]int, n)
	locs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", cb, nil)
			req.Header.Set("Accept", "text/html")
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i], locs[i] = resp.StatusCode, resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	for i := range n {
		if codes[i] != http.StatusFound || locs[i] != "/account/orders?id=7" {
			t.Errorf("delivery %d: status %d, Location %q", i, codes[i], locs[i])
		}
	}
	if got := h.exchanges(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
	// A reload of the callback by the logged-in browser goes on to the page.
	h.get(c, cb)
	resp, _ := h.get(c, cb)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/orders?id=7" {
		t.Errorf("reload: status %d, Location %q", resp.StatusCode, loc)
	}
	if got := h.exchanges(); got != 1 {
		t.Errorf("exchanges after the reload: got %d, want 1", got)
	}
}

// Mirrors TestRefusedCodeLogsNobodyIn: a code brought by a browser that
// did not start its login is refused, and remembered: no later login
// takes it, so the victim's code never logs the attacker in.
func TestRefusedCodeLogsNobodyIn(t *testing.T) {
	h := newHarness(t, nil)
	h.wx.AddMember(wechattest.Member{UserID: "victim"})
	h.wx.SetWeComVisitor("victim")
	attacker := h.browser(false)
	resp, _ := h.step(attacker, "/account/", http.StatusFound)
	victim := h.browser(false)
	resp, _ = h.step(victim, resp.Header.Get("Location"), http.StatusFound)
	cb := resp.Header.Get("Location")
	h.step(victim, cb, http.StatusBadRequest)
	code := param(cb, "code")
	if got := h.exchanges(); got != 0 {
		t.Fatalf("exchanges after the refusal: got %d, want 0", got)
	}
	// The attacker starts a login of their own and brings the code.
	h.wx.SetWeComVisitor("zhangsan")
	attacker = h.browser(false)
	own := h.callbackURL(attacker, "/account/")
	resp, body := h.get(attacker, withCode(t, own, code))
	if resp.StatusCode == http.StatusFound && resp.Header.Get("Location") == "/account/" {
		h.get(attacker, resp.Header.Get("Location"))
	}
	if _, body2 := h.get(attacker, "/account/check"); strings.Contains(body2, "userid=victim ") {
		t.Fatalf("the refused code logged the attacker in as the victim: %q / %q", body, body2)
	}
	if got := h.exchanges(); got != 0 {
		t.Errorf("exchanges of the refused code: got %d, want 0", got)
	}
}

// Mirrors TestReturnURLIsSameOriginOnly.
func TestReturnURLIsSameOriginOnly(t *testing.T) {
	h := newHarness(t, nil)
	hostile := []string{
		"//evil.example/", "/\\evil.example", "https://evil.example/", "http:evil.example",
		"javascript:alert(1)", "/%2F/evil.example", "/%5Cevil.example", "\\\\evil.example",
		"/\x00evil", "/\tevil", " //evil.example", "/account/\r\nLocation: https://evil.example",
		"//user@evil.example", "evil.example", "",
	}
	for _, next := range hostile {
		c := h.browser(false)
		cb := h.callbackURL(c, h.auth.LoginURL(next))
		resp, _ := h.get(c, cb)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
			t.Errorf("next=%q: status %d, Location %q; want /", next, resp.StatusCode, loc)
		}
	}
}

// Mirrors TestLoginRenewsSessionToken: the login renews the session
// token, so a token planted before it is worthless.
func TestLoginRenewsSessionToken(t *testing.T) {
	h := newHarness(t, nil)
	h.mux.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) { h.opts.Sessions.Put(r.Context(), "cart", "3 items") })
	c := h.browser(false)
	h.get(c, "/touch") // a session exists before the login
	before := h.cookie(c)
	if before == "" {
		t.Fatal("no session before the login")
	}
	cb := h.callbackURL(c, "/account/")
	h.get(c, cb)
	after := h.cookie(c)
	if after == "" || after == before {
		t.Errorf("session token before %q, after %q; want a new one", before, after)
	}
	h.assertLoggedIn(c, "zhangsan")
}

// Mirrors TestUnauthenticatedAPIRequestGets401JSON.
func TestUnauthenticatedAPIRequestGets401JSON(t *testing.T) {
	h := newHarness(t, nil)
	resp, body := h.do(h.browser(false), "POST", "/account/api", http.Header{"Accept": {"application/json"}})
	var got struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"`
	}
	if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(body), &got) != nil || got.Error != "wechat_login_required" || !strings.HasPrefix(got.LoginURL, h.opts.CallbackURL+"?next=") {
		t.Errorf("status %d, body %q; want 401 JSON with a login_url", resp.StatusCode, body)
	}
	if n := h.exchanges(); n != 0 {
		t.Errorf("exchanges: %d", n)
	}
}

// Mirrors TestCallbackThatKeepsFailingEndsInErrorPage: no redirect loop.
func TestCallbackThatKeepsFailingEndsInErrorPage(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.MaxAttempts = 3 })
	for range 10 {
		h.wx.FailNext("/cgi-bin/auth/getuserinfo", work.CodeInvalidCode)
	}
	resp, body := h.get(h.browser(true), "/account/")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Location") != "" || !strings.Contains(body, "try again") {
		t.Fatalf("status %d, Location %q, body %q; want 429 after the attempts ran out", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if got := h.exchanges(); got != 3 {
		t.Errorf("exchanges: got %d, want 3 (MaxAttempts)", got)
	}
}

// Mirrors TestSpentCodeStartsOneFreshRoundTrip: a code spent elsewhere
// (40029) gets one fresh round trip, which logs in.
func TestSpentCodeStartsOneFreshRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/z")
	client := &work.Client{CorpID: h.wx.CorpID, AgentID: h.wx.AgentID, Secret: h.wx.CorpSecret, HTTPClient: h.wx.Client(), Endpoints: h.wx.WeComEndpoints()}
	if _, err := client.UserInfo(context.Background(), work.NewAccessTokenSource(client, mp.CredentialOptions{}), param(cb, "code")); err != nil {
		t.Fatal(err)
	}
	resp, _ := h.get(c, cb)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.wx.WeComEndpoints().Authorize) {
		t.Fatalf("status %d, Location %q; want a new round trip to WeCom", resp.StatusCode, resp.Header.Get("Location"))
	}
	f := h.browser(true)
	f.Jar = c.Jar
	if resp, body := h.get(f, resp.Header.Get("Location")); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/z member=true userid=zhangsan ") {
		t.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	if got := h.exchanges(); got != 3 { // ours, the site's refused one, the fresh one
		t.Errorf("exchanges: %d, want 3", got)
	}
}

// Mirrors TestStateReplayedAfterLogoutIsRefused and the logout tests:
// Logout forgets the member and a replay of the callback logs nobody in.
func TestLogout(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(false)
	cb := h.callbackURL(c, "/account/")
	h.get(c, cb)
	h.assertLoggedIn(c, "zhangsan")
	h.step(c, "/logout", http.StatusFound)
	h.assertLoggedOut(c)
	resp, _ := h.get(c, cb)
	if resp.StatusCode == http.StatusFound && resp.Header.Get("Location") == "/account/" {
		t.Errorf("the callback replayed after logout logged in again")
	}
	h.assertLoggedOut(c)
}

// Mirrors TestDebugBypassLogsInWithoutWeChat and
// TestDebugBypassIsOffByDefault.
func TestDebugLogin(t *testing.T) {
	off := newHarness(t, nil)
	if resp, _ := off.get(off.browser(false), "/account/?_user=wangwu"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), off.wx.WeComEndpoints().Authorize) {
		t.Errorf("debug login off: status %d, Location %q; want WeCom", resp.StatusCode, resp.Header.Get("Location"))
	}
	h := newHarness(t, func(o *wecom.Options) {
		o.DebugBypass = true
		o.DebugMember = wecom.Member{UserID: "dev", Name: "开发者", Department: []int64{7}}
	})
	if !strings.Contains(h.logs.String(), "DEBUG BYPASS IS ON") {
		t.Errorf("no warning at New: %s", h.logs)
	}
	c := h.browserAs(uaDesktop, true)
	if _, body := h.get(c, "/account/"); !strings.Contains(body, "userid=dev ") || !strings.Contains(body, "name=开发者 dept=[7] ") {
		t.Errorf("default debug member: %q", body)
	}
	if _, body := h.get(c, "/account/?_user=wangwu"); !strings.Contains(body, "path=/account/ member=true userid=wangwu ") {
		t.Errorf("?_user=wangwu: %q", body)
	}
	if n := h.exchanges(); n != 0 {
		t.Errorf("exchanges: %d", n)
	}
}

// Mirrors TestDebugBypassIsLoopbackOnlyByDefault.
func TestDebugLoginIsLoopbackOnly(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.DebugBypass = true; o.DebugMember = wecom.Member{UserID: "dev"} })
	r, _ := http.NewRequest("GET", "/account/", nil)
	r.RemoteAddr = "203.0.113.9:4000"
	r.Header.Set("Accept", "text/html")
	r.Header.Set("User-Agent", uaDesktop)
	w := newRecorder()
	h.opts.Sessions.LoadAndSave(h.auth.RequireMember(http.NotFoundHandler())).ServeHTTP(w, r)
	if w.code != http.StatusFound || !strings.HasPrefix(w.h.Get("Location"), h.wx.WeComEndpoints().WebLogin) {
		t.Errorf("remote client: status %d, Location %q; want the Web login", w.code, w.h.Get("Location"))
	}
}

// Mirrors TestWrongAppSecretIsTheSitesFault and the diagnose tests: each
// mistake of the setup ends on the "misconfigured" page (500) and a log
// line with the errcode and the fix.
func TestSetupMistakesNameTheFix(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(wx *wechattest.Server, o *wecom.Options)
		code    int
		fixText string
	}{
		{"60020: the server's IP is not trusted", func(wx *wechattest.Server, o *wecom.Options) { wx.SetWeComTrustedIPs("203.0.113.7") },
			work.CodeIPNotTrusted, "add 127.0.0.1 to the app's 企业可信IP"},
		{"40001: a wrong Secret", func(wx *wechattest.Server, o *wecom.Options) { o.Secret = "not-the-app-secret-0000" },
			work.CodeInvalidSecret, "Options.Secret is not the app's Secret"},
		{"40013: a wrong CorpID", func(wx *wechattest.Server, o *wecom.Options) { o.CorpID = "ww0000000000000009" },
			work.CodeInvalidCorpID, "Options.CorpID is wrong"},
		{"48002: no permission", func(wx *wechattest.Server, o *wecom.Options) { wx.SetWeComForbidden("/cgi-bin/auth/getuserinfo") },
			work.CodeAPIForbidden, "应用管理"},
		{"50001: a code of another app", func(wx *wechattest.Server, o *wecom.Options) {
			wx.AddWeComApp(wechattest.WeComApp{AgentID: "1000003", Secret: "second-app-secret-0000000000000"})
			o.AgentID, o.Secret = "1000003", "second-app-secret-0000000000000"
		}, work.CodeUntrustedDomain, "可信域名"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wx := wechattest.NewServer()
			t.Cleanup(wx.Close)
			var failure wecom.Event
			h := newHarnessOn(t, wx, nil, func(o *wecom.Options) {
				tc.setup(wx, o)
				o.OnEvent = func(_ *http.Request, e wecom.Event) {
					if e.Kind == wecom.EventFailure {
						failure = e
					}
				}
			})
			c := h.browser(false)
			var resp *http.Response
			var body string
			switch tc.code {
			case work.CodeUntrustedDomain:
				// The main app's code, brought to the second app's site.
				cb := h.callbackURL(c, "/account/")
				resp, body = h.get(c, withCode(t, cb, wx.IssueWeComCode("", "snsapi_base")))
			case work.CodeInvalidCorpID:
				// WeCom's page refuses the link; a code of the right corp
				// brought to the site of the wrong CorpID.
				start, _ := h.step(c, "/account/", http.StatusFound)
				state := param(start.Header.Get("Location"), "state")
				resp, body = h.get(c, h.opts.CallbackURL+"?code="+wx.IssueWeComCode("", "snsapi_base")+"&state="+state)
			default:
				resp, body = h.get(c, h.callbackURL(c, "/account/"))
			}
			if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "misconfigured") {
				t.Fatalf("status %d, body %q; want 500 saying the site is misconfigured", resp.StatusCode, body)
			}
			logs := h.logs.String()
			if !strings.Contains(logs, fmt.Sprintf("errcode=%d", tc.code)) || !strings.Contains(logs, tc.fixText) {
				t.Errorf("log does not name errcode %d and the fix %q: %s", tc.code, tc.fixText, logs)
			}
			if strings.Count(logs, "; fix: ") > 1 || strings.Contains(logs, "Client.") {
				t.Errorf("the fix is said twice, or in work.Client's words: %s", logs)
			}
			if failure.Code != tc.code || failure.Status != http.StatusInternalServerError {
				t.Errorf("failure event %+v; want errcode %d, status 500", failure, tc.code)
			}
		})
	}
}

// recorder is a small http.ResponseWriter for in-process requests.
type recorder struct {
	h    http.Header
	code int
	body strings.Builder
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }
