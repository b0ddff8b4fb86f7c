package wecom_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
	"github.com/wechatauth/wechatauth/wecom"
)

// An Official Account's Auth and a WeCom Auth on one site, with one
// SessionManager and one CallbackStore: each keeps its user under its
// own session key and login cookies, a login of one is no login of the
// other, and logging out of one leaves the other.
func TestOfficialAccountAndWeComOnOneSite(t *testing.T) {
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appURL := "http://" + ln.Addr().String()
	sessions := scs.New()
	store := wechatauth.NewMemoryStore()
	oa, err := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: appURL + "/wechat/callback",
		Sessions: sessions, Users: store, Tokens: store, Callbacks: store,
		HTTPClient: wx.Client(), Endpoints: wx.Endpoints(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	wc, err := wecom.New(wecom.Options{
		CorpID: wx.CorpID, AgentID: wx.AgentID, Secret: wx.CorpSecret, CallbackURL: appURL + "/wecom/callback",
		Sessions: sessions, Callbacks: store,
		HTTPClient: wx.Client(), Endpoints: wx.WeComEndpoints(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/wechat/callback", oa.CallbackHandler())
	mux.Handle("/wecom/callback", wc.CallbackHandler())
	mux.Handle("/customers/", oa.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		_, member := wecom.MemberFrom(r)
		fmt.Fprintf(w, "openid=%s member-here=%t", u.OpenID, member)
	})))
	mux.Handle("/staff/", wc.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := wecom.MemberFrom(r)
		_, user := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "userid=%s user-here=%t", m.UserID, user)
	})))
	mux.HandleFunc("/who", func(w http.ResponseWriter, r *http.Request) {
		u, _ := oa.CurrentUser(r)
		m, _ := wc.CurrentMember(r)
		fmt.Fprintf(w, "openid=%s userid=%s", u.OpenID, m.UserID)
	})
	mux.HandleFunc("/staff-logout", func(w http.ResponseWriter, r *http.Request) { wc.Logout(r) })
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	t.Cleanup(app.Close)
	h := &harness{t: t, wx: wx, app: app, opts: wecom.Options{CallbackURL: appURL + "/wecom/callback", Sessions: sessions}}

	// One browser, WeCom's (whose User-Agent also says MicroMessenger, so
	// the Official Account's authorize page serves it too).
	c := h.browser(true)
	if _, body := h.get(c, "/staff/"); body != "userid=zhangsan user-here=false" {
		t.Fatalf("staff page: %q", body)
	}
	if _, body := h.get(c, "/who"); body != "openid= userid=zhangsan" {
		t.Errorf("after the WeCom login: %q; want no Official Account user", body)
	}
	stop := h.browser(false)
	stop.Jar = c.Jar
	if resp, _ := h.get(stop, "/customers/"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), wx.Endpoints().Authorize) {
		t.Errorf("the member is taken for an Official Account user: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := h.get(c, "/customers/"); body != "openid=oTestUser0000000000000000001 member-here=false" {
		t.Fatalf("customer page: %q", body)
	}
	if _, body := h.get(c, "/who"); body != "openid=oTestUser0000000000000000001 userid=zhangsan" {
		t.Errorf("both logged in: %q", body)
	}
	h.get(c, "/staff-logout")
	if _, body := h.get(c, "/who"); body != "openid=oTestUser0000000000000000001 userid=" {
		t.Errorf("after the WeCom logout: %q; want the Official Account's login kept", body)
	}
}
