package wecom_test

// The protections of the Official Account's login, shown against WeCom,
// besides the shared suite (logintest_test.go). Each test names the test
// of package wechatauth it mirrors.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
	"github.com/wechatauth/wechatauth/work"
)

// Mirrors TestCallbackWithoutCodeIsRefusal: a member who declines the
// consent of ScopePrivateInfo (or the Web login) gets the refusal page.
func TestDeclinedConsentIsRefusal(t *testing.T) {
	for _, ua := range []string{uaWeComIOS, uaDesktop} {
		h := newHarness(t, func(o *wecom.Options) { o.Scope = wecom.ScopePrivateInfo })
		h.wx.SetMode(wechattest.Refuse)
		c := h.browserAs(ua, true)
		resp, body := h.get(c, "/account/x")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "declined") || !strings.Contains(body, "您已拒绝企业微信授权 · You declined to log in with WeCom") || !strings.Contains(body, `id="retry"`) {
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
	// WeCom's userids may hold '.' and '@'.
	if _, body := h.get(c, "/account/?_user=zhang.san@corp"); !strings.Contains(body, "member=true userid=zhang.san@corp ") {
		t.Errorf("?_user=zhang.san@corp: %q", body)
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

// The flow's log lines name WeCom, not WeChat.
func TestLogLinesNameWeCom(t *testing.T) {
	h := newHarness(t, nil)
	h.get(h.browserAs(uaDesktop, false), "/account/")
	if logs := h.logs.String(); !strings.Contains(logs, "redirect to WeCom") || strings.Contains(logs, "WeChat") {
		t.Errorf("log of a redirect:\n%s", logs)
	}
}

// MemberFrom in a hook, in debug mode, is named with WeCom's names and
// fix.
func TestMemberFromOutsideNamesWeComsFix(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) {
		o.DebugBypass = true
		o.OnEvent = func(r *http.Request, e wecom.Event) { wecom.MemberFrom(r) }
	})
	h.login("/account/")
	want := "MemberFrom was called on a request that RequireMember did not let through"
	if logs := h.logs.String(); !strings.Contains(logs, want) || !strings.Contains(logs, "use auth.CurrentMember(r)") || strings.Contains(logs, "UserFrom") {
		t.Errorf("the warning does not name WeCom's functions:\n%s", logs)
	}
}
