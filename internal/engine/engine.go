// Package engine is the login flow that every kind of WeChat login
// shares, written once and knowing no platform API: the login under way in
// a cookie of its own, the state and its MAC, the return path filter, one
// code exchange per login across deliveries and instances, session
// renewal, 401 answers for API requests, error pages, events, setup
// diagnostics and the debug login.
//
// A public package is a face over it: it says what its users are (the
// identity type U and how a session keeps it, a Face), which apps a login
// goes through (App: the page a browser is sent to, trading a code for
// whom it names, the errcodes that mean "spent" or "misconfigured"), and
// hands its options over as a Config. Package wechatauth is the face of
// an Official Account's users.
package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Scope is the authorization scope a round trip asks an app for.
type Scope string

// Config is what the flow needs of a face's options, checked and with
// their defaults filled in.
type Config[U any] struct {
	// CallbackURL is the public, absolute URL of the callback: the origin
	// of every redirect and the path of the callback.
	CallbackURL string
	// Sessions keeps the login in a cookie session.
	Sessions *scs.SessionManager
	// Store de-duplicates callbacks, spends states and remembers refused
	// codes, and NotFound is what it wraps when nothing is kept under a
	// key.
	Store    Store
	NotFound error
	// Secret is what the keys of states and login cookies derive from,
	// shared by every instance.
	Secret string
	// Scope is the scope of the first round trip of a login; ProfileScope
	// is the scope of a round trip that gets the profile, and Scopes are
	// every scope a login may want (what a login cookie may name).
	Scope        Scope
	ProfileScope Scope
	Scopes       []Scope
	// Timeout bounds the calls a callback makes; StateTTL is how long a
	// login may take; MaxAttempts is how many round trips one login may
	// start.
	Timeout     time.Duration
	StateTTL    time.Duration
	MaxAttempts int
	// Guests lets guests (users whose identity the platform makes up, such
	// as WeChat's snapshot-page visitors) in.
	Guests bool
	// Logger receives the flow's log lines; IDName names a user's key in
	// them ("openid").
	Logger *slog.Logger
	IDName string
	// The face's hooks; nil for the defaults.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	Unauthorized func(w http.ResponseWriter, r *http.Request, loginURL string)
	Refused      func(w http.ResponseWriter, r *http.Request, retryURL string)
	OnLogin      func(r *http.Request, u U) error
	OnEvent      func(r *http.Request, e Event)
	// The debug login: on, for remote clients too, and the key of the
	// user it logs in when the request names none.
	DebugBypass      bool
	DebugAllowRemote bool
	DebugID          string
	// Now is the clock; nil for time.Now.
	Now func() time.Time
}

// Store is the CallbackStore of a face: see wechatauth.CallbackStore.
type Store interface {
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	Record(ctx context.Context, key string) ([]byte, error)
	Finish(ctx context.Context, key string, record []byte, ttl time.Duration) error
}

// Face is what differs between the public faces of the flow: their users,
// of type U, and the apps a login goes through.
type Face[U any] interface {
	// Encode writes u as the session and the CallbackStore keep it;
	// profile says that the login allowed the profile. Decode reads it
	// back, ignoring what a session adds after a "\x1f": the login's key,
	// which LoginKey returns.
	Encode(u U, profile bool) string
	Decode(s string) (U, bool)
	LoginKey(session string) string
	// Key is what tells the same person (an openid); Alias is another
	// name of theirs that other apps share (a unionid), or "".
	Key(u U) string
	Alias(u U) string
	// Guest reports whether u is a guest, whose identity the platform made
	// up: nothing of it is kept.
	Guest(u U) bool
	// HasProfile reports whether a session's user has the profile a route
	// asks for, and whether it is a guest, who has none to give.
	HasProfile(session string) (has, guest bool)
	// AppFor returns the app a login from r goes through, or nil when
	// Outside answers r instead; App returns the app of a name, or nil.
	AppFor(r *http.Request) App[U]
	App(name string) App[U]
	Outside(w http.ResponseWriter, r *http.Request)
	// Resolve finds or makes the user whom g names, who is no guest.
	// consent says that the login goes on through a round trip of
	// Config.ProfileScope before it completes.
	Resolve(ctx context.Context, ap App[U], g Grant[U]) (u U, consent bool, err error)
	// DebugUser returns the user a debug login of key logs in as.
	DebugUser(ctx context.Context, key string) U
	// Errcode returns the platform's errcode when err is the platform's
	// refusal; Upstream reports whether err is the platform's refusal or a
	// failure to reach it.
	Errcode(err error) (code int, ok bool)
	Upstream(err error) bool
}

