package mp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// Token is what WeChat hands over for one user's web authorization: the
// per-user access token (not the account's access_token), the refresh token
// that renews it for 30 days, and who the user is.
type Token struct {
	AccessToken  string
	RefreshToken string
	Expiry       time.Time // when AccessToken stops working
	OpenID       string
	UnionID      string // empty unless the account is bound to an Open Platform account
	Scope        string // as WeChat reports it, possibly comma-separated
	AppID        string // the app the tokens were issued to, which alone can refresh them
	// Snapshot reports a snapshot-page (快照页) user: OpenID and UnionID are
	// virtual and must never be bound to an account.
	Snapshot bool
}

// Expired reports whether the access token has expired at t, with a minute of
// margin for clock skew and the time a call takes.
func (t Token) Expired(at time.Time) bool {
	return !at.Before(t.Expiry.Add(-time.Minute))
}

// HasScope reports whether the token's scope list includes scope, such as
// "snsapi_userinfo".
func (t Token) HasScope(scope string) bool {
	for _, part := range strings.Split(t.Scope, ",") {
		if strings.TrimSpace(part) == scope {
			return true
		}
	}
	return false
}

type tokenReply struct {
	apiStatus
	AccessToken    string `json:"access_token"`
	ExpiresIn      int64  `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	OpenID         string `json:"openid"`
	Scope          string `json:"scope"`
	IsSnapshotUser int    `json:"is_snapshotuser"`
	UnionID        string `json:"unionid"`
}

// Exchange trades the code from a callback for the user's tokens
// (GET /sns/oauth2/access_token). A code works once, within five minutes.
//
// In component mode (Client.Component set) the code goes to
// /sns/oauth2/component/access_token with the platform's
// component_access_token, and no AppSecret is sent.
func (c *Client) Exchange(ctx context.Context, code string) (*Token, error) {
	if c.Component != nil {
		return c.componentToken(ctx, pathComponentExchange,
			query{"appid", c.AppID, "code", code, "grant_type", "authorization_code"}, nil)
	}
	return c.token(ctx, "/sns/oauth2/access_token",
		query{"appid", c.AppID, "secret", c.AppSecret, "code", code, "grant_type", "authorization_code"})
}

// Refresh renews a user's access token with the refresh token
// (GET /sns/oauth2/refresh_token). When the refresh token has expired WeChat
// answers [CodeRefreshTokenExpired], and the user must authorize again.
//
// In component mode it goes to /sns/oauth2/component/refresh_token with
// the platform's component_access_token.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if c.Component != nil {
		return c.componentToken(ctx, pathComponentRefresh,
			query{"appid", c.AppID, "grant_type", "refresh_token"}, query{"refresh_token", refreshToken})
	}
	return c.token(ctx, "/sns/oauth2/refresh_token",
		query{"appid", c.AppID, "grant_type", "refresh_token", "refresh_token", refreshToken})
}

func (c *Client) token(ctx context.Context, endpoint string, q query) (*Token, error) {
	var reply tokenReply
	if err := c.get(ctx, endpoint, q, &reply); err != nil {
		return nil, err
	}
	if reply.OpenID == "" || reply.AccessToken == "" {
		return nil, fmt.Errorf("mp: %s: reply without openid or access_token: %w", endpoint, ErrUpstream)
	}
	if !wxspec.Valid(reply.OpenID, wxspec.MaxToken) {
		// WeChat's openids are letters, digits, '-' and '_'. Another one
		// could name someone else where an openid is part of a key (a
		// session value, wechatauth's "appid/openid").
		return nil, fmt.Errorf("mp: %s: reply with an openid outside WeChat's alphabet: %w", endpoint, ErrUpstream)
	}
	return &Token{
		AccessToken:  reply.AccessToken,
		RefreshToken: reply.RefreshToken,
		Expiry:       c.clock().Add(time.Duration(reply.ExpiresIn) * time.Second),
		OpenID:       reply.OpenID,
		UnionID:      reply.UnionID,
		Scope:        reply.Scope,
		AppID:        c.AppID,
		Snapshot:     reply.IsSnapshotUser == 1,
	}, nil
}

// Profile is a user's public profile as /sns/userinfo gives it. Since
// October 2021 WeChat no longer gives gender or region, so those are left out.
type Profile struct {
	OpenID     string
	UnionID    string
	Nickname   string
	HeadImgURL string // avatar; the last path segment picks the size (0 = 640 px, 46, 64, 96, 132)
	Privilege  []string
}

type userInfoReply struct {
	apiStatus
	OpenID     string   `json:"openid"`
	Nickname   string   `json:"nickname"`
	HeadImgURL string   `json:"headimgurl"`
	Privilege  []string `json:"privilege"`
	UnionID    string   `json:"unionid"`
}

// UserInfo fetches the profile of the user an access token was issued for
// (GET /sns/userinfo, lang zh_CN). The token must come from snsapi_userinfo;
// a snsapi_base token gives [CodeScopeUnauthorized].
func (c *Client) UserInfo(ctx context.Context, accessToken, openID string) (*Profile, error) {
	var reply userInfoReply
	q := query{"access_token", accessToken, "openid", openID, "lang", "zh_CN"}
	if err := c.get(ctx, "/sns/userinfo", q, &reply); err != nil {
		return nil, err
	}
	if reply.OpenID == "" {
		return nil, fmt.Errorf("mp: /sns/userinfo: reply without openid: %w", ErrUpstream)
	}
	return &Profile{
		OpenID:     reply.OpenID,
		UnionID:    reply.UnionID,
		Nickname:   reply.Nickname,
		HeadImgURL: reply.HeadImgURL,
		Privilege:  reply.Privilege,
	}, nil
}

// CheckToken asks WeChat whether an access token is still valid for openID
// (GET /sns/auth). Replies that mean "not valid" give false and a nil error;
// an error means the question could not be answered.
func (c *Client) CheckToken(ctx context.Context, accessToken, openID string) (bool, error) {
	var reply apiStatus
	err := c.get(ctx, "/sns/auth", query{"access_token", accessToken, "openid", openID}, &reply)
	var apiErr *Error
	if errors.As(err, &apiErr) && (apiErr.StaleAccessToken() || apiErr.Code == CodeInvalidOpenID) {
		return false, nil
	}
	return err == nil, err
}
