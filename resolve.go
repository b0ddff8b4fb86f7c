package wechatauth

import (
	"context"
	"errors"

	"github.com/wechatauth/wechatauth/mp"
)

// completeLogin redeems the code and finds or makes
// the user, fetching the profile when the scope allows and the stored one
// is missing or older than ProfileMaxAge.
func (a *Auth) completeLogin(ctx context.Context, code string, p pendingLogin) (*loginRecord, error) {
	tok, err := a.redeem(ctx, p.App, code)
	if err != nil {
		return nil, err
	}
	rec := &loginRecord{Return: p.Return, Code: codeHash(code), App: p.App}
	if tok.Snapshot {
		// A snapshot-page user's openid is virtual: keep nothing of it.
		rec.Snapshot = true
		rec.User = User{Snapshot: true}
		return rec, nil
	}
	u, err := a.findUser(ctx, tok, p.App)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return nil, storeError("user", err)
	}
	changed := isNew
	if isNew {
		u = User{OpenID: tok.OpenID}
	}
	rec.Profile = profileAllowed(tok)
	if tok.UnionID != "" && u.UnionID != tok.UnionID {
		u.UnionID, changed = tok.UnionID, true
	}
	now := a.now()
	stale := u.UpdatedAt.IsZero() || now.Sub(u.UpdatedAt) > a.opts.ProfileMaxAge
	if stale && a.opts.Scope == ScopeProgressive && !rec.Profile {
		if changed {
			if err := a.opts.Users.SaveUser(ctx, u); err != nil {
				return nil, storeError("user", err)
			}
		}
		rec.Consent, rec.User = true, u
		return rec, nil
	}
	if stale && rec.Profile {
		profile, err := a.clientFor(p.App).UserInfo(ctx, tok.AccessToken, tok.OpenID)
		if err != nil {
			// The code is spent: log in with what is known rather than fail.
			a.opts.Logger.Warn("wechatauth: fetching the profile failed; logging in without it", "openid", tok.OpenID, "err", err)
		} else {
			u.Nickname, u.HeadImgURL, u.UpdatedAt, changed = profile.Nickname, profile.HeadImgURL, now, true
			if profile.UnionID != "" {
				u.UnionID = profile.UnionID
			}
		}
	}
	if changed {
		if err := a.opts.Users.SaveUser(ctx, u); err != nil {
			return nil, storeError("user", err)
		}
	}
	rec.User = u
	return rec, nil
}

// findUser returns the stored user behind a token. A QR login's openid is
// the website app's: when the token's unionid belongs to a known user, that
// user is the one logging in.
func (a *Auth) findUser(ctx context.Context, tok *mp.Token, app string) (User, error) {
	if app == appWebsite && tok.UnionID != "" {
		u, err := a.opts.Users.UserByUnionID(ctx, tok.UnionID)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err
		}
	}
	return a.opts.Users.User(ctx, tok.OpenID)
}