// An App is one app that a login goes through, such as an authorize page
// inside WeChat or a QR login outside it: everything the flow knows of a
// particular app. Only apps
// speak a platform's API.
type App[U any] interface {
	// Name names the app in a login's cookie and record.
	Name() string
	// Scope is the scope a login of this app asks for when the site
	// wants want.
	Scope(want Scope) Scope
	// AuthorizeURL is the page a browser is sent to for a login with
	// state, to come back to callbackURL.
	AuthorizeURL(callbackURL, state string, scope Scope) string
	// Redeem trades a code for whom it names. An error of the app's
	// platform (an errcode) means it refused the code.
	Redeem(ctx context.Context, code string) (Grant[U], error)
	// Spent reports whether err means the code can no longer be
	// exchanged, so that a fresh round trip may help.
	Spent(err error) bool
	// Misconfigured wraps err with the setting to fix when it blames the
	// site's setup (see SetupError), and returns it as it is otherwise.
	Misconfigured(err error) error
}

// Grant is whom a code names, as an app tells the flow.
type Grant[U any] struct {
	User U
	// Profile means the login's scope lets the app fetch the profile.
	Profile bool
	// Access is for the app's own calls (the profile); the flow keeps it
	// nowhere.
	Access string
}

// Engine is the flow of one site. Make one with New and share it; it is
// safe for concurrent use.
type Engine[U any] struct {
	cfg    Config[U]
	face   Face[U]
	site   // where Config.CallbackURL puts the site
	ledger *ledger[U]
	watch  setupWatch // mistakes that show only at run time
	states states     // under a key derived from Config.Secret
	logins loginCookies
}

// New returns the flow of cfg, which its face has checked, for face.
func New[U any](cfg Config[U], face Face[U]) *Engine[U] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cb, _ := url.Parse(cfg.CallbackURL) // checked by the face
	e := &Engine[U]{
		cfg:    cfg,
		face:   face,
		site:   site{origin: cb.Scheme + "://" + cb.Host, callbackHost: strings.ToLower(cb.Hostname()), callbackPath: cb.Path, callbackEscPath: cb.EscapedPath()},
		states: states{deriveKey(cfg.Secret, "wechatauth login state v1")},
	}
	e.watch.site, e.watch.callbackURL, e.watch.log, e.watch.debug = e.site, cfg.CallbackURL, cfg.Logger, cfg.DebugBypass
	e.ledger = &ledger[U]{store: cfg.Store, notFound: cfg.NotFound, timeout: cfg.Timeout, keep: cfg.StateTTL, log: cfg.Logger, face: face}
	e.logins = newLoginCookies(e.origin, cfg.Sessions.Cookie, deriveKey(cfg.Secret, "wechatauth login cookie v1"), e.knownLogin)
	return e
}

func (e *Engine[U]) now() time.Time { return e.cfg.Now() }

// LoginURL returns the URL of a login that ends on returnTo, a path on this
// site; anything else ends on "/".
func (e *Engine[U]) LoginURL(returnTo string) string {
	return e.cfg.CallbackURL + "?next=" + url.QueryEscape(SafeReturn(returnTo))
}

// Origin is the site's public origin, scheme://host of Config.CallbackURL.
func (e *Engine[U]) Origin() string { return e.origin }

// knownLogin reports whether a login of the app named appName with scope
// is one this site starts: what a login cookie may name.
func (e *Engine[U]) knownLogin(appName string, scope Scope) bool {
	ap := e.face.App(appName)
	if ap == nil {
		return false
	}
	for _, want := range e.cfg.Scopes {
		if ap.Scope(want) == scope {
			return true
		}
	}
	return false
}

// redirect sends the browser to a path on this site or to WeChat.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// deriveKey derives a key for purpose from the app's secret, which every
// instance shares; the key reveals nothing of the secret.
func deriveKey(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
