// Package wechatauth puts WeChat web authorization (网页授权, the OAuth2 of
// Official Accounts) in front of net/http handlers.
//
// Make an [Auth] with [New], wrap handlers in [Auth.RequireWeChatUser] and
// mount [Auth.CallbackHandler] at [Options.CallbackURL]: a visitor without
// a login is sent to WeChat's authorize page and comes back to the
// callback, which exchanges the code once (however often WeChat delivers
// the callback), keeps the user's tokens server-side, renews the session
// token and sends the visitor back to the page they asked for. Inside a
// wrapped handler [UserFrom] returns the user, read from the session
// alone.
//
// Sessions are [github.com/alexedwards/scs/v2] sessions; users, tokens and
// callback records are kept in stores ([UserStore], [TokenStore],
// [CallbackStore]) with in-memory defaults ([MemoryStore]).
//
// The sibling packages: [mp] is the client of the Official Account API
// (web-auth calls, typed errors and errcodes, the account-wide access_token
// and jsapi_ticket with their cache and back-off, the menu);
// [github.com/wechatauth/wechatauth/jssdk] signs wx.config for pages that
// use the JS-SDK; [github.com/wechatauth/wechatauth/redisstore] keeps the
// stores and mp's credential caches in Redis, shared between instances;
// [github.com/wechatauth/wechatauth/wechattest] emulates WeChat, so the
// whole flow runs offline; and [github.com/wechatauth/wechatauth/storetest]
// proves a store of your own against the contract of [UserStore],
// [TokenStore] and [CallbackStore].
package wechatauth
