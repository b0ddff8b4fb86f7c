package jssdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/wechattest"
)

// A third-party platform signs the pages of each Official Account that
// authorized it with one handler: every account has its own site here,
// and its pages get wx.config with its own appId, signed with its own
// jsapi_ticket (the platform's JSAPITickets).
func ExampleAccounts() {
	wx := wechattest.NewServer() // WeChat, emulated
	defer wx.Close()
	var platform *component.Platform
	push := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		platform.PushHandler().ServeHTTP(w, r)
	}))
	defer push.Close()
	platform, err := component.New(component.Options{
		AppID: wx.ComponentAppID, AppSecret: wx.ComponentSecret,
		Token: wx.ComponentToken, EncodingAESKey: wx.ComponentAESKey,
		APIURL: wx.URL, HTTPClient: wx.Client(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// WeChat pushes the verify ticket, and the two accounts authorize
	// the platform: the push handler keeps their refresh tokens.
	wx.PushVerifyTicket(push.URL)
	wx.PushAuthorization(push.URL, component.InfoAuthorized, "wx00000000000000a1")
	wx.PushAuthorization(push.URL, component.InfoAuthorized, "wx00000000000000a2")

	sites := map[string]string{ // host → the account it belongs to
		"shop-a.example.com": "wx00000000000000a1",
		"shop-b.example.com": "wx00000000000000a2",
	}
	accounts := &jssdk.Accounts{
		Account: func(r *http.Request) string { return sites[r.Host] },
		New: func(appID string) (*jssdk.Signer, error) {
			return jssdk.New(jssdk.Options{
				AppID:   appID,
				Tickets: platform.JSAPITickets(appID),
				Origins: []string{"https://shop-a.example.com", "https://shop-b.example.com"},
				APIs:    []string{"updateAppMessageShareData"},
			})
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/wechat/jssdk", accounts.Handler())
	mux.Handle("GET /wechat/jssdk.js", accounts.ScriptHandler())

	for _, host := range []string{"shop-a.example.com", "shop-b.example.com", "unknown.example.com"} {
		page := "https://" + host + "/item/1"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "https://"+host+"/wechat/jssdk?url="+url.QueryEscape(page), nil))
		if w.Code != http.StatusOK {
			fmt.Println(host, w.Code, w.Body.String())
			continue
		}
		var c jssdk.Config
		json.Unmarshal(w.Body.Bytes(), &c)
		fmt.Println(host, w.Code, c.AppID)
	}

	// An account that never authorized the platform has no ticket, and
	// WeChat is not asked.
	_, err = platform.JSAPITickets("wx00000000000000a3").Ticket(context.Background())
	fmt.Println(errors.Is(err, component.ErrNotAuthorized))
	// Output:
	// shop-a.example.com 200 wx00000000000000a1
	// shop-b.example.com 200 wx00000000000000a2
	// unknown.example.com 404 {"error":"jssdk: this page belongs to no Official Account whose pages are signed here"}
	// true
}
