package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// UserInfo returns the current profile of a user from WeChat, with the
// web-auth tokens kept from the user's last login, and saves it in
// Options.Users. An expired access token is renewed with the refresh token
// (valid 30 days), and the new tokens are kept. When the user must authorize
// again (no tokens, refresh token expired, or a snsapi_base login that never
// allowed the profile) the error wraps ErrReauthorize: send the user through
// Reauthorize.
func (a *Auth) UserInfo(ctx context.Context, openID string) (*Profile, error) {
	tok, err := a.opts.Tokens.Token(ctx, openID)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("wechatauth: no tokens kept for %q: %w", openID, ErrReauthorize)
	}
	if err != nil {
		return nil, storeError("token", err)
	}
	refreshed := false
	if tok.Expired(a.now()) {
		if tok, err = a.refresh(ctx, tok); err != nil {
			return nil, err
		}
		refreshed = true
	}
	p, err := a.client.UserInfo(ctx, tok.AccessToken, openID)
	var apiErr *APIError
	if errors.As(err, &apiErr) && invalidAccessToken(apiErr.Code) && !refreshed {
		if tok, err = a.refresh(ctx, tok); err != nil {
			return nil, err
		}
		p, err = a.client.UserInfo(ctx, tok.AccessToken, openID)
	}
	if errors.As(err, &apiErr) && apiErr.Code == CodeScopeUnauthorized {
		return nil, fmt.Errorf("wechatauth: the login of %q did not allow the profile: %w: %w", openID, ErrReauthorize, err)
	}
	if err != nil {
		return nil, err
	}
	u, err := a.opts.Users.User(ctx, openID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, storeError("user", err)
	}
	u.OpenID, u.Nickname, u.HeadImgURL, u.UpdatedAt = openID, p.Nickname, p.HeadImgURL, a.now()
	if p.UnionID != "" {
		u.UnionID = p.UnionID
	}
	if err := a.opts.Users.SaveUser(ctx, u); err != nil {
		return nil, storeError("user", err)
	}
	return p, nil
}

// refresh renews tok's access token and keeps the result.
func (a *Auth) refresh(ctx context.Context, tok Token) (Token, error) {
	client := a.client
	if a.webClient != nil && tok.AppID == a.webClient.AppID {
		client = a.webClient
	}
	fresh, err := client.Refresh(ctx, tok.RefreshToken)
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Code == CodeRefreshTokenExpired || apiErr.Code == CodeInvalidRefreshToken) {
		return Token{}, fmt.Errorf("wechatauth: refreshing the tokens of %q: %w: %w", tok.OpenID, ErrReauthorize, err)
	}
	if err != nil {
		return Token{}, err
	}
	if fresh.UnionID == "" {
		fresh.UnionID = tok.UnionID
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = tok.RefreshToken
	}
	if err := a.opts.Tokens.SaveToken(ctx, *fresh); err != nil {
		return Token{}, storeError("token", err)
	}
	return *fresh, nil
}

// invalidAccessToken reports errcodes that mean "this access token no
// longer works", which a refresh may cure.
func invalidAccessToken(code int) bool {
	return code == CodeInvalidCredential || code == CodeInvalidAccessToken || code == CodeAccessTokenExpired
}

// Reauthorize sends the user of r through WeChat's consent again
// (snsapi_userinfo), back to the page of r: the answer to ErrReauthorize.
// Requests that are not page navigations get Options.Unauthorized instead.
func (a *Auth) Reauthorize(w http.ResponseWriter, r *http.Request) {
	a.startLogin(w, r, r.URL.RequestURI(), ScopeUserInfo)
}
