package wechatauth

import (
	"context"
	"net/http"
	"time"
)

// User is a WeChat user as the package knows them: who they are (OpenID,
// and UnionID where the account is bound to an Open Platform account) and
// the small profile a ScopeUserInfo login fetches.
type User struct {
	OpenID     string
	UnionID    string // empty unless WeChat gave one
	Nickname   string // empty until a ScopeUserInfo login
	HeadImgURL string // avatar URL; empty until a ScopeUserInfo login or when the user has none
	// UpdatedAt is when the profile was last fetched from WeChat; zero if never.
	UpdatedAt time.Time
	// Snapshot marks a guest from WeChat's snapshot page (快照页), let in
	// only under Options.SnapshotGuests. WeChat gives such
	// visitors a virtual identity, so OpenID and the profile are empty: show
	// a guest view, and a link to LoginURL for the full login, which WeChat
	// offers once the visitor taps "使用完整服务".
	Snapshot bool
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
