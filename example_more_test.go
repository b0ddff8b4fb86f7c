package wechatauth_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// exampleApp wires an Auth on the emulator wx with o's extra options and
// mounts page behind wrap; it returns the whole handler.
func exampleApp(wx *wechattest.Server, o wechatauth.Options, wrap func(*wechatauth.Auth, http.Handler) http.Handler) http.Handler {
	sessions := scs.New()
	o.AppID, o.AppSecret, o.CallbackURL = wx.AppID, wx.AppSecret, "http://app.example/wechat/callback"
	o.Sessions, o.Endpoints, o.HTTPClient = sessions, wx.Endpoints(), wx.Client()
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	auth, err := wechatauth.New(o)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/", wrap(auth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "%s %s", u.OpenID, u.Nickname)
	})))
	return sessions.LoadAndSave(mux)
}

// OnLogin runs once a login, before the browser goes back to the page:
// here it makes the application's own account, and could refuse.
func ExampleOptions_onLogin() {
	wx := wechattest.NewServer()
	defer wx.Close()
	accounts := map[string]int{} // the application's own
	app := exampleApp(wx, wechatauth.Options{
		OnLogin: func(r *http.Request, u wechatauth.User) error {
			if _, ok := accounts[u.OpenID]; !ok {
				accounts[u.OpenID] = len(accounts) + 1
				fmt.Println("new account", accounts[u.OpenID], "for", u.OpenID)
			}
			return nil // an error here refuses the login with a 403
		},
	}, (*wechatauth.Auth).RequireWeChatUser)

	req := httptest.NewRequest("GET", "/orders", nil)
	if err := wx.LogIn(app, req, "oAlice"); err != nil {
		fmt.Println(err)
	}
	// Output: new account 1 for oAlice
}

// The debug login, for a desktop browser without WeChat, logs in as
// DebugUser with the profile pages show.
func ExampleOptions_debugUser() {
	wx := wechattest.NewServer()
	defer wx.Close()
	app := exampleApp(wx, wechatauth.Options{
		DebugBypass: true, // never in production
		DebugUser:   wechatauth.User{OpenID: "oDeveloper", Nickname: "开发者", HeadImgURL: "https://example.com/me.png"},
	}, (*wechatauth.Auth).RequireWeChatUser)

	req := httptest.NewRequest("GET", "http://app.example/account/", nil)
	req.RemoteAddr = "127.0.0.1:50000" // the debug login answers the developer's own browser
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output: oDeveloper 开发者
}

// One route asks for the profile in an app that logs in with the openid
// alone everywhere else.
func ExampleAuth_RequireScope() {
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.AddUser(wechattest.User{OpenID: "oAlice", Nickname: "Alice"})
	app := exampleApp(wx, wechatauth.Options{Scope: wechatauth.ScopeBase}, func(auth *wechatauth.Auth, page http.Handler) http.Handler {
		return auth.RequireScope(wechatauth.ScopeUserInfo, page)
	})

	req := httptest.NewRequest("GET", "/profile", nil)
	if err := wx.LogIn(app, req, "oAlice"); err != nil {
		fmt.Println(err)
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String(), wx.Calls("/sns/userinfo"))
	// Output: oAlice Alice 1
}
