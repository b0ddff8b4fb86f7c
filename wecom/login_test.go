package wecom_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
)

func TestMemberLogsInInsideWeCom(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(true)
	body := h.loginWith(c, "/account/orders?id=7")
	if !strings.HasPrefix(body, "path=/account/orders?id=7 member=true userid=zhangsan corpid= openid= external= name= ") {
		t.Errorf("page: %q", body)
	}
	if n := h.exchanges(); n != 1 {
		t.Errorf("exchanges: %d, want 1", n)
	}
	h.assertLoggedIn(c, "zhangsan")
	if n := h.exchanges(); n != 1 {
		t.Errorf("exchanges after a logged-in request: %d, want 1", n)
	}
	// Without Options.Profile nothing else is asked of WeCom.
	if n := h.wx.Calls("/cgi-bin/user/get") + h.wx.Calls("/cgi-bin/auth/getuserdetail"); n != 0 {
		t.Errorf("user/get and getuserdetail calls: %d, want 0", n)
	}
}

// Each browser of WECOM.md §9 goes where it can log in: WeCom's own
// (phone, Windows, macOS; "wxwork/" first, in any case, though each also
// says MicroMessenger) to the authorize page, personal WeChat's to the
// open-in-WeCom page, any other browser to the Web login.
func TestRoutingByUserAgent(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Scope = wecom.ScopePrivateInfo })
	ep := h.wx.WeComEndpoints()
	cases := []struct {
		name, ua string
		want     string // "authorize", "weblogin" or "open-in-wecom"
	}{
		{"WeCom iOS", uaWeComIOS, "authorize"},
		{"WeCom Windows", uaWeComWindows, "authorize"},
		{"WeCom macOS", uaWeComMac, "authorize"},
		{"WeCom, upper case", strings.ReplaceAll(uaWeComIOS, "wxwork/", "WXWork/"), "authorize"},
		{"WeChat Windows", uaWeChatWin, "open-in-wecom"},
		{"WeChat iOS", uaWeChatIOS, "open-in-wecom"},
		{"desktop Chrome", uaDesktop, "weblogin"},
		{"no User-Agent", "", "weblogin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := h.get(h.browserAs(tc.ua, false), "/account/x")
			loc := resp.Header.Get("Location")
			switch tc.want {
			case "authorize":
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, ep.Authorize+"?appid="+h.wx.CorpID+"&") ||
					param(loc, "scope") != "snsapi_privateinfo" || param(loc, "agentid") != h.wx.AgentID || !strings.HasSuffix(loc, "#wechat_redirect") {
					t.Errorf("status %d, Location %q; want the authorize page with appid=CorpID, agentid and snsapi_privateinfo", resp.StatusCode, loc)
				}
			case "weblogin":
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, ep.WebLogin+"?login_type=CorpApp&appid="+h.wx.CorpID+"&agentid="+h.wx.AgentID+"&") {
					t.Errorf("status %d, Location %q; want the Web login", resp.StatusCode, loc)
				}
			case "open-in-wecom":
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "请在企业微信中打开") || !strings.Contains(body, `<svg id="qr"`) ||
					!strings.Contains(body, `<code id="url">`+h.app.URL+"/account/x</code>") {
					t.Errorf("status %d, body %q; want the open-in-WeCom page with the page's address", resp.StatusCode, body)
				}
			}
		})
	}
}

// A desktop browser logs in through the Web login, back through the same
// callback, and the code's member is logged in.
func TestDesktopBrowserLogsInThroughWebLogin(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Scope = wecom.ScopePrivateInfo })
	c := h.browserAs(uaDesktop, true)
	body := h.loginWith(c, "/account/desk")
	if !strings.HasPrefix(body, "path=/account/desk member=true userid=zhangsan ") {
		t.Errorf("page: %q", body)
	}
	// A Web-login code never gives a user_ticket: no sensitive fields,
	// and no call for them.
	if strings.Contains(body, "mobile=1") || h.wx.Calls("/cgi-bin/auth/getuserdetail") != 0 {
		t.Errorf("Web login fetched sensitive fields: %q, %d calls", body, h.wx.Calls("/cgi-bin/auth/getuserdetail"))
	}
}

