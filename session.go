package wechatauth

import (
	"context"
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
