package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wechatauth/wechatauth/mp"
)

// RefreshUser fetches the current profile of a user from WeChat with the
// web-auth tokens kept from the user's last login, saves it in
// Options.Users and returns the user. An expired access token is renewed
// with the refresh token (valid 30 days), and the new tokens are kept.
// When the user must authorize again (no tokens, refresh token expired, or
// a snsapi_base login that never allowed the profile) the error wraps
// ErrReauthorize: send the user through Reauthorize.
func (a *Auth) RefreshUser(ctx context.Context, openID string) (User, error) {
	tok, err := a.opts.Tokens.Token(ctx, openID)
	if errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("wechatauth: no tokens kept for %q: %w", openID, ErrReauthorize)
	}
	if err != nil {
		return User{}, storeError("token", err)
	}
	client := a.clientFor(tok.AppID)
	refreshed := false
	if tok.Expired(a.now()) {
		if tok, err = a.refresh(ctx, client, tok); err != nil {
			return User{}, err
		}
		refreshed = true
	}
	p, err := client.UserInfo(ctx, tok.AccessToken, openID)
	var apiErr *mp.Error
	if errors.As(err, &apiErr) && apiErr.StaleAccessToken() && !refreshed {
		if tok, err = a.refresh(ctx, client, tok); err != nil {
			return User{}, err
		}
		p, err = client.UserInfo(ctx, tok.AccessToken, openID)
	}
	if errors.As(err, &apiErr) && apiErr.Code == mp.CodeScopeUnauthorized {
		return User{}, fmt.Errorf("wechatauth: the login of %q did not allow the profile: %w: %w", openID, ErrReauthorize, err)
	}
	if err != nil {
		return User{}, err
	}
	u, err := a.opts.Users.User(ctx, openID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, storeError("user", err)
	}
	u.OpenID, u.Nickname, u.HeadImgURL, u.UpdatedAt = openID, p.Nickname, p.HeadImgURL, a.now()
	if p.UnionID != "" {
		u.UnionID = p.UnionID
	}
	if err := a.opts.Users.SaveUser(ctx, u); err != nil {
		return User{}, storeError("user", err)
	}
	return u, nil
}

// refresh renews tok's access token with client and keeps the result.
func (a *Auth) refresh(ctx context.Context, client *mp.Client, tok mp.Token) (mp.Token, error) {
	fresh, err := client.Refresh(ctx, tok.RefreshToken)
	var apiErr *mp.Error
	if errors.As(err, &apiErr) && (apiErr.Code == mp.CodeRefreshTokenExpired || apiErr.Code == mp.CodeInvalidRefreshToken) {
		return mp.Token{}, fmt.Errorf("wechatauth: refreshing the tokens of %q: %w: %w", tok.OpenID, ErrReauthorize, err)
	}
	if err != nil {
		return mp.Token{}, err
	}
	if fresh.UnionID == "" {
		fresh.UnionID = tok.UnionID
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = tok.RefreshToken
	}
	if err := a.opts.Tokens.SaveToken(ctx, *fresh); err != nil {
		return mp.Token{}, storeError("token", err)
	}
	return *fresh, nil
}

// Reauthorize sends the user of r through WeChat's consent again
// (snsapi_userinfo), back to the page of r: the answer to ErrReauthorize.
// Requests that are not page navigations get Options.Unauthorized instead.
func (a *Auth) Reauthorize(w http.ResponseWriter, r *http.Request) {
	a.startLogin(w, r, browserURI(r), ScopeUserInfo, 0)
}
