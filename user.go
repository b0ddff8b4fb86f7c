package wechatauth

import (
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
