package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// RefreshUser fetches the current profile of a user from WeChat with the
// web-auth tokens kept from the user's last login, saves it in
// Options.Users and returns the user. An expired access token is renewed
// with the refresh token (valid 30 days), and the new tokens are kept.
// When the user must authorize again (no tokens, refresh token expired, or
// a snsapi_base login that never allowed the profile) the error wraps
// ErrReauthorize: send the user through Reauthorize.
//
// openID is the user's OpenID, or in component mode the user's Key
// ("AppID/OpenID").
func (a *Auth) RefreshUser(ctx context.Context, openID string) (User, error) {
	tok, err := a.opts.Tokens.Token(ctx, openID)
	if errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("wechatauth: no tokens kept for %q: %w", openID, ErrReauthorize)
	}
	if err != nil {
		return User{}, engine.StoreError("token", err)
	}
	p, err := a.apps.of(tok.AppID).currentProfile(ctx, tok, a.now())
	if err != nil {
		return User{}, err
	}
	u, err := a.opts.Users.User(ctx, openID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, engine.StoreError("user", err)
	}
	u.AppID, u.OpenID = splitKey(openID)
	u.Nickname, u.HeadImgURL, u.UpdatedAt = p.Nickname, p.HeadImgURL, a.now()
	if p.UnionID != "" {
		u.UnionID = p.UnionID
	}
	if err := a.opts.Users.SaveUser(ctx, u); err != nil {
		return User{}, engine.StoreError("user", err)
	}
	return u, nil
}

// Reauthorize sends the user of r through WeChat's consent again
// (snsapi_userinfo), back to the page of r: the answer to ErrReauthorize.
// Requests that are not page navigations get Options.Unauthorized instead.
func (a *Auth) Reauthorize(w http.ResponseWriter, r *http.Request) { a.e.Reauthorize(w, r) }
