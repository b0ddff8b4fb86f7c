package work

import (
	"context"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// AccessTokenCredential is the kind of the app's corp access_token where
// it is cached, as [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache]
// takes it, with [Client.Account] as the account:
//
//	tokens := work.NewAccessTokenSource(client, mp.CredentialOptions{
//		Cache: store.CredentialCache(work.AccessTokenCredential, client.Account()),
//	})
const AccessTokenCredential mp.CredentialKind = "wecom_access_token"

// Account returns the account under which the app's credentials are
// cached: CorpID + "/" + AgentID. A corp access_token works only for the
// app whose Secret fetched it, so two apps of one corp must not share a
// cache entry: give each its AgentID.
func (c *Client) Account() string { return c.CorpID + "/" + c.AgentID }

type accessTokenReply struct {
	apiStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// AccessToken fetches the app's corp access_token (GET /cgi-bin/gettoken
// with the CorpID and the Secret). It lasts expires_in seconds, normally
// 7200, though WeCom may end it early, and WeCom limits frequent fetches:
// use [NewAccessTokenSource], which shares one and fetches anew when a
// call finds it stale.
func (c *Client) AccessToken(ctx context.Context) (mp.Credential, error) {
	const endpoint = "/cgi-bin/gettoken"
	var reply accessTokenReply
	if err := c.get(ctx, endpoint, query{"corpid", c.CorpID, "corpsecret", c.Secret}, &reply); err != nil {
		return mp.Credential{}, err
	}
	if reply.AccessToken == "" || reply.ExpiresIn <= 0 {
		return mp.Credential{}, incomplete(endpoint, "access_token or expires_in")
	}
	return mp.Credential{Value: reply.AccessToken, Expiry: c.clock().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

// NewAccessTokenSource returns an [mp.AccessTokenSource] of the app's corp
// access_token, on package mp's mechanism for account-wide credentials
// ([mp.NewCredentialSource]): fetched with c, cached in opts.Cache
// (shared between instances under [AccessTokenCredential] and
// [Client.Account]), replaced ahead of expiry, fetched once per expiry
// however many goroutines and instances ask, failed fetches backed off
// (see [mp.MaxBackoff]). A caller met by a back-off gets an
// [*mp.BackoffError] whose Err is the [*Error] WeCom answered. opts.Stable
// is ignored: WeCom has no stable_token.
func NewAccessTokenSource(c *Client, opts mp.CredentialOptions) mp.AccessTokenSource {
	return accessTokenSource{mp.NewCredentialSource(mp.CredentialFetcher{
		Name:  "WeCom access token",
		Fetch: c.AccessToken,
		Refused: func(code int, msg, endpoint string) error {
			return &Error{Code: code, Msg: msg, Endpoint: endpoint}
		},
		Now: c.clock,
	}, opts)}
}

// accessTokenSource is an mp.AccessTokenSource over an mp.CredentialSource.
type accessTokenSource struct{ *mp.CredentialSource }

func (a accessTokenSource) Token(ctx context.Context) (string, error) { return a.Get(ctx) }
