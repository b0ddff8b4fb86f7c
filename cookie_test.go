package wechatauth_test

import (
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
)

// loginCookies returns the Set-Cookie lines of w that name a login cookie.
func loginCookies(w *httptest.ResponseRecorder) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range (&http.Response{Header: w.Header()}).Cookies() {
		if strings.Contains(c.Name, "wechatauth-login-") {
			out = append(out, c)
		}
	}
	return out
}

// On an https site the login's cookie is Secure and "__Host-", whatever
// the session cookie says, so that no sibling subdomain or plain-http
// answer can plant a login.
func TestLoginCookieOnHTTPSIsHostOnly(t *testing.T) {
	for _, secure := range []bool{false, true} {
		sessions := scs.New()
		sessions.Cookie.Secure = secure
		a, err := wechatauth.New(wechatauth.Options{
			AppID: "wx0123456789abcdef", AppSecret: "secret", CallbackURL: "https://site.example/wechat/callback",
			Sessions: sessions, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		h := sessions.LoadAndSave(a.RequireWeChatUser(http.NotFoundHandler()))
		r := httptest.NewRequest("GET", "https://site.example/account/", nil)
		r.Header.Set("User-Agent", wechatUA)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		cs := loginCookies(w)
		if len(cs) != 1 {
			t.Fatalf("session cookie Secure=%v: %d login cookies, want 1", secure, len(cs))
		}
		if c := cs[0]; !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly {
			t.Errorf("session cookie Secure=%v: login cookie %q Secure=%v Path=%q Domain=%q HttpOnly=%v; want __Host-, Secure, Path=/, no Domain, HttpOnly",
				secure, c.Name, c.Secure, c.Path, c.Domain, c.HttpOnly)
		}
	}
}

// Logins started at once by one browser, each unaware of the others (a
// page with several protected frames, tabs restored together), leave
// what a server takes in one Cookie header, however long their pages'
// URLs. It prints the figures of BENCHMARKS.md.
func TestLoginsStartedAtOnceStayWithinACookieHeader(t *testing.T) {
	const tabs = 8
	h := newHarness(t, nil)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(h.app.URL)
	page := "/account/" + strings.Repeat("p", 640) + "?" + strings.Repeat("utm_campaign=spring&", 65) // 1,955 bytes
	for i := 0; i < tabs; i++ {
		// Each start is sent before any answer came back: none carries
		// the cookies of the others.
		r := httptest.NewRequest("GET", h.app.URL+page+strconv.Itoa(i), nil)
		r.Header.Set("User-Agent", wechatUA)
		w := httptest.NewRecorder()
		h.app.Config.Handler.ServeHTTP(w, r)
		if w.Code != http.StatusFound {
			t.Fatalf("start %d: status %d, want 302", i, w.Code)
		}
		jar.SetCookies(u, (&http.Response{Header: w.Header()}).Cookies())
	}
	n, size := 0, 0
	for _, c := range jar.Cookies(u) {
		if strings.Contains(c.Name, "wechatauth-login-") {
			n++
			size += len(c.Name) + 1 + len(c.Value) + 2
		}
	}
	t.Logf("%d logins started at once from %d-byte URLs: %d login cookies, %d bytes of Cookie header", tabs, len(page)+1, n, size)
	if size > 8192-1024 {
		t.Errorf("login cookies: %d bytes of Cookie header; want room left under the 8 KB a server such as nginx takes by default", size)
	}
}

// A response deletes a bounded number of login cookies, whatever the
// request carries.
func TestHostileCookieFloodGetsABoundedAnswer(t *testing.T) {
	const fakes = 3000
	h := newHarness(t, nil)
	r := httptest.NewRequest("GET", h.app.URL+"/account/", nil)
	r.Header.Set("User-Agent", wechatUA)
	var cookie strings.Builder
	for i := 0; i < fakes; i++ {
		if i > 0 {
			cookie.WriteString("; ")
		}
		cookie.WriteString("wechatauth-login-" + strconv.Itoa(1000000000000000+i) + "=x")
	}
	r.Header.Set("Cookie", cookie.String())
	w := httptest.NewRecorder()
	h.app.Config.Handler.ServeHTTP(w, r)
	sets, bytes := 0, 0
	for _, sc := range w.Header().Values("Set-Cookie") {
		sets++
		bytes += len(sc)
	}
	t.Logf("a request with %d fake login cookies (%d bytes): %d Set-Cookie, %d bytes", fakes, cookie.Len(), sets, bytes)
	if w.Code != http.StatusFound || sets > 10 {
		t.Errorf("status %d with %d Set-Cookie; want 302 with at most 10", w.Code, sets)
	}
}
