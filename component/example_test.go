package component_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/wechattest"
)

// A platform receives WeChat's pushes at its 授权事件接收URL: the verify
// ticket every 10 minutes, and each account's authorization, whose
// refresh token it keeps. Then it has the component_access_token and
// each authorizer's own token and jsapi_ticket.
func ExampleNew() {
	wx := wechattest.NewServer() // stands in for WeChat and the Open Platform
	defer wx.Close()
	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, // leave out for the real WeChat
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	push := httptest.NewServer(platform.PushHandler()) // mount it at the 授权事件接收URL
	defer push.Close()

	ctx := context.Background()
	if _, err := platform.Token(ctx); err != nil {
		fmt.Println("before the first push:", err != nil)
	}
	if _, err := wx.PushVerifyTicket(push.URL); err != nil { // WeChat does it every 10 minutes
		fmt.Println(err)
		return
	}
	account := wx.Authorizers()[0]
	if err := wx.PushAuthorization(push.URL, "authorized", account); err != nil { // an account authorizes the platform
		fmt.Println(err)
		return
	}
	_, err = platform.Token(ctx)
	fmt.Println("component_access_token:", err == nil)
	_, err = platform.AuthorizerTokens(account).Token(ctx)
	fmt.Println("the account's own token:", err == nil)
	_, err = platform.JSAPITickets(account).Ticket(ctx)
	fmt.Println("the account's own jsapi_ticket:", err == nil)
	// Output:
	// before the first push: true
	// component_access_token: true
	// the account's own token: true
	// the account's own jsapi_ticket: true
}