// A non-member is refused by default with a page that says so, and the
// session stays logged out; the ErrorHandler sees ErrNotMember.
func TestNonMemberIsRefused(t *testing.T) {
	var mu sync.Mutex
	var events []wecom.Event
	h := newHarness(t, func(o *wecom.Options) {
		o.OnEvent = func(_ *http.Request, e wecom.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	})
	h.wx.AddNonMember(wechattest.NonMember{OpenID: "wmStranger0000000000000001"})
	h.wx.SetWeComVisitor("wmStranger0000000000000001")
	c := h.browser(true)
	resp, body := h.get(c, "/account/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "您不是本企业的成员") || !strings.Contains(body, "not a member of this company") {
		t.Fatalf("status %d, body %q; want 403 saying not a member", resp.StatusCode, body)
	}
	if strings.Contains(body, "wmStranger") {
		t.Errorf("the page shows the openid: %q", body)
	}
	h.wx.SetWeComVisitor("zhangsan")
	h.assertLoggedOut(h.browser(false))
	mu.Lock()
	defer mu.Unlock()
	i := slices.IndexFunc(events, func(e wecom.Event) bool { return e.Kind == wecom.EventFailure })
	if i < 0 || events[i].Status != http.StatusForbidden || !errors.Is(events[i].Err, wecom.ErrNotMember) || wecom.HTTPStatus(events[i].Err) != http.StatusForbidden {
		t.Errorf("events %+v; want a 403 failure wrapping ErrNotMember", events)
	}
	if slices.ContainsFunc(events, func(e wecom.Event) bool { return e.Kind == wecom.EventLogin }) {
		t.Errorf("a login event for a refused non-member: %+v", events)
	}
}

// With AllowNonMembers a non-member logs in by openid, a customer with
// the external_userid too, never as a member.
func TestNonMemberAllowed(t *testing.T) {
	var mu sync.Mutex
	var logins []wecom.Event
	h := newHarness(t, func(o *wecom.Options) {
		o.AllowNonMembers = true
		o.OnEvent = func(_ *http.Request, e wecom.Event) {
			if e.Kind == wecom.EventLogin {
				mu.Lock()
				logins = append(logins, e)
				mu.Unlock()
			}
		}
	})
	h.wx.AddNonMember(wechattest.NonMember{OpenID: "wmStranger0000000000000001"})
	h.wx.AddNonMember(wechattest.NonMember{OpenID: "wmCustomer0000000000000001", ExternalUserID: "wmExtCustomer001"})
	h.wx.SetWeComVisitor("wmStranger0000000000000001")
	if body := h.loginWith(h.browser(true), "/account/"); !strings.Contains(body, "member=false userid= corpid= openid=wmStranger0000000000000001 external= ") {
		t.Errorf("non-member: %q", body)
	}
	h.wx.SetWeComVisitor("wmCustomer0000000000000001")
	if body := h.loginWith(h.browser(true), "/account/"); !strings.Contains(body, "member=false userid= corpid= openid=wmCustomer0000000000000001 external=wmExtCustomer001 ") {
		t.Errorf("customer: %q", body)
	}
	// Personal WeChat goes through the authorize page, where WeCom gives
	// a non-member's openid.
	if body := h.loginWith(h.browserAs(uaWeChatIOS, true), "/account/"); !strings.Contains(body, "openid=wmCustomer0000000000000001 ") {
		t.Errorf("personal WeChat: %q", body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logins) != 3 || logins[0].OpenID != "wmStranger0000000000000001" || logins[0].UserID != "" {
		t.Errorf("login events %+v; want the openid in OpenID, not UserID", logins)
	}
}

// A member of a linked corp, whom WeCom names "CorpId/userid", has the
// corp in a field of its own; the sensitive fields and user/get, which
// are for the app's own corp, are not asked for.
func TestLinkedCorpMember(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Profile = true; o.Scope = wecom.ScopePrivateInfo })
	h.wx.SetWeComVisitor("ww0000000000000002/lisi")
	body := h.loginWith(h.browser(true), "/account/")
	if !strings.Contains(body, "member=true userid=lisi corpid=ww0000000000000002 openid= ") {
		t.Errorf("linked member: %q", body)
	}
	if n := h.wx.Calls("/cgi-bin/user/get") + h.wx.Calls("/cgi-bin/auth/getuserdetail"); n != 0 {
		t.Errorf("user/get and getuserdetail calls for a linked member: %d, want 0", n)
	}
	if strings.Contains(h.logs.String(), "failed") {
		t.Errorf("log: %s", h.logs)
	}
}

