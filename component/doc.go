// Package component is the client side of an Open Platform third-party
// platform (第三方平台): the credentials that let one deployment work for
// many Official Accounts.
//
//   - [Crypto] is WeChat's message crypto (the WXBizMsgCrypt scheme):
//     msg_signature, and AES-256-CBC keyed by the EncodingAESKey.
//   - [Platform.PushHandler] receives the pushes to the platform's
//     授权事件接收URL: the component_verify_ticket every 10 minutes, kept
//     in a [TicketStore], and the authorization events, handed to
//     Options.OnAuthorization.
//   - [Platform.Token] is the component_access_token, an account-wide
//     credential on package mp's mechanism, shared between instances by
//     a shared cache.
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
//		OnAuthorization: func(ctx context.Context, a component.Authorization) error {
//			return accounts.Record(ctx, a.InfoType, a.AuthorizerAppID)
//		},
//	})
//	http.Handle("/wechat/push", platform.PushHandler())
package component
