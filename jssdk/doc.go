// Package jssdk signs wx.config for pages inside WeChat that use the
// JS-SDK (share cards, location, scan, images, open tags), over the
// account's jsapi_ticket from package [mp] ([mp.TicketSource]).
//
// A [Signer] answers a page's GET ?url=<location.href> with the JSON that
// wx.config takes, after checking the URL rather than rebuilding it: a URL
// rebuilt on the server (wrong scheme behind a proxy, the API's own path, an
// HTML-escaped "&amp;") is the commonest cause of "invalid signature". Its
// script, served by [Signer.ScriptHandler] and included after jweixin, asks for
// the config of the right URL (the entry URL on iOS, the current one
// elsewhere), signs again after a history.pushState route change, and when
// WeChat answers "invalid signature" tells the server once, which drops the
// cached ticket and fetches a new one, rate-limited.
//
// Wiring, beside the login's [github.com/wechatauth/wechatauth.Auth] (the
// ticket needs the account's access_token, from an
// [mp.AccessTokenSource]):
//
//	client := &mp.Client{AppID: appID, AppSecret: secret}
//	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{})
//	signer, err := jssdk.New(jssdk.Options{
//		AppID:   appID,
//		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{}),
//		Origins: []string{"https://example.com"}, // the origin of wechatauth's CallbackURL
//		APIs:    []string{"updateAppMessageShareData", "getLocation"},
//	})
//	mux.Handle("GET /wechat/jssdk", signer.Handler())
//	mux.Handle("POST /wechat/jssdk", signer.Handler())
//	mux.Handle("GET /wechat/jssdk.js", signer.ScriptHandler())
//
// and in the page:
//
//	<script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>
//	<script src="/wechat/jssdk.js" data-config="/wechat/jssdk"></script>
//	<script>document.addEventListener("jssdk:ready", () => wx.getLocation({...}))</script>
//
// WeCom's pages (企业微信) use the same Signer with [Options.CorpID] in
// place of AppID, the corp's jsapi_ticket as Tickets and, for
// wx.agentConfig, the app's agent_config ticket as [Options.AgentTickets]
// with [Options.AgentID]: its handler then answers both configs and
// ww.register's signatures (see [Signer.Handler]), under the same rules.
//
// Package jssdk imports nothing of package
// [github.com/wechatauth/wechatauth]: what it needs of the
// login (the origins, whether a visitor is a snapshot-page guest) comes in
// through [Options].
package jssdk
