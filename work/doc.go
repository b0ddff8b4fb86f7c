// Package work is the client side of the API of a WeCom (企业微信)
// self-built app (自建应用), beside package
// [github.com/wechatauth/wechatauth/mp] for the Official Account. A
// [Client] holds the app's CorpID, AgentID and Secret; [Endpoints] point it
// at production WeCom (the zero value) or at an emulator ([EndpointsAt]).
//
// WeCom is not an Official Account with other hosts. It has no per-user
// token and no refresh: a code is traded once, within five minutes, for an
// [Identity] with the app's corp access_token. The identity is a member's
// userid, unique within the corp ("CorpId/userid" for a member of a linked
// corp, see [Identity.LinkedCorp]), or for anyone else an openid of the
// corp's own. The corp access_token belongs to one app, its
// Secret: it is cached per app (CorpID and AgentID), never per corp, and
// never reaches a browser or a user's session. The authorize page is the
// Official Account's, with the CorpID as appid, the AgentID beside it and
// the scopes [ScopeBase] and [ScopePrivateInfo]; errcodes that look alike
// differ (40001 is a wrong Secret here, not a stale token).
//
// # Login
//
// [Client.AuthorizeURL] is the link that sends a browser inside the WeCom
// client to WeCom, [Client.WebLoginURL] the one for a desktop browser;
// both come back with a code. [Client.UserInfo] trades the code for an
// [Identity]; [Client.UserDetail] reads a member's sensitive fields, a
// [Detail], with the user ticket of a [ScopePrivateInfo] login;
// [Client.User] reads a member's name and departments, a [Member].
//
// # The corp access_token
//
// [NewAccessTokenSource] gives the app's access_token on the one mechanism
// of package mp for account-wide credentials ([mp.NewCredentialSource]):
// fetched once per expiry across goroutines and instances, shared through
// a cache such as
// [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache] under
// [AccessTokenCredential] and [Client.Account], failed fetches backed off.
// The calls that take an [mp.AccessTokenSource] retry once with a fresh
// token when WeCom calls theirs stale. [Client.AccessToken] is the bare
// fetch beneath.
//
// # The JS-SDK's tickets
//
// [NewJSAPITicketSource] gives the corp's jsapi_ticket, which signs
// wx.config (getConfigSignature of ww.register), and
// [NewAgentTicketSource] the app's ticket, which signs wx.agentConfig
// (getAgentConfigSignature): both [mp.TicketSource], on the same
// mechanism as the access_token, cached apart under
// [JSAPITicketCredential] (per corp) and [AgentTicketCredential] (per
// app), so that package [github.com/wechatauth/wechatauth/jssdk] signs
// with either.
//
// # Errors
//
// WeCom's refusals arrive as [*Error], with the errcodes of the login path
// named as Code constants (such as [CodeIPNotTrusted]) and what they mean
// as methods: [Error.SpentCode], [Error.StaleAccessToken],
// [Error.Misconfigured], and [Error.Fix], the setting to change, which for
// [CodeIPNotTrusted] names the address WeCom saw ([Error.FromIP]). Failures
// to reach WeCom or read its answer wrap [mp.ErrUpstream]. No error holds
// the Secret, a code, a user ticket or a token.
//
// Package work has no server code and knows nothing of the middleware.
package work
