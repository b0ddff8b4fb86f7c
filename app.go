package wechatauth

import "context"

// An app is one WeChat app that a login goes through: the Official
// Account's authorize page inside WeChat, or the website app's QR login
// outside it. Everything the flow knows of a particular app is behind this
// seam; the flow itself (login cookies, states, the ledger, pages, events,
// diagnostics, the debug login) serves every app alike, and only the apps
// speak WeChat's API. A new app implements app and is added to Auth.apps.
type app interface {
	// name names the app in a login's cookie and record; the Official
	// Account's is "".
	name() string
	// scope is the scope a login of this app asks for when the site
	// wants want.
	scope(want Scope) Scope
	// authorizeURL is the page a browser is sent to for a login with
	// state, to come back to callbackURL.
	authorizeURL(callbackURL, state string, scope Scope) string
	// redeem trades a code for whom it names, keeping the web-auth tokens
	// where they serve. An error of the app's platform (an errcode) means
	// it refused the code.
	redeem(ctx context.Context, code string) (grant, error)
	// profile fetches the profile that g allows.
	profile(ctx context.Context, g grant) (profile, error)
	// spent reports whether err means the code can no longer be
	// exchanged, so that a fresh round trip may help.
	spent(err error) bool
	// misconfigured wraps err with the setting to fix when it blames the
	// site's setup (a wrong secret, say), and returns it as it is
	// otherwise.
	misconfigured(err error) error
	// foreign reports whether the app's openids differ from the account's,
	// so that its users are found by their unionid.
	foreign() bool
}

// grant is whom a code names, as an app tells the flow.
type grant struct {
	OpenID, UnionID string
	// Snapshot marks a visitor of WeChat's snapshot page, whose identity
	// is made up: nothing of it is kept.
	Snapshot bool
	// Profile means the login's scope lets the app fetch the profile.
	Profile bool
	access  string // for the app's profile call; the flow keeps it nowhere
}

// profile is what an app's profile call gives.
type profile struct {
	Nickname, HeadImgURL string
	UnionID              string // empty when the app gives none
}