// ScopePrivateInfo: the member consents (the emulator allows at once),
// and the sensitive fields are fetched in the callback with the
// user_ticket; Profile adds the name and departments.
func TestPrivateInfoAndProfile(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Profile = true; o.Scope = wecom.ScopePrivateInfo })
	var got wecom.Member
	h.mux.Handle("/detail/", h.auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = wecom.MemberFrom(r)
	})))
	c := h.login("/account/")
	h.get(c, "/detail/")
	want := wecom.Private{Gender: "1", Mobile: "13800000000", Email: "zhangsan@example.com", BizMail: "zhangsan@corp.example.com", Address: "北京市海淀区"}
	p := got.Private
	if got.UserID != "zhangsan" || got.Name != "张三" || !slices.Equal(got.Department, []int64{1}) || !got.HasPrivate() ||
		p.Gender != want.Gender || p.Mobile != want.Mobile || p.Email != want.Email || p.BizMail != want.BizMail || p.Address != want.Address || p.Avatar == "" || p.QRCode == "" {
		t.Errorf("member %+v; want 张三 of department 1 with the sensitive fields %+v", got, want)
	}
	if n := h.wx.Calls("/cgi-bin/auth/getuserdetail"); n != 1 {
		t.Errorf("getuserdetail calls: %d, want 1", n)
	}
}

// A failed fetch of the sensitive fields or the profile logs the member
// in without them, and the log says so.
func TestFailedDetailLogsInWithoutIt(t *testing.T) {
	h := newHarness(t, func(o *wecom.Options) { o.Profile = true; o.Scope = wecom.ScopePrivateInfo })
	h.wx.FailNext("/cgi-bin/auth/getuserdetail", 40058)
	h.wx.SetWeComForbidden("/cgi-bin/user/get")
	body := h.loginWith(h.browser(true), "/account/")
	if !strings.Contains(body, "userid=zhangsan ") || !strings.Contains(body, "name= dept=[] mobile= gender= ") {
		t.Errorf("page: %q; want zhangsan without name or sensitive fields", body)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "sensitive fields (auth/getuserdetail) failed; logging in without them") || !strings.Contains(logs, "40058") {
		t.Errorf("log does not say the sensitive fields failed: %s", logs)
	}
	if !strings.Contains(logs, "name and department (user/get) failed; logging in without them") || !strings.Contains(logs, "48002") || !strings.Contains(logs, "应用管理") {
		t.Errorf("log does not say user/get failed with the fix: %s", logs)
	}
}

// A corp token that WeCom ended early (40014) is fetched again and the
// exchange made once more: the login does not notice.
func TestStaleCorpTokenIsReplaced(t *testing.T) {
	h := newHarness(t, nil)
	h.login("/account/")
	h.wx.InvalidateWeComTokens()
	h.login("/account/")
	if n := h.wx.Calls("/cgi-bin/gettoken"); n != 2 {
		t.Errorf("gettoken calls: %d, want 2 (the first token, then its replacement)", n)
	}
	if n := h.exchanges(); n != 3 {
		t.Errorf("exchanges: %d, want 3 (one refused with 40014, retried)", n)
	}
}
