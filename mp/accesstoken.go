package mp

import (
	"context"
	"fmt"
	"time"
)

// AccessTokenSource gives the account's access_token, the credential of
// the cgi-bin APIs such as the menu (not a user's web-auth Token).
type AccessTokenSource interface {
	// Token returns an access token that is valid now, fetching a new one
	// when needed.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that WeChat refused token as stale (see
	// Error.StaleAccessToken), so that the next Token fetches anew unless
	// a newer token is already there.
	Invalidate(ctx context.Context, token string) error
}

// AccessTokenSourceOptions configures NewAccessTokenSource. Every field
// has a working zero value.
type AccessTokenSourceOptions struct {
	// Cache shares the token. Default: an in-memory cache, for one process;
	// with several instances use a shared cache (redisstore), or each
	// instance's fetch invalidates the others' tokens.
	Cache CredentialCache
	// Stable fetches from /cgi-bin/stable_token instead of /cgi-bin/token:
	// it returns the same token until 5 minutes before its expiry and never
	// invalidates a token in use. Default false.
	Stable bool
	// RefreshAhead is how long before its expiry a token is replaced.
	// Default 5 minutes (stable_token hands out a new token from then on).
	RefreshAhead time.Duration
	// LockTTL is how long the refresh lock lasts, and so bounds each
	// upstream fetch (which ends before its lock does) and how long a
	// holder that crashed blocks the others. Default 10 seconds.
	LockTTL time.Duration
}

// NewAccessTokenSource returns an AccessTokenSource that fetches the
// access_token with c, caches it in opts.Cache and replaces it ahead of
// expiry. However many goroutines and instances ask when it expires, one
// fetch goes upstream. Failed fetches are backed off (see MaxBackoff), in
// the cache when it is a BackoffCache.
func NewAccessTokenSource(c *Client, opts AccessTokenSourceOptions) AccessTokenSource {
	fetch := func(ctx context.Context) (Credential, error) {
		if opts.Stable {
			return c.StableAccessToken(ctx, false)
		}
		return c.AccessToken(ctx)
	}
	return &accessTokenSource{newShared("access token", opts.Cache, opts.RefreshAhead, opts.LockTTL, c.clock, fetch)}
}

type accessTokenSource struct{ s *shared }

func (a *accessTokenSource) Token(ctx context.Context) (string, error) { return a.s.get(ctx) }

func (a *accessTokenSource) Invalidate(ctx context.Context, token string) error {
	return a.s.invalidate(ctx, token)
}

type accessTokenReply struct {
	apiStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// AccessToken fetches a new access_token (GET /cgi-bin/token, grant_type
// client_credential). Each fetch ends the previous token's life five
// minutes later, so instances that fetch on their own invalidate each
// other: use NewAccessTokenSource.
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

// credential checks a reply's credential and its life in seconds.
func (c *Client) credential(value string, expiresIn int64, endpoint string) (Credential, error) {
	if value == "" || expiresIn <= 0 {
		return Credential{}, fmt.Errorf("mp: %s: reply without a credential or expires_in: %w", endpoint, ErrUpstream)
	}
	return Credential{Value: value, Expiry: c.clock().Add(time.Duration(expiresIn) * time.Second)}, nil
}
