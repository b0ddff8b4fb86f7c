package wechatauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
)

// Each test here makes one of the mistakes a new user makes by accident
// and checks that the answer names the cause and the fix.

// stripPrefix stands for a proxy in front of the app that strips prefix
// from every path, the request line's included.
func stripPrefix(prefix string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.TrimPrefix(r.URL.Path, prefix)
		r.RequestURI = strings.TrimPrefix(r.RequestURI, prefix)
		h.ServeHTTP(w, r)
	})
}

func TestCallbackPathRewrittenInFrontIsNamed(t *testing.T) {
	// CallbackURL is /app/wechat/callback and the callback is mounted
	// there, but a proxy strips /app: WeChat's redirect back lands on the
	// public page, which asks CurrentUser. Its state is one of the site's:
	// certain evidence, said at the first login, once.
	h := newHarness(t, func(o *wechatauth.Options) {
		o.CallbackURL = strings.Replace(o.CallbackURL, "/wechat/callback", "/app/wechat/callback", 1)
	})
	inner := http.NewServeMux()
	inner.Handle("GET /app/wechat/callback", h.auth.CallbackHandler())
	inner.Handle("/account/", h.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	inner.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, ok := h.auth.CurrentUser(r)
		fmt.Fprintf(w, "public page, logged in: %v", ok)
	})
	h.mux.Handle("/app/", stripPrefix("/app", inner))
	resp, body := h.get(h.browser(true), "/app/account/")
	if resp.Request.URL.Path != "/app/wechat/callback" || body != "public page, logged in: false" {
		t.Fatalf("ended at %s with %q; want the public page at the callback's URL", resp.Request.URL, body)
	}
	logs := h.logs.String()
	for _, want := range []string{
		"level=WARN msg=\"wechatauth: WeChat sent the browser back to /wechat/callback, which is not the path of Options.CallbackURL (/app/wechat/callback)",
		"either the callback is not mounted at CallbackURL's path, or a proxy or router in front of the app strips or rewrites the path",
		"mount auth.CallbackHandler() at /app/wechat/callback",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q after one login: %s", want, logs)
		}
	}
	h.get(h.browser(true), "/app/account/")
	if n := strings.Count(h.logs.String(), "strips or rewrites the path"); n != 1 {
		t.Errorf("warned %d times, want once", n)
	}
}

func TestCallbackPathRewrittenInFrontIsNamedOnThePage(t *testing.T) {
	// A proxy strips /app from every path, so WeChat's redirect to
	// /app/wechat/callback reaches the app as /wechat/callback, where the
	// router wrapped in RequireWeChatUser takes it for a page. Another round
	// trip would come back the same way: the browser gets the page that
	// says the site is misconfigured, and the log the causes.
	h := newHarness(t, func(o *wechatauth.Options) {
		o.CallbackURL = strings.Replace(o.CallbackURL, "/wechat/callback", "/app/wechat/callback", 1)
		o.DebugBypass = true // a developer's setup: the page names the fix too
	})
	inner := http.NewServeMux()
	inner.Handle("GET /app/wechat/callback", h.auth.CallbackHandler())
	inner.Handle("/", h.auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("page"))
	})))
	h.mux.Handle("/app/", stripPrefix("/app", inner))

	// A state of another browser's login proves nothing: a link made by
	// someone else is a page like any other.
	resp, _ := h.step(h.browser(false), "/app/orders", http.StatusFound)
	toWeChat, _ := url.Parse(resp.Header.Get("Location"))
	forged := "/app/wechat/callback?code=c0de&state=" + toWeChat.Query().Get("state")
	if resp, body := h.get(h.browser(false), forged); resp.StatusCode != http.StatusFound || strings.Contains(h.logs.String(), "is not the path of Options.CallbackURL") {
		t.Fatalf("another browser's state: status %d, body %q, log %s; want a login started and nothing said", resp.StatusCode, body, h.logs.String())
	}

	resp, body := h.get(h.browser(true), "/app/orders")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "本站的微信登录配置有误") || !strings.Contains(body, "strips or rewrites the path") {
		t.Errorf("status %d, body %q; want 500, the misconfigured page naming the fix", resp.StatusCode, body)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "WeChat sent the browser back to /wechat/callback, which is not the path of Options.CallbackURL (/app/wechat/callback)") || !strings.Contains(logs, "mount auth.CallbackHandler() at /app/wechat/callback") {
		t.Errorf("log does not name the cause and the fix: %s", logs)
	}
}

func TestAbandonedLoginsAreNotTakenForAnUnmountedCallback(t *testing.T) {
	h := newHarness(t, nil)
	// Logins that go to WeChat and never come back (a closed tab at the
	// consent page, a crawler, a curl) prove nothing about the callback.
	for i := 0; i < 5; i++ {
		c := h.browser(false)
		resp, _ := h.step(c, "/account/", http.StatusFound)
		h.get(c, resp.Header.Get("Location")) // to WeChat, and no further
	}
	if logs := h.logs.String(); strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("abandoned logins were warned of: %s", logs)
	}
}

func TestStripPrefixInFrontStillReturnsToThePage(t *testing.T) {
	h := newHarness(t, nil)
	// The whole app mounted under /app/, as a sub-router does.
	inner := http.NewServeMux()
	o := h.opts
	o.CallbackURL = h.app.URL + "/app/wechat/callback"
	o.Sessions = scs.New()
	auth, err := wechatauth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	inner.Handle("GET /wechat/callback", auth.CallbackHandler())
	inner.Handle("/orders/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		w.Write([]byte("orders of " + u.OpenID))
	})))
	h.mux.Handle("/app/", o.Sessions.LoadAndSave(http.StripPrefix("/app", inner)))
	c := h.browser(true)
	resp, body := h.get(c, "/app/orders/7?x=1")
	if resp.StatusCode != http.StatusOK || body != "orders of oTestUser0000000000000000001" || resp.Request.URL.RequestURI() != "/app/orders/7?x=1" {
		t.Errorf("login under StripPrefix: status %d at %s, body %q; want the page /app/orders/7?x=1", resp.StatusCode, resp.Request.URL, body)
	}
}

