package wechatauth

import (
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
	// AppID is, in component mode (Options.Component), the appid of the
	// Official Account the user logged in through, whose openid OpenID
	// is; empty otherwise.
	AppID string
}

// Key is what tells u apart from every other user, and what the stores
// keep u under: the OpenID, or in component mode, where an openid
// belongs to one Official Account, "AppID/OpenID". RefreshUser takes it.
func (u User) Key() string {
	if u.AppID == "" {
		return u.OpenID
	}
	return u.AppID + "/" + u.OpenID
}

// splitKey reads a User.Key back: the appid ("" outside component mode)
// and the openid.
func splitKey(key string) (appID, openID string) {
	if a, o, ok := strings.Cut(key, "/"); ok {
		return a, o
	}
	return "", key
}
