package wechatauth

import (
	"context"
	"errors"
)

// completeLogin redeems the code through ap and finds or makes the user, fetching the profile when the scope allows and the stored one
// is missing or older than ProfileMaxAge.
func (a *Auth) completeLogin(ctx context.Context, ap app, code string, p pendingLogin) (*loginRecord, error) {
	g, err := a.ledger.redeem(ctx, ap, code)
	if err != nil {
		return nil, err
	}
	rec := &loginRecord{Return: p.Return, Code: codeHash(code), App: p.App}
	if g.Snapshot {
		// A snapshot-page user's openid is virtual: keep nothing of it.
		rec.Snapshot = true
		rec.User = User{Snapshot: true}
		return rec, nil
	}
	u, err := a.findUser(ctx, ap, g)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return nil, storeError("user", err)
	}
	changed := isNew
	if isNew {
		u = User{OpenID: g.OpenID}
	}
	rec.Profile = g.Profile
	if g.UnionID != "" && u.UnionID != g.UnionID {
		u.UnionID, changed = g.UnionID, true
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
		profile, err := ap.profile(ctx, g)
		if err != nil {
			// The code is spent: log in with what is known rather than fail.
			a.opts.Logger.Warn("wechatauth: fetching the profile failed; logging in without it", "openid", g.OpenID, "err", err)
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

// findUser returns the stored user whom g names. The openid of an app of
// its own (app.foreign) is not the account's: when g's
// unionid belongs to a known user, that user is the one logging in.
func (a *Auth) findUser(ctx context.Context, ap app, g grant) (User, error) {
	if ap.foreign() && g.UnionID != "" {
		u, err := a.opts.Users.UserByUnionID(ctx, g.UnionID)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err
		}
	}
	return a.opts.Users.User(ctx, g.OpenID)
}
