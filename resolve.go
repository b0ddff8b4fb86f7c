package wechatauth

import (
	"context"
	"errors"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// resolve finds or makes the user whom g names, who came through ap,
// fetching the profile when the scope allows and the stored one is
// missing or older than ProfileMaxAge. consent says that the login goes
// on through snsapi_userinfo first (ScopeProgressive with an unknown user
// or a stale profile).
func (a *Auth) resolve(ctx context.Context, ap app, g grant) (u User, consent bool, err error) {
	u, err = a.findUser(ctx, ap, g.User)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return User{}, false, engine.StoreError("user", err)
	}
	changed := isNew
	if isNew {
		u = User{OpenID: g.User.OpenID, AppID: g.User.AppID}
	}
	if g.User.UnionID != "" && u.UnionID != g.User.UnionID {
		u.UnionID, changed = g.User.UnionID, true
	}
	now := a.now()
	stale := u.UpdatedAt.IsZero() || now.Sub(u.UpdatedAt) > a.opts.ProfileMaxAge
	if stale && a.opts.Scope == ScopeProgressive && !g.Profile {
		if changed {
			if err := a.opts.Users.SaveUser(ctx, u); err != nil {
				return User{}, false, engine.StoreError("user", err)
			}
		}
		return u, true, nil
	}
	if stale && g.Profile {
		profile, err := ap.profile(ctx, g)
		if err != nil {
			// The code is spent: log in with what is known rather than fail.
			a.opts.Logger.Warn("wechatauth: fetching the profile failed; logging in without it", "openid", g.User.OpenID, "err", err)
		} else {
			u.Nickname, u.HeadImgURL, u.UpdatedAt, changed = profile.Nickname, profile.HeadImgURL, now, true
			if profile.UnionID != "" {
				u.UnionID = profile.UnionID
			}
		}
	}
	if changed {
		if err := a.opts.Users.SaveUser(ctx, u); err != nil {
			return User{}, false, engine.StoreError("user", err)
		}
	}
	return u, false, nil
}

// findUser returns the stored user whom id (the openid and unionid of a
// grant) names. The openid of an app of its own (app.foreign) is not the
// account's: when id's unionid belongs to a known user, that user is the
// one logging in.
func (a *Auth) findUser(ctx context.Context, ap app, id User) (User, error) {
	if ap.foreign() && id.UnionID != "" {
		u, err := a.opts.Users.UserByUnionID(ctx, id.UnionID)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err
		}
	}
	return a.opts.Users.User(ctx, id.Key())
}
