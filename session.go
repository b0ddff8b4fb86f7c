package wechatauth

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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

// The session holds the user as one string, so that the authenticated path
// reads one key: the fields in a fixed order, separated by a byte that the
// encoder removes from the values.
const (
	userSep     = "\x1f"
	userVersion = "u1"
)

// encodeUser writes u; profile says the login allowed the profile
// (a grant with Profile), which RequireScope asks for.
func encodeUser(u User, profile bool) string {
	var updated string
	if !u.UpdatedAt.IsZero() {
		updated = strconv.FormatInt(u.UpdatedAt.Unix(), 10)
	}
	clean := func(s string) string {
		if strings.Contains(s, userSep) {
			return strings.ReplaceAll(s, userSep, "")
		}
		return s
	}
	var flags string
	if u.Snapshot {
		flags = "s"
	}
	if profile {
		flags += "p"
	}
	return strings.Join([]string{userVersion, clean(u.OpenID), clean(u.UnionID), clean(u.Nickname), clean(u.HeadImgURL), updated, flags}, userSep)
}

func decodeUser(s string) (User, bool) {
	var f [7]string
	for i := range f[:6] {
		var ok bool
		f[i], s, ok = strings.Cut(s, userSep)
		if !ok {
			return User{}, false
		}
	}
	f[6], _, _ = strings.Cut(s, userSep) // the flags, then a session's login key
	snapshot := strings.Contains(f[6], "s")
	if f[0] != userVersion || (f[1] == "") != snapshot {
		return User{}, false
	}
	u := User{OpenID: f[1], UnionID: f[2], Nickname: f[3], HeadImgURL: f[4], Snapshot: snapshot}
	if f[5] != "" { // ParseInt would allocate its error
		if sec, err := strconv.ParseInt(f[5], 10, 64); err == nil {
			u.UpdatedAt = time.Unix(sec, 0)
		}
	}
	return u, true
}

// The session's value is the encoded user, then the CallbackStore key of
// the login (which Logout closes): one key, read once on the logged-in
// path.

// sessionValue is what a session holds for u, logged in by the login kept
// under loginKey.
func sessionValue(u User, profile bool, loginKey string) string {
	return encodeUser(u, profile) + userSep + loginKey
}

// sessionTail returns the flags and the login key of a session's value.
func sessionTail(s string) (flags, loginKey string) {
	for range 6 {
		_, s, _ = strings.Cut(s, userSep)
	}
	flags, loginKey, _ = strings.Cut(s, userSep)
	return flags, loginKey
}

// isSnapshot reports whether the session's value s is a snapshot-page
// guest's.
func isSnapshot(s string) bool {
	flags, _ := sessionTail(s)
	return strings.Contains(flags, "s")
}

// allowsProfile reports whether the session's value s logged in with a
// scope that allowed the profile.
func allowsProfile(s string) bool {
	flags, _ := sessionTail(s)
	return strings.Contains(flags, "p")
}

// authContextKey marks requests that RequireWeChatUser let through, with
// the *Auth, and, in debug mode, requests that the Auth hands to the
// application's hooks, with an outsideMark.
type authContextKey struct{}

// outsideMark is what a request that the Auth hands to a hook of
// Options (OnEvent, ErrorHandler, Unauthorized, Refused) carries in debug
// mode, so that UserFrom can say that it is called where it finds no user.
type outsideMark struct{ a *Auth }

// UserFrom returns the logged-in user of a request that RequireWeChatUser
// (or RequireScope) let through. It reads the session only: no store and
// no network. Outside those middlewares ok is always false and u empty:
// on a route that serves visitors logged in or not, use (*Auth).CurrentUser.
// In debug mode (Options.DebugBypass), the first call on a request that
// the Auth handed to one of the Options hooks is logged as a warning; a
// route the Auth never sees cannot be told apart, so check ok.
func UserFrom(r *http.Request) (u User, ok bool) {
	switch v := r.Context().Value(authContextKey{}).(type) {
	case *Auth:
		return v.sessionUserOf(r)
	case outsideMark:
		v.a.watch.userFromOutside(v.a)
	}
	return User{}, false
}

// CurrentUser returns the logged-in user of any request inside
// Options.Sessions.LoadAndSave, such as a page that greets users who are
// logged in but does not require it. ok is false when nobody is logged in.
// A request that brings WeChat's redirect back to the callback on another
// path (the callback is not mounted where Options.CallbackURL says) is
// logged as a warning, once.
func (a *Auth) CurrentUser(r *http.Request) (u User, ok bool) {
	if a.misroutedCallback(r) {
		a.noteMisrouted(r)
	}
	return a.sessionUserOf(r)
}

// sessionUserOf returns the user that r's session holds.
func (a *Auth) sessionUserOf(r *http.Request) (u User, ok bool) {
	s, err := a.sessionUser(r.Context())
	if err != nil || s == "" {
		return User{}, false
	}
	return decodeUser(s)
}

// hookRequest returns r as the Auth hands it to a hook of Options: in
// debug mode, marked for UserFrom (see outsideMark), unless
// RequireWeChatUser let it through.
func (a *Auth) hookRequest(r *http.Request) *http.Request {
	if !a.opts.DebugBypass {
		return r
	}
	ctx := r.Context()
	if _, in := ctx.Value(authContextKey{}).(*Auth); in {
		return r
	}
	return r.WithContext(context.WithValue(ctx, authContextKey{}, outsideMark{a}))
}

// Logout ends the login of r's session: the user is forgotten, the
// session token is renewed, and no later delivery of the login's callback
// logs anyone in again. Other session data stays; call
// Options.Sessions.Destroy instead to drop it all. r must be inside
// Options.Sessions.LoadAndSave.
func (a *Auth) Logout(r *http.Request) error {
	ctx := r.Context()
	cur, err := a.sessionUser(ctx)
	if err != nil {
		return err
	}
	if _, key := sessionTail(cur); key != "" {
		if err := a.ledger.close(ctx, key); err != nil {
			return err
		}
	}
	if err := a.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("wechatauth: renewing the session token: %w", err)
	}
	a.sm.Remove(ctx, keyUser)
	return nil
}
