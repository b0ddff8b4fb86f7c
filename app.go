package wechatauth

import (
	"context"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// An app is one WeChat app that a login of an Official Account's site goes
// through: the account's authorize page inside WeChat, or a QR login
// outside it. The login flow (package internal/engine) serves every app
// alike and knows of them what engine.App says; an app of this package
// also has a profile, and may have openids of its own. A new app
// implements app and is added by newApps.
type app interface {
	engine.App[User]
	// profile fetches the profile that g allows.
	profile(ctx context.Context, g engine.Grant[User]) (profile, error)
	// foreign reports whether the app's openids differ from the account's,
	// so that its users are found by their unionid.
	foreign() bool
}

// grant is whom a code names, as an app tells the flow: a User with the
// openid and unionid (Snapshot alone for a snapshot-page visitor, whose
// identity is made up and kept nowhere).
type grant = engine.Grant[User]

// profile is what an app's profile call gives.
type profile struct {
	Nickname, HeadImgURL string
	UnionID              string // empty when the app gives none
}
