// Package component is the client side of an Open Platform third-party
// platform (第三方平台): the credentials that let one deployment work for
// many Official Accounts.
//
//   - [Crypto] is WeChat's message crypto (the WXBizMsgCrypt scheme):
//     msg_signature, and AES-256-CBC keyed by the EncodingAESKey.
//   - [Platform.PushHandler] receives the pushes to the platform's
//     授权事件接收URL: the component_verify_ticket every 10 minutes, kept
//     in a [TicketStore], and the authorization events: it redeems each
//     authorization's code ([Platform.QueryAuth]) and keeps the Official
//     Account's authorizer_refresh_token in an [AuthorizerStore], deletes
//     it when the account revokes the authorization, and hands the event
//     to Options.OnAuthorization.
//   - [Platform.Token] is the component_access_token, an account-wide
//     credential on package mp's mechanism, shared between instances by
//     a shared cache.
//   - [Platform.AuthorizerTokens] and [Platform.JSAPITickets] are an
//     authorizer's (an Official Account's) access token and jsapi_ticket,
//     made from its refresh token and cached per authorizer on the same
//     mechanism: the JS-SDK of each account signs with its own ticket and
//     appid (see [github.com/wechatauth/wechatauth/jssdk.Accounts]).
//
// Wiring, with Redis for several instances:
//
//	store := redisstore.New(pool)
//	platform, err := component.New(component.Options{
//		AppID: appID, AppSecret: secret, Token: token, EncodingAESKey: aesKey,
//		PushURL: "https://platform.example.com/wechat/push",
//		Tickets: store.ComponentTickets(appID),
//		Credentials: mp.CredentialOptions{
//			Cache: store.CredentialCache(component.AccessTokenCredential, appID),
//		},
//		Authorizers:           store.Authorizers(appID),
//		AuthorizerCredentials: store.CredentialCache,
//		OnAuthorization: func(ctx context.Context, a component.Authorization) error {
//			return accounts.Record(ctx, a.InfoType, a.AuthorizerAppID)
//		},
//	})
//	http.Handle("/wechat/push", platform.PushHandler())
//
// and for an authorizer's cgi-bin APIs or JS-SDK:
//
//	tokens := platform.AuthorizerTokens(authorizerAppID)  // an mp.AccessTokenSource
//	tickets := platform.JSAPITickets(authorizerAppID)     // an mp.TicketSource, for jssdk.Options.Tickets
package component
