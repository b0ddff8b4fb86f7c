// Package mp is the client side of the WeChat Official Account platform
// API (公众平台). A [Client] holds one account's AppID and AppSecret;
// [Endpoints] point it at production WeChat (the zero value) or at the
// emulator of package [github.com/wechatauth/wechatauth/wechattest].
//
// # Web authorization
//
// [Client.AuthorizeURL] and [Client.QRConnectURL] are the links that send
// a browser to WeChat; [Client.Exchange] trades the code it comes back
// with for a [Token], [Client.Refresh] renews one, [Client.UserInfo]
// reads a [Profile] and [Client.CheckToken] checks a token.
//
// # Errors
//
// WeChat's refusals arrive as [*Error], with the errcodes callers act on
// named as Code constants (such as [CodeCodeUsed]) and what they mean as
// methods: [Error.SpentCode] (the code can no longer be exchanged),
// [Error.StaleAccessToken] (a fresh access_token may cure it) and
// [Error.Misconfigured] (a setting must change). Failures to reach WeChat
// or read its answer wrap [ErrUpstream]. No error holds the secret, a
// code or a token.
//
// # Account-wide credentials
//
// The account's access_token ([NewAccessTokenSource]) and the JS-SDK's
// jsapi_ticket ([NewTicketSource], whose fetch takes an access_token) are
// one mechanism, configured by [CredentialOptions]: each is a [Credential]
// cached in a [CredentialCache] (in memory with [NewMemoryCache], or
// shared between instances in Redis by
// [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache],
// which keeps it under its [CredentialKind]), replaced ahead of expiry,
// fetched once per expiry across every goroutine and instance under the
// cache's lock, a working cached value kept when a fetch fails, never an
// empty value. Failed fetches are backed off (see [MaxBackoff]), in the
// cache when it is a [BackoffCache], so a refusal costs a bounded number
// of calls; callers met by a back-off get a [*BackoffError]. A cache that
// is a [RenewLimiter] lets instances share the interval between renewals
// asked for from outside, such as package
// [github.com/wechatauth/wechatauth/jssdk]'s after "invalid signature".
// [Client.AccessToken], [Client.StableAccessToken] and
// [Client.JSAPITicket] are the bare fetches beneath. Other platforms'
// credentials (WeCom's corp access_token in package
// [github.com/wechatauth/wechatauth/work]) are built on the same mechanism
// with [NewCredentialSource]; their errors take part in the back-off and
// the stale-token retry ([WithAccessToken]) as a [Refusal].
//
// # Menu
//
// [Client.CreateMenu] sets the account's custom [Menu], checked first by
// [Menu.Validate], and [Client.Menu] reads it back, each with a token from
// an [AccessTokenSource].
//
// The middleware of package [github.com/wechatauth/wechatauth] uses mp for
// its calls; mp knows nothing of it and has no server code.
package mp
