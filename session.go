package wechatauth

import "context"

// keyUser is the one session key of the package, written when a login
// completes: the user and the login, see sessionValue. Logins under way
// live in cookies of their own (pending.go). The value is a string, so any
// scs codec stores it.
const keyUser = "wechatauth.user"

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
