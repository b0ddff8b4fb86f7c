package wechatauth

import "context"

// Session keys, written when a login completes; logins under way live in
// cookies of their own (pending.go). Each value is a string, so any scs
// codec stores it.
const (
	keyUser  = "wechatauth.user"  // the logged-in user, see encodeUser
	keyLogin = "wechatauth.login" // the CallbackStore key of the login, which Logout closes
)

// sessionUser returns the encoded user held by the session, or "" when
// nobody is logged in. It reports errNoSession instead of letting scs panic
// when the handler is not inside Sessions.LoadAndSave.
func (a *Auth) sessionUser(ctx context.Context) (s string, err error) {
	defer func() {
		if recover() != nil {
			err = errNoSession
		}
	}()
	return a.sm.GetString(ctx, keyUser), nil
}
