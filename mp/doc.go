// Package mp is the client side of the WeChat Official Account platform
// API (公众平台): web authorization (code exchange, refresh, userinfo,
// token check) and the links that start it, the account-wide access_token
// shared between instances, and the custom menu.
//
// A Client holds one account's AppID and AppSecret; Endpoints point it at
// production WeChat (the zero value) or at the emulator of package
// wechattest. WeChat's refusals arrive as *Error, with the errcodes callers
// act on named as Code constants; failures to reach WeChat or read its
// answer wrap ErrUpstream. No error holds the secret, a code or a token.
//
// An account-wide credential is one mechanism: cached in a CredentialCache
// (in memory, or shared in Redis through package redisstore), replaced
// ahead of expiry, fetched once per expiry across every goroutine and
// instance under the cache's lock, a working cached value kept when a
// fetch fails, never an empty value. NewAccessTokenSource builds the
// access_token on it.
//
// The middleware of package wechatauth uses mp for its calls; mp knows
// nothing of it and has no server code.
package mp
