// Package wechattest is an emulator of WeChat's web authorization (网页授权)
// for tests and offline demos, in the manner of [net/http/httptest].
//
// A [Server] serves the authorization page (/connect/oauth2/authorize) and the
// four /sns API endpoints (code exchange, refresh, userinfo, token check) with
// WeChat's documented behaviour: the strict parameter order of the authorize
// link, the account's callback domain (10003) and scope permission (10005),
// single-use codes that expire after five minutes, 7200-second access tokens,
// 30-day refresh tokens, errors as {"errcode":N,"errmsg":"…"} with HTTP 200,
// the snsapi_base/snsapi_userinfo difference, unionid and snapshot-page (快照页)
// users. Its clock is the wall clock plus whatever [Server.Advance] adds, so
// every expiry is tested without sleeping.
//
// A test needs three lines:
//
//	wx := wechattest.NewServer()
//	defer wx.Close()
//	client := mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, Endpoints: wx.Endpoints(), HTTPClient: wx.Client()}
//
// Beyond web authorization the emulator serves:
//
//   - The account's global access_token: GET /cgi-bin/token, where each
//     fetch retires the previous token five minutes later (two fetchers
//     that do not share their token end up with WeChat's 40001), with a
//     daily quota ([Server.SetTokenQuota], 2000 by default, then 45009);
//     and POST /cgi-bin/stable_token, which keeps the same token until
//     five minutes before its expiry and limits force_refresh to 20 a day,
//     30 seconds apart. The two keep separate tokens, as in WeChat.
//   - POST /cgi-bin/menu/create, which checks the token and WeChat's menu
//     limits and keeps the menu for [Server.Menu], and GET
//     /cgi-bin/menu/get, which answers it as {"menu":{"button":[…]}}
//     (46003 before any).
//   - The JS-SDK: GET /cgi-bin/ticket/getticket, the account's one
//     jsapi_ticket, handed out for 7200 seconds on the emulator's clock and
//     then renewed, with the cgi-bin token errors (41001, 40014, 40001,
//     42001) and an optional daily quota ([Server.SetTicketQuota], then
//     45009); [Server.StaleTickets] makes the tickets issued so far stop
//     working. A stand-in for jweixin-1.6.0.js, served at the path of
//     WeChat's own ([mp.Endpoints.JSSDK] of [Server.Endpoints]), implements
//     wx.config, wx.ready, wx.error, updateAppMessageShareData and
//     getLocation (a fixed place in Beijing, 39.908692 N 116.397477 E): it
//     has the emulator check the signature against the tickets it issued
//     and the page's real URL without fragment (on an iPhone, iPad or iPod
//     User-Agent the URL the page was entered with), so a desktop browser
//     runs JS-SDK pages offline.
//   - Website QR login of one Open Platform website app
//     ([Server.WebsiteAppID], [Server.WebsiteAppSecret]): /connect/qrconnect
//     with scope snsapi_login, codes valid ten minutes that only the
//     website app can exchange, its own openids ([Server.WebsiteOpenID])
//     and the person's unionid, which links them to the Official
//     Account's.
//   - WeCom (企业微信), for a corp ([Server.CorpID]) and its self-built
//     app ([Server.AgentID], [Server.CorpSecret]): the authorize page
//     inside the WeCom client for links whose appid is the CorpID
//     (snsapi_base, snsapi_privateinfo; WeCom's uriconfirm page outside
//     the trusted domain, [Server.SetWeComTrustedDomain]), the Web login
//     /wwlogin/sso/login and the old /wwopen/sso/qrConnect, and the API:
//     /cgi-bin/gettoken, /cgi-bin/auth/getuserinfo (lowercase keys), the
//     legacy /cgi-bin/user/getuserinfo (CamelCase),
//     /cgi-bin/auth/getuserdetail (the user_ticket's 1800 s, gender a
//     string, no name), /cgi-bin/user/get, and the JS-SDK's two tickets:
//     /cgi-bin/get_jsapi_ticket (the corp's, for wx.config with appId =
//     CorpID) and /cgi-bin/ticket/get?type=agent_config (each app's, for
//     wx.agentConfig), 7200 s each as getticket's, with hourly quotas
//     ([Server.SetWeComTicketQuota], 400 per corp and 100 per app, then
//     45009, an assumption) and [Server.StaleWeComTickets]; the stand-in
//     script verifies wx.agentConfig against the app's ticket. Members ([Server.AddMember],
//     the default 张三 "zhangsan"), linked-corp members ("CorpId/userid"),
//     members outside the visible range, non-members and customers
//     ([Server.AddNonMember]); single-use codes of five minutes; a second
//     app ([Server.AddWeComApp]) whose token gets 50001 for the first
//     app's codes; switches for 60020 ([Server.SetWeComTrustedIPs]),
//     48002 ([Server.SetWeComForbidden]), 40014
//     ([Server.InvalidateWeComTokens]) and an app created after
//     2022-06-20 ([Server.SetWeComCreatedAfter20220620]). Errors carry
//     WeCom's ", hint: […], from ip: …, more info at …" suffix;
//     [Server.WeComEndpoints] gives the addresses.
//   - An Open Platform third-party platform ([Server.ComponentAppID]):
//     encrypted component_verify_ticket pushes, api_component_token, and
//     the Official Accounts that authorized it ([Server.Authorizers],
//     default "wx00000000000000a1" and "wx00000000000000a2";
//     [Server.AddAuthorizer], [Server.RevokeAuthorizer]). Web
//     authorization in component mode: authorize links with
//     component_appid after state (10015 for an account that has not
//     authorized the platform), callbacks with the authorizer's appid,
//     /sns/oauth2/component/access_token and refresh_token with the
//     component_access_token (48001 for an authorizer token), and an
//     openid per authorizer ([Server.AuthorizerOpenID]) with one unionid.
//     api_query_auth ([Server.AuthorizationCode]), api_authorizer_token
//     ([Server.RotateAuthorizerRefreshTokens]) and each authorizer's own
//     jsapi_ticket, which alone signs its wx.config.
//
// By default the authorization page approves at once for the visitor, a
// registered user. [Server.SetMode] with [ConsentPage] shows a page where a
// person in a desktop browser picks the user, may open the page as a
// snapshot-page user, and allows or refuses, which is how the example app runs
// the whole login offline. Pages for a bad authorize link show WeChat's code
// and answer HTTP 400; they never redirect to the app.
//
// The modes apply to the QR login page too; its [ConsentPage] emulates the
// scan with a user picker and a "Scan and confirm (emulated)" button.
//
// Faults: [Server.FailNext] queues an errcode (such as -1, system busy) for the
// next request on a path, [Server.DropNext] closes its connection without an
// answer, [Server.SetLatency] slows the API down, and [Server.SetCallbackRetry]
// makes the browser deliver a slow callback twice, as the WeChat client does.
//
// Answers are WeChat's bytes: the JSON object without a newline after
// it, labelled "text/plain" on /sns/ and "application/json;
// encoding=utf-8" on /cgi-bin/, as real WeChat is reported to send them,
// so that clients which check the Content-Type (such as Node's
// co-wechat-api) read them as they read WeChat's.
//
// The command wechattest/cmd/wechatemu runs the emulator on its own, for
// apps in other languages or processes of their own; [EndpointsFor] gives
// a Go app the endpoints of an emulator at a base URL. For such a process,
// POST /_emulator/advance?d=2h on the emulator's own listener moves the
// clock as [Server.Advance] does, and [Server.SetLogger] logs each request
// with the errcode or HTTP status it got.
//
// The emulator is not WeChat and is not affiliated with Tencent. It follows
// WeChat's public documentation, which leaves some behaviour open; comments
// say where the emulator picks one answer. Passing its tests is evidence, not
// proof, that a client works against the real service.
package wechattest
