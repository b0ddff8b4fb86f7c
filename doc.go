// Package wechatauth puts WeChat web authorization (网页授权, the OAuth2 of
// Official Accounts) in front of net/http handlers.
//
// Make an Auth with New, wrap handlers in RequireWeChatUser and mount
// CallbackHandler at Options.CallbackURL: a visitor without a login is sent
// to WeChat's authorize page and comes back to the callback, which
// exchanges the code once (however often WeChat delivers the callback),
// keeps the user's tokens server-side, renews the session token and sends
// the visitor back to the page they asked for. Inside a wrapped handler
// UserFrom(r) returns the user, read from the session alone.
//
// Sessions are github.com/alexedwards/scs/v2 sessions; users, tokens and
// callback records are kept in stores with in-memory defaults (package
// redisstore shares them between instances).
//
// Beside it: package mp is the WeChat API client (web-auth calls,
// errcodes, the account-wide access_token, the menu), package redisstore
// keeps the stores and mp's credential cache in Redis, and package
// wechattest emulates WeChat, so the whole flow runs offline.
package wechatauth
