package wechatauth_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/wechattest"
)

// A protected page, logged in to through the WeChat emulator: the visitor
// is sent to WeChat, comes back to the callback and lands on the page.
func ExampleAuth_RequireWeChatUser() {
	wx := wechattest.NewServer() // stands in for WeChat
	defer wx.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	site := "http://" + ln.Addr().String()

	sessions := scs.New()
	auth, err := wechatauth.New(wechatauth.Options{
		AppID:       wx.AppID,
		AppSecret:   wx.AppSecret,
		CallbackURL: site + "/wechat/callback",
		Scope:       wechatauth.ScopeUserInfo,
		Sessions:    sessions,
		Endpoints:   wx.Endpoints(), // leave out for the real WeChat
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := wechatauth.UserFrom(r)
		if !ok { // only outside RequireWeChatUser; see CurrentUser
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "Hello, %s (%s)", u.Nickname, r.URL.Path)
	})))
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(site + "/account/orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))
	// Output: Hello, 测试用户 (/account/orders)
}

// New checks every option and reports all problems at once, each naming
// the field and the fix.
func ExampleNew() {
	_, err := wechatauth.New(wechatauth.Options{
		AppID:       "wx0123456789abcdef",
		CallbackURL: "/wechat/callback",
		Sessions:    scs.New(),
	})
	fmt.Println(err)
	// Output:
	// wechatauth: Options.AppSecret: required: the AppSecret of your Official Account (read it from the environment, not the source)
	// wechatauth: Options.CallbackURL: must be an absolute http(s) URL without user, query or fragment, such as "https://example.com/wechat/callback"; got "/wechat/callback"
}

// UserFrom reads the user from the session inside a protected handler.
// Here the debug login stands in for WeChat.
func ExampleUserFrom() {
	sessions := scs.New()
	auth, _ := wechatauth.New(wechatauth.Options{
		AppID:       "wx0123456789abcdef",
		AppSecret:   "from-the-environment",
		CallbackURL: "https://example.com/wechat/callback",
		Sessions:    sessions,
		DebugBypass: true, // never in production
		DebugUser:   wechatauth.User{OpenID: "oDeveloper"},
	})
	profile := auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "openid %s, logged in %v", u.OpenID, ok)
	}))

	req := httptest.NewRequest("GET", "/profile", nil)
	req.RemoteAddr = "127.0.0.1:50000" // the debug login is for loopback clients
	rec := httptest.NewRecorder()
	sessions.LoadAndSave(profile).ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output: openid oDeveloper, logged in true
}

// The callback, mounted on the path of Options.CallbackURL. A callback
// that WeChat delivers twice, here with the same code, ends logged in both
// times after one code exchange.
func ExampleAuth_CallbackHandler() {
	wx := wechattest.NewServer()
	defer wx.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	site := "http://" + ln.Addr().String()
	sessions := scs.New()
	auth, _ := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(),
		CallbackURL: site + "/wechat/callback",
		Sessions:    sessions,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/orders/", auth.RequireWeChatUser(http.NotFoundHandler()))
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	defer app.Close()

	// A browser that stops at each redirect.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := browser.Get(site + "/orders/7")         // to WeChat
	resp, _ = browser.Get(resp.Header.Get("Location")) // WeChat approves: to the callback
	callback := resp.Header.Get("Location")
	for i := 0; i < 2; i++ {
		resp, _ = browser.Get(callback)
		fmt.Println(resp.StatusCode, resp.Header.Get("Location"))
	}
	fmt.Println("code exchanges:", wx.Calls("/sns/oauth2/access_token"))
	// Output:
	// 302 /orders/7
	// 302 /orders/7
	// code exchanges: 1
}
