package wechatauth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wechatauth/wechatauth"
)

func TestDebugBypassIsOffByDefault(t *testing.T) {
	h := newHarness(t, nil)
	resp, _ := h.get(h.browser(false), "/account/?_user=oMallory")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), h.wx.Endpoints().Authorize) {
		t.Errorf("?_user without DebugBypass: status %d, Location %q; want a redirect to WeChat", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(h.logs.String(), "DEBUG BYPASS") {
		t.Errorf("debug warning logged with the bypass off")
	}
}

func TestDebugBypassLogsInWithoutWeChat(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.DebugBypass = true
		o.DebugUser = wechatauth.User{OpenID: "oDeveloper"}
	})
	if !strings.Contains(h.logs.String(), "DEBUG BYPASS IS ON") {
		t.Errorf("New logged no warning: %q", h.logs.String())
	}
	c := h.browser(false)
	resp, body := h.get(c, "/account/x")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "openid=oDeveloper ") {
		t.Fatalf("configured user: status %d, body %q", resp.StatusCode, body)
	}
	resp, _ = h.get(c, "/account/y?a=1&_user=oTester")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/account/y?a=1" {
		t.Fatalf("?_user: status %d, Location %q; want /account/y?a=1", resp.StatusCode, loc)
	}
	h.assertLoggedIn(c, "oTester")
	if got := h.wx.Calls("/connect/oauth2/authorize") + h.exchanges(); got != 0 {
		t.Errorf("WeChat calls: got %d, want 0", got)
	}
	if !strings.Contains(h.logs.String(), "debug login") {
		t.Errorf("debug login not logged")
	}
}

func TestDebugBypassIsLoopbackOnlyByDefault(t *testing.T) {
	for _, allowRemote := range []bool{false, true} {
		h := newHarness(t, func(o *wechatauth.Options) {
			o.DebugBypass = true
			o.DebugAllowRemote = allowRemote
		})
		handler := h.opts.Sessions.LoadAndSave(h.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := wechatauth.UserFrom(r)
			w.Write([]byte("openid=" + u.OpenID))
		})))
		req := httptest.NewRequest("GET", "/account/?_user=oRemote", nil)
		req.RemoteAddr = "203.0.113.7:50000"
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		toWeChat := strings.HasPrefix(loc, h.wx.Endpoints().Authorize)
		if allowRemote && (rec.Code != http.StatusFound || loc != "/account/") {
			t.Errorf("DebugAllowRemote: status %d, Location %q; want the debug login", rec.Code, loc)
		}
		if !allowRemote && !toWeChat {
			t.Errorf("remote client without DebugAllowRemote: status %d, Location %q; want WeChat", rec.Code, loc)
		}
	}
}

// The debug login answers only the developer's own browser: a loopback
// request that names another site (DNS rebinding from a page the developer
// visits) or came through a proxy gets the normal login.
func TestDebugBypassRefusesRebindingAndProxies(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.DebugBypass = true })
	handler := h.opts.Sessions.LoadAndSave(h.auth.RequireWeChatUser(http.NotFoundHandler()))
	cases := []struct {
		name   string
		host   string
		header string
		debug  bool
	}{
		{"localhost", "localhost:8080", "", true},
		{"127.0.0.1", "127.0.0.1:8080", "", true},
		{"[::1]", "[::1]:8080", "", true},
		{"the callback's host", mustURL(t, h.opts.CallbackURL).Host, "", true},
		{"rebound name", "evil.example:8080", "", false},
		{"X-Forwarded-For", "localhost:8080", "X-Forwarded-For", false},
		{"Forwarded", "localhost:8080", "Forwarded", false},
		{"X-Real-IP", "localhost:8080", "X-Real-IP", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/account/?_user=oMallory", nil)
			req.Host, req.RemoteAddr = tc.host, "127.0.0.1:50000"
			if tc.header != "" {
				req.Header.Set(tc.header, "203.0.113.7")
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			if tc.debug && loc != "/account/" {
				t.Errorf("status %d, Location %q; want the debug login", rec.Code, loc)
			}
			if !tc.debug && !strings.HasPrefix(loc, h.wx.Endpoints().Authorize) {
				t.Errorf("status %d, Location %q; want WeChat's login", rec.Code, loc)
			}
		})
	}
	if !strings.Contains(h.logs.String(), "debug login refused: the request came through a proxy") {
		t.Errorf("no reason logged: %s", h.logs.String())
	}
}

// A page of another site cannot choose whom the developer's browser is
// logged in as: ?_user= from a cross-site navigation is refused.
func TestDebugUserParameterRefusesCrossSiteNavigations(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.DebugBypass = true })
	handler := h.app.Config.Handler
	for _, site := range []string{"cross-site", "same-site", "same-origin", "none", ""} {
		req := httptest.NewRequest("GET", h.app.URL+"/account/?_user=oAttacker", nil)
		req.RemoteAddr = "127.0.0.1:50000"
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		debug := rec.Header().Get("Location") == "/account/"
		if want := site == "same-origin" || site == "none" || site == ""; debug != want {
			t.Errorf("Sec-Fetch-Site %q: debug login %v, want %v (status %d, Location %q)", site, debug, want, rec.Code, rec.Header().Get("Location"))
		}
	}
}
