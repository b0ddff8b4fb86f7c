package wechatauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
)

const (
	desktopUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
	wechatUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003127) NetType/WIFI Language/zh_CN"
)

func TestOutsideWeChatOpenInWeChatPage(t *testing.T) {
	h := newHarness(t, nil)
	wechatauth.ShowOpenInWeChat(h.auth) // the page production endpoints get, with the emulator's
	resp, body := h.do(h.browser(false), "GET", "/account/orders?id=7", http.Header{"User-Agent": {desktopUA}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<svg id="qr"`) || !strings.Contains(body, "微信") {
		t.Fatalf("desktop browser: status %d, body %q; want the open-in-WeChat page with a QR code", resp.StatusCode, body)
	}
	if want := `<code id="url">` + h.app.URL + "/account/orders?id=7</code>"; !strings.Contains(body, want) {
		t.Errorf("page lacks %q", want)
	}
	if got := h.wx.Calls("/connect/oauth2/authorize"); got != 0 {
		t.Errorf("authorize calls: got %d, want 0", got)
	}
	// Inside WeChat the same page goes to the authorize page.
	resp, body = h.do(h.browser(true), "GET", "/account/orders?id=7", http.Header{"User-Agent": {wechatUA}})
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "path=/account/orders?id=7 openid=oTestUser") {
		t.Errorf("WeChat browser: status %d, body %q; want logged in", resp.StatusCode, body)
	}
}

func TestOutsideWeChatDefaults(t *testing.T) {
	production := func(o wechatauth.Options) *httptest.ResponseRecorder {
		t.Helper()
		sessions := scs.New()
		o.AppID, o.AppSecret, o.CallbackURL, o.Sessions = "wx0123456789abcdef", "secret", "https://example.com/wechat/callback", sessions
		auth, err := wechatauth.New(o)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "https://example.com/account/", nil)
		req.Header.Set("User-Agent", desktopUA)
		rec := httptest.NewRecorder()
		sessions.LoadAndSave(auth.RequireWeChatUser(http.NotFoundHandler())).ServeHTTP(rec, req)
		return rec
	}
	t.Run("no website app: open-in-WeChat page", func(t *testing.T) {
		rec := production(wechatauth.Options{})
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "https://example.com/account/") {
			t.Errorf("status %d, body %q", rec.Code, rec.Body)
		}
	})
	t.Run("website app: QR login", func(t *testing.T) {
		rec := production(wechatauth.Options{WebsiteAppID: "wxfedcba9876543210", WebsiteAppSecret: "web-secret"})
		loc := rec.Header().Get("Location")
		want := mp.DefaultQRConnectURL + "?appid=wxfedcba9876543210&redirect_uri=" + url.QueryEscape("https://example.com/wechat/callback") + "&response_type=code&scope=snsapi_login&state="
		if rec.Code != http.StatusFound || !strings.HasPrefix(loc, want) || !strings.HasSuffix(loc, "#wechat_redirect") {
			t.Errorf("status %d, Location %q; want prefix %q", rec.Code, loc, want)
		}
		if strings.Contains(loc, "web-secret") {
			t.Errorf("Location holds the website app's secret")
		}
	})
}
