package wechattest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func ExampleNewServer() {
	wx := wechattest.NewServer()
	defer wx.Close()

	// A code as if the visitor had just approved the authorization.
	code := wx.IssueCode("", "snsapi_base")

	// Exchange it the way a server does, parameters in WeChat's order.
	resp, err := wx.Client().Get(wx.URL + "/sns/oauth2/access_token" +
		"?appid=" + url.QueryEscape(wx.AppID) +
		"&secret=" + url.QueryEscape(wx.AppSecret) +
		"&code=" + url.QueryEscape(code) +
		"&grant_type=authorization_code")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var reply struct {
		OpenID string `json:"openid"`
		Scope  string `json:"scope"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.OpenID, reply.Scope)
	// Output: oTestUser0000000000000000001 snsapi_base
}

func ExampleNewUnstartedServer() {
	// An emulator on an address of your choice, configured before it
	// answers, as cmd/wechatemu runs it.
	wx, err := wechattest.NewUnstartedServer("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer wx.Close()
	wx.AppID = "wx1234567890abcdef"
	wx.SetCallbackDomain("app.example")
	wx.Start()

	// A redirect_uri on another host gets WeChat's 10003 page.
	resp, err := wx.Client().Get(wx.URL + "/connect/oauth2/authorize?appid=wx1234567890abcdef" +
		"&redirect_uri=" + url.QueryEscape("https://pay.example/cb") +
		"&response_type=code&scope=snsapi_base&state=s1")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output: 400
}

func ExampleServer_Menu() {
	wx := wechattest.NewServer()
	defer wx.Close()

	// The account's client, with a global access_token from /cgi-bin/token.
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	ts := mp.NewAccessTokenSource(client, mp.CredentialOptions{})
	menu := mp.Menu{Buttons: []mp.Button{
		{Type: mp.ButtonView, Name: "账户", URL: "https://example.com/account/"},
	}}
	if err := client.CreateMenu(context.Background(), ts, menu); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(wx.Menu()), wx.Calls("/cgi-bin/token"))
	// Output: {"button":[{"type":"view","name":"账户","url":"https://example.com/account/"}]} 1
}

func ExampleServer_WebsiteOpenID() {
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.AddUser(wechattest.User{OpenID: "oAlice", UnionID: "uAlice", Nickname: "Alice"})

	// A website QR login of Alice, exchanged with the website app.
	web := &mp.Client{AppID: wx.WebsiteAppID, AppSecret: wx.WebsiteAppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	tok, err := web.Exchange(context.Background(), wx.IssueCode("oAlice", "snsapi_login"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.OpenID == wx.WebsiteOpenID("oAlice"), tok.OpenID != "oAlice", tok.UnionID, tok.Scope)
	// Output: true true uAlice snsapi_login
}

// LogIn logs a user into a request, so that an application's handler
// behind wechatauth can be tested without WeChat or a browser.
func ExampleServer_LogIn() {
	wx := wechattest.NewServer()
	defer wx.Close()
	sessions := scs.New()
	auth, _ := wechatauth.New(wechatauth.Options{
		AppID: wx.AppID, AppSecret: wx.AppSecret, CallbackURL: "http://app.example/wechat/callback",
		Sessions: sessions, Endpoints: wx.Endpoints(), HTTPClient: wx.Client(),
	})
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/callback", auth.CallbackHandler())
	mux.Handle("/orders", auth.RequireWeChatUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wechatauth.UserFrom(r)
		fmt.Fprint(w, "orders of ", u.OpenID)
	})))
	app := sessions.LoadAndSave(mux)

	req := httptest.NewRequest("GET", "/orders", nil)
	if err := wx.LogIn(app, req, "oAlice"); err != nil { // one line: req now carries oAlice's session
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output: orders of oAlice
}

func ExampleEndpointsFor() {
	// An app in another process than the emulator, pointed at a wechatemu
	// started with -addr 127.0.0.1:9000.
	client := &mp.Client{
		AppID:     "wx0000000000000001",
		AppSecret: "emulator-secret-0000000000000000",
		Endpoints: wechattest.EndpointsFor("http://127.0.0.1:9000"),
	}
	fmt.Println(client.Endpoints.Authorize)
	fmt.Println(client.Endpoints.API)
	fmt.Println(client.Endpoints.JSSDK)
	// Output:
	// http://127.0.0.1:9000/connect/oauth2/authorize
	// http://127.0.0.1:9000
	// http://127.0.0.1:9000/open/js/jweixin-1.6.0.js
}
