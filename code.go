package wechatauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// A code that a callback refused stays valid at WeChat for minutes, and it
// is in every access log and analytics beacon that saw the callback's URL.
// Whoever reads it could bring it with a login of their own and be logged
// in as the code's user (authorization-code injection; WeChat has no PKCE).
// So a refused code is remembered, by a hash, for as long as WeChat honours
// it, on every instance that shares the CallbackStore, and no exchange
// takes it. Refusing it costs no call to WeChat.

// codeLife is the longest a code is honoured: a website QR login's code
// lives ten minutes, an Official Account's five.
const codeLife = 10 * time.Minute

// errRefusedCode marks a code that a callback refused before.
var errRefusedCode = fmt.Errorf("%w: the code was refused by an earlier callback", ErrInvalidState)

// refusedKey is the CallbackStore key that marks code as refused.
func refusedKey(code string) string { return "refused:" + codeHash(code) }

// refuseCode remembers code as refused for codeLife: one small store entry
// per distinct code, gone when the code would be. Codes of the wrong shape
// are not remembered: WeChat never issued them.
func (a *Auth) refuseCode(ctx context.Context, code string) {
	if !isToken(code) {
		return
	}
	if _, err := a.opts.Callbacks.Claim(ctx, refusedKey(code), codeLife); err != nil {
		a.opts.Logger.WarnContext(ctx, "wechatauth: remembering a refused code", "err", err)
	}
}

// redeem trades code for the web-auth tokens of app, unless a callback
// refused the code before, and keeps the tokens where they serve: a scope
// that allows the profile, which RefreshUser can fetch again with them. A
// snsapi_base token can fetch nothing, and a snapshot-page user's openid
// is virtual: neither is kept.
func (a *Auth) redeem(ctx context.Context, app, code string) (*mp.Token, error) {
	_, err := a.opts.Callbacks.Record(ctx, refusedKey(code))
	switch {
	case err == nil:
		return nil, errRefusedCode
	case !errors.Is(err, ErrNotFound):
		return nil, storeError("callback", err)
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
