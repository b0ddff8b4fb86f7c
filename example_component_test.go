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
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/wechattest"
)

// Component mode: a third-party platform logs users in for the Official
// Accounts that authorized it, here two of the emulator's, one under
// /shop-a/ and one under /shop-b/. Each page gets the user of its own
// account.
func ExampleOptions_component() {
	wx := wechattest.NewServer() // stands in for WeChat and the Open Platform
	defer wx.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	site := "http://" + ln.Addr().String()

	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, // leave out for the real WeChat
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	accounts := wx.Authorizers()
	sessions := scs.New()
	auth, err := wechatauth.New(wechatauth.Options{
		Component: platform,
		Authorizer: wechatauth.AuthorizerByPath(map[string]string{
			"/shop-a/": accounts[0],
			"/shop-b/": accounts[1],
		}),
		CallbackURL: site + "/wechat/callback",
		Sessions:    sessions,
		Endpoints:   wx.Endpoints(), // leave out for the real WeChat
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprintf(w, "%s: a user of %s", r.URL.Path, u.AppID)
	})
	mux := http.NewServeMux()
	mux.Handle("/wechat/push", platform.PushHandler()) // the 授权事件接收URL
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/shop-a/", auth.RequireWeChatUser(page))
	mux.Handle("/shop-b/", auth.RequireWeChatUser(page))
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	defer app.Close()
	if _, err := wx.PushVerifyTicket(site + "/wechat/push"); err != nil { // WeChat does it every 10 minutes
		fmt.Println(err)
		return
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	for _, path := range []string{"/shop-a/orders", "/shop-b/orders"} {
		resp, err := browser.Get(site + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// /shop-a/orders: a user of wx00000000000000a1
	// /shop-b/orders: a user of wx00000000000000a2
}
