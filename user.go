package wechatauth

import (
	"net/http"
	"strconv"
	"strings"
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

// authContextKey marks requests that RequireWeChatUser let through.
type authContextKey struct{}

// UserFrom returns the logged-in user of a request that RequireWeChatUser
// let through. It reads the session only: no store and no network. ok is
// false outside RequireWeChatUser; use (*Auth).CurrentUser there.
func UserFrom(r *http.Request) (u User, ok bool) {
	a, _ := r.Context().Value(authContextKey{}).(*Auth)
	if a == nil {
		return User{}, false
	}
	return a.CurrentUser(r)
}

// CurrentUser returns the logged-in user of any request inside
// Options.Sessions.LoadAndSave, such as a page that greets users who are
// logged in but does not require it. ok is false when nobody is logged in.
func (a *Auth) CurrentUser(r *http.Request) (u User, ok bool) {
	s, err := a.sessionUser(r.Context())
	if err != nil || s == "" {
		return User{}, false
	}
	return decodeUser(s)
}

// The session holds the user as one string, so that the authenticated path
// reads one key: the fields in a fixed order, separated by a byte that the
// encoder removes from the values.
const (
	userSep     = "\x1f"
	userVersion = "u1"
)

// encodeUser writes u; profile says the login allowed the profile
// (snsapi_userinfo or QR login), which RequireScope asks for.
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
