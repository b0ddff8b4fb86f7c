package jssdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

func ExampleSignature() {
	// The worked example of WeChat's JS-SDK documentation (appendix 1).
	fmt.Println(jssdk.Signature(
		"sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
		"Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value"))
	// Output: 0f9de62fce790f9a083d5c99e95740ceb90c27ed
}

func ExampleNew() {
	wx := wechattest.NewServer() // WeChat, emulated
	defer wx.Close()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}

	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{})
	signer, err := jssdk.New(jssdk.Options{
		AppID:   client.AppID,
		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{}),
		Origins: []string{"https://example.com"},
		APIs:    []string{"getLocation"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /wechat/jssdk", signer.Handler())

	// What the page script asks for: the config of its own URL.
	page := "https://example.com/account/?from=singlemessage&isappinstalled=0"
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/wechat/jssdk?url="+url.QueryEscape(page), nil))
	var c jssdk.Config
	json.Unmarshal(w.Body.Bytes(), &c)
	fmt.Println(w.Code, c.AppID == wx.AppID, c.JSAPIList)

	// Another origin is refused, and the answer says why.
	w = httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest("GET", "/wechat/jssdk?url="+url.QueryEscape("https://evil.example/"), nil))
	fmt.Println(w.Code, w.Body.String())
	// Output:
	// 200 true [getLocation]
	// 400 {"error":"jssdk: the page URL cannot be signed: the origin \"https://evil.example\" is not one of Options.Origins (https://example.com): sign only pages of this site, and list each JS安全域名 there"}
}

func ExampleSigner_Sign() {
	wx := wechattest.NewServer()
	defer wx.Close()
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{})
	signer, err := jssdk.New(jssdk.Options{
		AppID:   client.AppID,
		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{}),
		Origins: []string{"https://example.com"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A page rendered on the server signs its own public URL (the site's
	// origin and r.URL.RequestURI(), never r.Host), then puts the config
	// into the page for wx.config.
	c, err := signer.Sign(context.Background(), "https://example.com/article/42?from=timeline")
	if err != nil {
		fmt.Println(err)
		return
	}
	c.JSAPIList = []string{"updateAppMessageShareData"}

	// The emulator checks the signature as WeChat's client would.
	body, _ := json.Marshal(map[string]any{"appId": c.AppID, "timestamp": c.Timestamp, "nonceStr": c.NonceStr,
		"signature": c.Signature, "url": "https://example.com/article/42?from=timeline"})
	resp, err := wx.Client().Post(wx.URL+"/open/js/verify", "text/plain", bytes.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var res struct{ ErrMsg string }
	json.NewDecoder(resp.Body).Decode(&res)
	fmt.Println(res.ErrMsg)
	// Output: config:ok
}
