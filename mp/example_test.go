package mp_test

import (
	"context"
	"fmt"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// A code from a callback becomes the user's tokens; WeChat's refusals are
// *mp.Error with the errcode named.
func ExampleClient_Exchange() {
	wx := wechattest.NewServer()
	defer wx.Close()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}

	wx.AddUser(wechattest.User{OpenID: "oAlice"})
	code := wx.IssueCode("oAlice", "snsapi_base") // what the callback would bring
	tok, err := client.Exchange(context.Background(), code)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.OpenID, tok.HasScope("snsapi_base"))

	_, err = client.Exchange(context.Background(), code) // a code works once
	if e, ok := err.(*mp.Error); ok {
		fmt.Println(e.Code == mp.CodeCodeUsed)
	}
	// Output:
	// oAlice true
	// true
}

// One access_token source per process (with a shared cache, per fleet)
// serves every cgi-bin call; CreateMenu refetches a token WeChat calls stale.
func ExampleNewAccessTokenSource() {
	wx := wechattest.NewServer()
	defer wx.Close()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Stable: true})

	menu := mp.Menu{Buttons: []mp.Button{{Type: mp.ButtonView, Name: "账户", URL: "https://example.com/account/"}}}
	if err := client.CreateMenu(context.Background(), tokens, menu); err != nil {
		fmt.Println(err)
		return
	}
	t1, _ := tokens.Token(context.Background())
	t2, _ := tokens.Token(context.Background())
	fmt.Println(t1 == t2, wx.Calls("/cgi-bin/stable_token"))
	// Output: true 1
}
