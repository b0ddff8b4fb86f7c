package wechatauth

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/internal/engine"
)

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
	return strings.Join([]string{userVersion, clean(u.Key()), clean(u.UnionID), clean(u.Nickname), clean(u.HeadImgURL), updated, flags}, userSep)
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
	appID, openID := splitKey(f[1])
	if f[0] != userVersion || (openID == "") != snapshot {
		return User{}, false
	}
	u := User{OpenID: openID, UnionID: f[2], Nickname: f[3], HeadImgURL: f[4], Snapshot: snapshot, AppID: appID}
	if f[5] != "" { // ParseInt would allocate its error
		if sec, err := strconv.ParseInt(f[5], 10, 64); err == nil {
			u.UpdatedAt = time.Unix(sec, 0)
		}
	}
	return u, true
}

// The session's value is the encoded user, then the CallbackStore key of
// the login (which Logout closes): one key, read once on the logged-in
// path (see engine.Engine).

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

// UserFrom returns the logged-in user of a request that RequireWeChatUser
// (or RequireScope) let through. It reads the session only: no store and
// no network. Outside those middlewares ok is always false and u empty:
// on a route that serves visitors logged in or not, use (*Auth).CurrentUser.
// In debug mode (Options.DebugBypass), the first call on a request that
// the Auth handed to one of the Options hooks is logged as a warning; a
// route the Auth never sees cannot be told apart, so check ok.
func UserFrom(r *http.Request) (u User, ok bool) { return engine.UserFrom[User](r) }

// CurrentUser returns the logged-in user of any request inside
// Options.Sessions.LoadAndSave, such as a page that greets users who are
// logged in but does not require it. ok is false when nobody is logged in.
// A request that brings WeChat's redirect back to the callback on another
// path (the callback is not mounted where Options.CallbackURL says) is
// logged as a warning, once.
func (a *Auth) CurrentUser(r *http.Request) (u User, ok bool) { return a.e.CurrentUser(r) }

// Logout ends the login of r's session: the user is forgotten, the
// session token is renewed, and no later delivery of the login's callback
// logs anyone in again. Other session data stays; call
// Options.Sessions.Destroy instead to drop it all. r must be inside
// Options.Sessions.LoadAndSave.
func (a *Auth) Logout(r *http.Request) error { return a.e.Logout(r) }
