package wechatauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
)

func TestLoginRoundTripLandsOnOriginalPage(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(true)
	resp, body := h.get(c, "/account/orders?id=7&sort=new")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	if want := "path=/account/orders?id=7&sort=new openid=oTestUser"; !strings.HasPrefix(body, want) {
		t.Errorf("got %q, want prefix %q", body, want)
	}
	if got := h.exchanges(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
}

func TestAuthenticatedRequestPassesThroughWithoutNetworkOrWrite(t *testing.T) {
	h := newHarness(t, nil)
	c := h.login("/account/")
	before := map[string]int{}
	paths := []string{"/connect/oauth2/authorize", "/sns/oauth2/access_token", "/sns/userinfo", "/sns/auth", "/sns/oauth2/refresh_token"}
	for _, p := range paths {
		before[p] = h.wx.Calls(p)
	}
	for i := 0; i < 3; i++ {
		resp, body := h.get(c, "/account/page")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "openid=oTestUser") {
			t.Fatalf("status %d, body %q", resp.StatusCode, body)
		}
		if sc := resp.Header.Get("Set-Cookie"); sc != "" {
			t.Errorf("authenticated request wrote the session: Set-Cookie %q", sc)
		}
	}
	for _, p := range paths {
		if got := h.wx.Calls(p); got != before[p] {
			t.Errorf("%s: %d calls during authenticated requests, want 0", p, got-before[p])
		}
	}
}

var authorizeRE = regexp.MustCompile(`^(.*)\?appid=([^&]*)&redirect_uri=([^&]*)&response_type=code&scope=(snsapi_base|snsapi_userinfo)&state=([A-Za-z0-9]+)#wechat_redirect$`)

func TestUnauthenticatedNavigationRedirectsToAuthorize(t *testing.T) {
	for _, scope := range []wechatauth.Scope{"", wechatauth.ScopeBase, wechatauth.ScopeUserInfo} {
		t.Run("scope="+string(scope), func(t *testing.T) {
			h := newHarness(t, func(o *wechatauth.Options) { o.Scope = scope })
			wantScope := string(scope)
			if scope == "" {
				wantScope = "snsapi_base"
			}
			states := map[string]bool{}
			for _, method := range []string{"GET", "HEAD", "GET"} {
				resp, _ := h.do(h.browser(false), method, "/account/x?y=1", nil)
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("%s: status %d, want 302", method, resp.StatusCode)
				}
				loc := resp.Header.Get("Location")
				m := authorizeRE.FindStringSubmatch(loc)
				if m == nil {
					t.Fatalf("Location %q is not an authorize URL in WeChat's parameter order", loc)
				}
				state := m[5]
				want := h.wx.Endpoints().Authorize + "?appid=" + url.QueryEscape(h.opts.AppID) +
					"&redirect_uri=" + url.QueryEscape(h.opts.CallbackURL) +
					"&response_type=code&scope=" + wantScope + "&state=" + state + "#wechat_redirect"
				if loc != want {
					t.Errorf("got %q, want %q", loc, want)
				}
				if len(state) < 32 || len(state) > 128 {
					t.Errorf("state %q: %d characters, want 32 to 128 (>= 128 bits)", state, len(state))
				}
				if states[state] {
					t.Errorf("state %q issued twice", state)
				}
				states[state] = true
				if strings.Contains(loc, h.opts.AppSecret) {
					t.Errorf("authorize URL holds the app secret")
				}
			}
		})
	}
}

func TestUnauthenticatedAPIRequestGets401JSON(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name   string
		method string
		header http.Header
	}{
		{"POST", "POST", nil},
		{"XHR", "GET", http.Header{"X-Requested-With": {"XMLHttpRequest"}}},
		{"fetch", "GET", http.Header{"Sec-Fetch-Mode": {"cors"}}},
		{"JSON Accept", "GET", http.Header{"Accept": {"application/json"}}},
		{"DELETE", "DELETE", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header.Clone()
			if header == nil {
				header = http.Header{}
			}
			header.Set("Referer", h.app.URL+"/account/cart?step=2")
			resp, body := h.do(h.browser(false), tc.method, "/account/api/items", header)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %q", resp.StatusCode, body)
			}
			var got struct {
				Error    string `json:"error"`
				LoginURL string `json:"login_url"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if want := h.auth.LoginURL("/account/cart?step=2"); got.LoginURL != want {
				t.Errorf("login_url: got %q, want %q", got.LoginURL, want)
			}
			if got.Error == "" {
				t.Errorf("error: empty")
			}
		})
	}
	t.Run("foreign Referer", func(t *testing.T) {
		resp, body := h.do(h.browser(false), "POST", "/account/api/items", http.Header{"Referer": {"https://evil.example/account/"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, url.QueryEscape("/")) {
			t.Fatalf("status %d, body %q", resp.StatusCode, body)
		}
		if want := h.auth.LoginURL("/"); !strings.Contains(body, want) {
			t.Errorf("got %q, want login_url %q", body, want)
		}
	})
}

func TestLoginURLFrom401LogsInAndReturns(t *testing.T) {
	h := newHarness(t, nil)
	c := h.browser(true)
	resp, body := h.get(c, h.auth.LoginURL("/account/cart?step=2"))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/cart?step=2 openid=oTestUser") {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
}

func TestUnauthorizedHandlerIsReplaceable(t *testing.T) {
	var gotURL string
	h := newHarness(t, func(o *wechatauth.Options) {
		o.Unauthorized = func(w http.ResponseWriter, r *http.Request, loginURL string) {
			gotURL = loginURL
			w.WriteHeader(http.StatusTeapot)
		}
	})
	resp, _ := h.do(h.browser(false), "POST", "/account/api", nil)
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("status %d, want 418 from the custom handler", resp.StatusCode)
	}
	if want := h.auth.LoginURL("/"); gotURL != want {
		t.Errorf("loginURL: got %q, want %q", gotURL, want)
	}
}

func TestUserFromOutsideMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if u, ok := wechatauth.UserFrom(r); ok {
		t.Errorf("UserFrom outside RequireWeChatUser: got %+v, true; want false", u)
	}
}

func TestCurrentUserOnPublicPage(t *testing.T) {
	h := newHarness(t, nil)
	_, body := h.get(h.browser(false), "/")
	if body != "public path=/ openid=" {
		t.Errorf("before login: got %q, want no openid", body)
	}
	c := h.login("/account/")
	_, body = h.get(c, "/")
	if !strings.HasPrefix(body, "public path=/ openid=oTestUser") {
		t.Errorf("after login: got %q, want the openid", body)
	}
}

func TestMissingLoadAndSaveIsAnErrorNotAPanic(t *testing.T) {
	sessions := scs.New()
	auth, err := wechatauth.New(wechatauth.Options{
		AppID: "wx0123456789abcdef", AppSecret: "s", CallbackURL: "https://example.com/wechat/callback", Sessions: sessions,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	auth.RequireWeChatUser(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/account/", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
}

// Starting logins counts nothing: a hostile page that re-navigates a
// popup to a protected page again and again cannot lock the user out.
// Round trips that come back without a login are what MaxAttempts counts
// (TestCallbackThatKeepsFailingEndsInErrorPage).
func TestStartingLoginsDoesNotLockOut(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.MaxAttempts = 2 })
	c := h.browser(true)
	stop := h.browser(false)
	stop.Jar = c.Jar
	for i := 0; i < 6; i++ {
		h.step(stop, "/account/", http.StatusFound) // the hostile page's popup, abandoned
	}
	h.loginWith(c, "/account/") // the user's own login
}
