package wechatauth

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// The methods of face (see auth.go) make an Auth the face of the login
// flow (engine.Face): an Official Account's users, the apps of its site,
// and what WeChat's errors mean.

// Encode, Decode and LoginKey keep a User in the session and the
// CallbackStore (session.go).
func (f *face) Encode(u User, profile bool) string { return encodeUser(u, profile) }
func (f *face) Decode(s string) (User, bool)       { return decodeUser(s) }
func (f *face) LoginKey(session string) string {
	_, key := sessionTail(session)
	return key
}

// Key, Alias and Guest: the openid tells the same user, the unionid names
// them in every app of an Open Platform account, and a snapshot-page
// visitor is a guest.
func (f *face) Key(u User) string   { return u.Key() }
func (f *face) Alias(u User) string { return u.UnionID }
func (f *face) Guest(u User) bool   { return u.Snapshot }

// HasProfile reports whether the session's user has what RequireScope
// asks for: a login that allowed the profile, or a stored profile fresh
// enough; a snapshot-page guest has none to give.
func (f *face) HasProfile(session string) (has, guest bool) {
	if isSnapshot(session) {
		return false, true
	}
	if allowsProfile(session) {
		return true, false
	}
	u, ok := decodeUser(session)
	return ok && !u.Snapshot && !u.UpdatedAt.IsZero() && f.now().Sub(u.UpdatedAt) <= f.opts.ProfileMaxAge, false
}

func (f *face) AppFor(r *http.Request) engine.App[User] { return f.apps.appFor(r) }
func (f *face) App(name string) engine.App[User]        { return f.apps.named(name) }

// Outside answers a browser outside WeChat that has no app to log in
// through (see appFor).
func (f *face) Outside(w http.ResponseWriter, r *http.Request) {
	if f.apps.component != nil && f.apps.authorizerOf(r) == "" {
		noAuthorizer(w, r)
		return
	}
	f.apps.outside.ServeHTTP(w, r)
}

func (f *face) Resolve(ctx context.Context, ap engine.App[User], g engine.Grant[User]) (User, bool, error) {
	return (*Auth)(f).resolve(ctx, ap.(app), g)
}

// DebugUser is the user a debug login of openID from r logs in:
// Options.DebugUser for its openid, the stored user, or a user with the
// openid only; in component mode, of the Official Account that serves r.
func (f *face) DebugUser(r *http.Request, openID string) User {
	want := User{OpenID: openID, AppID: f.apps.authorizerOf(r)}
	user, err := f.opts.Users.User(r.Context(), want.Key())
	switch {
	case openID == f.opts.DebugUser.OpenID:
		user = f.opts.DebugUser
		user.AppID = want.AppID
	case err != nil:
		user = want
	}
	return user
}

func (f *face) Errcode(err error) (int, bool) { return errcodeOf(err) }
func (f *face) Upstream(err error) bool       { return fromWeChat(err) }

// Account is the appid of the Official Account that serves r, and
// AccountOf u's: a session keeps one user of each account.
func (t tenantFace) Account(r *http.Request) string { return t.apps.authorizerOf(r) }
func (t tenantFace) AccountOf(u User) string        { return u.AppID }

// Serves reports whether the session's user belongs to the account
// appID: the session's value starts with the user's key, whose appid must
// be appID.
func (t tenantFace) Serves(appID, session string) bool {
	rest, ok := strings.CutPrefix(session, userVersion+userSep)
	return ok && appID != "" && len(rest) > len(appID) && rest[len(appID)] == '/' && rest[:len(appID)] == appID
}

// noAuthorizer answers a request that no Official Account serves, in
// component mode: Options.Authorizer gave no appid for it.
func noAuthorizer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "没有公众号提供此页面。\nNo Official Account serves this page.\n")
}

var _ engine.Tenanted[User] = tenantFace{}