func TestCookieThatDoesNotComeBackIsNamed(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) {
		o.DebugBypass = true // a developer's setup: the page names the fix too
	})
	// The developer opens the app as localhost while CallbackURL says
	// 127.0.0.1: the login's cookie stays with localhost.
	c := h.browser(false)
	start := strings.Replace(h.app.URL, "127.0.0.1", "localhost", 1) + "/account/"
	resp, _ := h.step(c, start, http.StatusFound)
	resp, _ = h.step(c, resp.Header.Get("Location"), http.StatusFound)
	resp, body := h.get(c, resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "did not send the login back") {
		t.Fatalf("status %d, body %q; want 400 saying the login did not come back", resp.StatusCode, body)
	}
	const fix = "the page that started the login is on another host than Options.CallbackURL"
	if !strings.Contains(h.logs.String(), fix) {
		t.Errorf("log does not name the fix: %s", h.logs.String())
	}
	if !strings.Contains(body, `id="developer"`) || !strings.Contains(body, "open the site at that origin") {
		t.Errorf("debug-mode page does not name the fix: %q", body)
	}

	// A Secure cookie with an http CallbackURL never comes back: New says so.
	var logs syncBuffer
	o := validOptions()
	o.CallbackURL, o.Logger = "http://example.com/wechat/callback", slog.New(slog.NewTextHandler(&logs, nil))
	o.Sessions.Cookie.Secure = true
	if _, err := wechatauth.New(o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "Sessions.Cookie.Secure is set but Options.CallbackURL is http") {
		t.Errorf("New did not warn: %s", logs.String())
	}
}

func TestCookieSettingsThatCannotWorkAreRefusedByNew(t *testing.T) {
	cases := []struct {
		name   string
		change func(*scs.SessionManager)
		want   string
	}{
		{"SameSite=None without Secure", func(s *scs.SessionManager) { s.Cookie.SameSite = http.SameSiteNoneMode }, "use http.SameSiteLaxMode"},
		{"Domain of another site", func(s *scs.SessionManager) { s.Cookie.Domain = "other.example" }, `set Cookie.Domain to "example.com"`},
		{"Path that misses the callback", func(s *scs.SessionManager) { s.Cookie.Path = "/account" }, `use Cookie.Path "/"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.change(o.Sessions)
			_, err := wechatauth.New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error naming the fix %q", err, tc.want)
			}
		})
	}
	o := validOptions()
	o.Sessions.Cookie.Domain = ".example.com"
	if _, err := wechatauth.New(o); err != nil {
		t.Errorf("a parent Domain: %v", err)
	}
}

func TestHTTPSCallbackOnAPlainHTTPAppIsNamed(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.CallbackURL = "https://example.com/wechat/callback" })
	h.get(h.browser(false), "/account/")
	if logs := h.logs.String(); !strings.Contains(logs, "reached the app over plain http through no proxy") || !strings.Contains(logs, "put TLS in front of the app") {
		t.Errorf("log does not name the fix: %s", logs)
	}
	// Behind a proxy that ends TLS, nothing is said.
	h2 := newHarness(t, func(o *wechatauth.Options) { o.CallbackURL = "https://example.com/wechat/callback" })
	h2.do(h2.browser(false), "GET", "/account/", http.Header{"X-Forwarded-Proto": {"https"}})
	if strings.Contains(h2.logs.String(), "plain http") {
		t.Errorf("warned behind a TLS proxy: %s", h2.logs.String())
	}
}

func TestWrongAppSecretIsTheSitesFault(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.AppSecret = "not-the-secret" })
	resp, body := h.get(h.browser(true), "/account/")
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "misconfigured") || strings.Contains(body, "Try again in a moment") {
		t.Errorf("status %d, body %q; want 500 saying the site is misconfigured", resp.StatusCode, body)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "errcode=40125") || !strings.Contains(logs, "check Options.AppSecret") {
		t.Errorf("log does not name the setting: %s", logs)
	}
	if strings.Contains(body+h.logs.String(), "not-the-secret") {
		t.Error("the secret reached the page or the log")
	}
}

func TestFailedAPIRequestsGetJSON(t *testing.T) {
	h := newHarness(t, nil)
	broken := errorStore{}
	h.opts.Sessions.Store = broken
	h.opts.Sessions.ErrorFunc = h.auth.SessionStoreError
	req := httptest.NewRequest("GET", "/account/orders", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(&http.Cookie{Name: "session", Value: "some-token"})
	rec := httptest.NewRecorder()
	h.app.Config.Handler.ServeHTTP(rec, req)
	var got struct {
		Error, Message string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusServiceUnavailable || got.Error != "wechat_login_failed" || got.Message == "" {
		t.Errorf("status %d, %s body %q; want 503 JSON {error, message}", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

// errorStore is a session store that is down.
type errorStore struct{}

func (errorStore) Find(string) ([]byte, bool, error)      { return nil, false, errors.New("store down") }
func (errorStore) Commit(string, []byte, time.Time) error { return errors.New("store down") }
func (errorStore) Delete(string) error                    { return errors.New("store down") }
