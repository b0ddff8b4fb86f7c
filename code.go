package wechatauth

import (
	"context"

	"github.com/wechatauth/wechatauth/mp"
)

// redeem trades code for the web-auth tokens of app, unless a callback
// refused the code before, and keeps the tokens where they serve: a scope
// that allows the profile, which RefreshUser can fetch again with them. A
// snsapi_base token can fetch nothing, and a snapshot-page user's openid
// is virtual: neither is kept.
func (a *Auth) redeem(ctx context.Context, app, code string) (*mp.Token, error) {
	if err := a.ledger.refused(ctx, code); err != nil {
		return nil, err
	}
	tok, err := a.clientFor(app).Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	if !tok.Snapshot && profileAllowed(tok) {
		if err := a.opts.Tokens.SaveToken(ctx, *tok); err != nil {
			return nil, storeError("token", err)
		}
	}
	return tok, nil
}

// profileAllowed reports whether tok's scope lets it fetch the profile.
func profileAllowed(tok *mp.Token) bool {
	return tok.HasScope(string(ScopeUserInfo)) || tok.HasScope(string(scopeLogin))
}
