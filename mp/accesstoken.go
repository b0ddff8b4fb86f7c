package mp

import (
	"context"
)

// AccessTokenSource gives the account's access_token, the credential of
// the cgi-bin APIs such as the menu (not a user's web-auth [Token]).
type AccessTokenSource interface {
	// Token returns an access token that is valid now, fetching a new one
	// when needed.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that WeChat refused token as stale (see
	// Error.StaleAccessToken), so that the next Token fetches anew unless
	// a newer token is already there.
	Invalidate(ctx context.Context, token string) error
}

// AccessTokenSourceOptions is the former name of [CredentialOptions], kept
// so that code written for v0.1.0 compiles.
//
// Deprecated: use [CredentialOptions].
type AccessTokenSourceOptions = CredentialOptions

// NewAccessTokenSource returns an [AccessTokenSource] that fetches the
// access_token with c (from /cgi-bin/stable_token when opts.Stable is set),
// caches it in opts.Cache and replaces it ahead of expiry. However many
// goroutines and instances ask when it expires, one fetch goes upstream. Failed
// fetches are backed off (see [MaxBackoff]), in the cache when it is a
// [BackoffCache].
func NewAccessTokenSource(c *Client, opts CredentialOptions) AccessTokenSource {
	fetch := func(ctx context.Context) (Credential, error) {
		if opts.Stable {
			return c.StableAccessToken(ctx, false)
		}
		return c.AccessToken(ctx)
	}
	return &accessTokenSource{NewCredentialSource(CredentialFetcher{Name: "access token", Fetch: fetch, Now: c.clock}, opts)}
}

// accessTokenSource is an AccessTokenSource over a CredentialSource.
type accessTokenSource struct{ *CredentialSource }

func (a *accessTokenSource) Token(ctx context.Context) (string, error) { return a.Get(ctx) }

type accessTokenReply struct {
	apiStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// AccessToken fetches a new access_token (GET /cgi-bin/token, grant_type
// client_credential). Each fetch ends the previous token's life five
// minutes later, so instances that fetch on their own invalidate each
// other: use [NewAccessTokenSource].
func (c *Client) AccessToken(ctx context.Context) (Credential, error) {
	var reply accessTokenReply
	q := query{"grant_type", "client_credential", "appid", c.AppID, "secret", c.AppSecret}
	if err := c.get(ctx, "/cgi-bin/token", q, &reply); err != nil {
		return Credential{}, err
	}
	return c.credential(reply.AccessToken, reply.ExpiresIn, "/cgi-bin/token")
}

// StableAccessToken fetches the access_token from POST /cgi-bin/stable_token,
// which returns the same token until five minutes before its expiry.
// forceRefresh asks for a new one at once (WeChat allows that 20 times a
// day, 30 seconds apart).
func (c *Client) StableAccessToken(ctx context.Context, forceRefresh bool) (Credential, error) {
	var reply accessTokenReply
	body := struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}{"client_credential", c.AppID, c.AppSecret, forceRefresh}
	if err := c.post(ctx, "/cgi-bin/stable_token", nil, body, []string{c.AppSecret}, &reply); err != nil {
		return Credential{}, err
	}
	return c.credential(reply.AccessToken, reply.ExpiresIn, "/cgi-bin/stable_token")
}

// WithAccessToken calls call with a token from ts. When the platform
// refuses the token as stale (call's error is a [Refusal] whose
// StaleAccessToken is true), it invalidates the token and calls once more
// with a fresh one; it returns the last call's error. The calls of
// [Client] that take an [AccessTokenSource] go through it, and so can
// those of sibling packages for other platforms.
func WithAccessToken(ctx context.Context, ts AccessTokenSource, call func(token string) error) error {
	for try := 0; ; try++ {
		token, err := ts.Token(ctx)
		if err != nil {
			return err
		}
		err = call(token)
		if r, ok := refusal(err); try == 0 && ok && r.StaleAccessToken() {
			if err := ts.Invalidate(ctx, token); err != nil {
				return err
			}
			continue
		}
		return err
	}
}
