package wechatauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// The mistakes here used to pass without a word, or under a wrong name.

func TestUserFromOutsideRequireWeChatUserIsSaidInDebugMode(t *testing.T) {
	for _, debug := range []bool{true, false} {
		var calls int
		h := newHarness(t, func(o *wechatauth.Options) {
			o.DebugBypass = debug
			// A hook the Auth hands a request to that it did not let
			// through: UserFrom finds nobody there.
			o.OnEvent = func(r *http.Request, e wechatauth.Event) {
				if _, ok := wechatauth.UserFrom(r); !ok {
					calls++
				}
			}
		})
		h.login("/account/") // UserFrom inside RequireWeChatUser: ok, and nothing said
		h.login("/account/")
		const want = "UserFrom was called on a request that RequireWeChatUser did not let through"
		logs := h.logs.String()
		switch {
		case calls < 2:
			t.Fatalf("debug %v: UserFrom returned no user %d times in OnEvent, want at least 2", debug, calls)
		case debug && strings.Count(logs, want) != 1:
			t.Errorf("debug mode: got %d warnings, want 1: %s", strings.Count(logs, want), logs)
		case debug && !strings.Contains(logs, "level=WARN msg=\"wechatauth: "+want) || debug && !strings.Contains(logs, "use auth.CurrentUser(r)"):
			t.Errorf("debug mode: the warning does not name the fix: %s", logs)
		case !debug && strings.Contains(logs, want):
			t.Errorf("without debug mode: warned: %s", logs)
		}
	}
	// Inside RequireWeChatUser, in debug mode, nothing is said.
	h := newHarness(t, func(o *wechatauth.Options) { o.DebugBypass = true })
	h.login("/account/")
	if strings.Contains(h.logs.String(), "UserFrom was called") {
		t.Errorf("warned inside RequireWeChatUser: %s", h.logs.String())
	}
}

func TestSnapshotVisitorIsNotALoginFailure(t *testing.T) {
	h := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	snap := wechattest.User{OpenID: "oSnapReal", Snapshot: true}
	h.wx.AddUser(snap)
	h.wx.SetVisitor(snap.OpenID)
	if resp, _ := h.get(h.browser(true), "/account/"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want the 403 page of a snapshot visitor", resp.StatusCode)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `level=INFO msg="wechatauth: snapshot-mode visitor`) || !strings.Contains(logs, "status=403") {
		t.Errorf("log does not name the snapshot-mode visitor at info level: %s", logs)
	}
	if strings.Contains(logs, "login failed") || strings.Contains(logs, "level=WARN") {
		t.Errorf("a snapshot-mode visitor was logged as a failure: %s", logs)
	}
}

func TestSessionStoreOutageIsNamed(t *testing.T) {
	h := newHarness(t, nil)
	h.opts.Sessions.Store = errorStore{}
	h.opts.Sessions.ErrorFunc = h.auth.SessionStoreError
	req := httptest.NewRequest("GET", "/account/orders", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "some-token"})
	rec := httptest.NewRecorder()
	h.app.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, `level=ERROR msg="wechatauth: session store unavailable"`) || !strings.Contains(logs, "Options.Sessions.Store") || !strings.Contains(logs, "check that it is running and that this instance reaches it") {
		t.Errorf("log does not name the session store and what to check: %s", logs)
	}
	if strings.Contains(logs, "login failed") {
		t.Errorf("a session store outage was logged as a failed login: %s", logs)
	}
}

// han reports whether s holds a Chinese character.
func han(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

// checkChineseFirst checks every bilingual text of a page, "中文 · English":
// the Chinese comes first.
func checkChineseFirst(t *testing.T, name, page string) {
	t.Helper()
	texts := regexp.MustCompile(`>([^<]*)<`).FindAllStringSubmatch(page, -1)
	var pairs int
	for _, m := range texts {
		text := strings.TrimSpace(m[1])
		if !strings.Contains(text, " · ") {
			continue
		}
		pairs++
		parts := strings.Split(text, " · ")
		if first, last := parts[0], parts[len(parts)-1]; !han(first) || !unicode.IsLetter(rune(last[0])) || rune(last[0]) > unicode.MaxASCII {
			t.Errorf("%s: %q: want the Chinese first, then the English", name, text)
		}
	}
	if pairs == 0 {
		t.Errorf("%s: no bilingual text in %q", name, page)
	}
}

func TestEveryPageIsChineseFirst(t *testing.T) {
	h := newHarness(t, nil)
	_, bad := h.get(h.browser(false), "/wechat/callback?code=c&state=not-ours")
	checkChineseFirst(t, "invalid state", bad)

	h.wx.SetMode(wechattest.Refuse)
	_, refused := h.get(h.browser(true), "/account/")
	checkChineseFirst(t, "refused", refused)
	h.wx.SetMode(wechattest.AutoApprove)

	hs := newHarness(t, func(o *wechatauth.Options) { o.Scope = wechatauth.ScopeUserInfo })
	hs.wx.AddUser(wechattest.User{OpenID: "oSnap", Snapshot: true})
	hs.wx.SetVisitor("oSnap")
	_, snapshot := hs.get(hs.browser(true), "/account/")
	checkChineseFirst(t, "snapshot", snapshot)

	h.opts.Sessions.Store = errorStore{}
	h.opts.Sessions.ErrorFunc = h.auth.SessionStoreError
	for _, accept := range []string{"text/html", "application/json"} {
		req := httptest.NewRequest("GET", "/account/", nil)
		req.Header.Set("Accept", accept)
		req.AddCookie(&http.Cookie{Name: "session", Value: "some-token"})
		rec := httptest.NewRecorder()
		h.app.Config.Handler.ServeHTTP(rec, req)
		if accept == "text/html" {
			checkChineseFirst(t, "unavailable", rec.Body.String())
			continue
		}
		var got struct{ Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		checkChineseFirst(t, "JSON message", ">"+got.Message+"<")
	}

	// The open-in-WeChat page, for browsers outside WeChat.
	opts := validOptions()
	auth, err := wechatauth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/account/", nil)
	req.Header.Set("Accept", "text/html")
	opts.Sessions.LoadAndSave(auth.RequireWeChatUser(http.NotFoundHandler())).ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	open := string(body)
	checkChineseFirst(t, "open in WeChat", open)
	if zh, en := strings.Index(open, "此页面需要微信登录"), strings.Index(open, "This page needs a WeChat login"); zh < 0 || en < zh {
		t.Errorf("open in WeChat: the Chinese advice does not come first: %q", open)
	}
}
