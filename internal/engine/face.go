package engine

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
)

// What a face gives the flow: its options (Config), its users (Face), and
// the apps a login goes through (App), which trade a code for a Grant; and
// what the flow tells it (Event).

// Scope is the authorization scope a round trip asks an app for.
type Scope string

// Config is what the flow needs of a face's options, checked and with
// their defaults filled in.
type Config[U any] struct {
	// Name tells the faces of one site apart in the session and the
	// browser: "" for the Official Account's (session key
	// "wechatauth.user", login cookies "wechatauth-login-…"), a word such
	// as "wecom" for another ("wechatauth.wecom.user",
	// "wechatauth-wecom-login-…"), so that two faces mounted on one site
	// keep their users and logins apart.
	Name string
	// Product names the platform on the flow's pages, Chinese and
	// English: 微信/WeChat when empty, 企业微信/WeCom for WeCom's face.
	Product Product
	// Names are the face's function names for log lines: those of the
	// Official Account's face (RequireWeChatUser, UserFrom, CurrentUser)
	// when empty.
	Names Names
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
	// DebugUser returns the user a debug login of key from r logs in as.
	DebugUser(r *http.Request, key string) U
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

// A Tenanted face keeps the users of several accounts apart in one flow,
// such as the Official Accounts a third-party platform logs users in for:
// a session keeps one user per account, each under a key of its own, and
// a request finds only the user of the account that serves it, so that a
// login on another account's page goes through that account and leaves
// the others' logins alone. The logged-in path calls Account and Serves
// once per request (and UserFrom once more).
type Tenanted[U any] interface {
	// Account returns the account that serves r, "" for none.
	Account(r *http.Request) string
	// AccountOf returns the account of u.
	AccountOf(u U) string
	// Serves reports whether the user of the session's value session
	// belongs to account: a value the flow did not write under that
	// account's key is no user there.
	Serves(account, session string) bool
}

// A CallbackChecker is an App whose platform adds to the callback what
// must match the login, such as the authorizer's appid of component mode.
type CallbackChecker interface {
	// CheckCallback returns an error when the callback's query q, which
	// brings a code, does not belong to a login of this app.
	CheckCallback(q url.Values) error
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

// EventKind names what happened in a login; a face's own kinds have the
// same values.
type EventKind int

// The kinds of Event.
const (
	EventRedirect   EventKind = iota + 1 // a round trip to the platform started
	EventLogin                           // a user logged in through the platform
	EventDebugLogin                      // the debug bypass logged a user in
	EventRefused                         // the user declined to authorize
	EventFailure                         // a request ended on an error page
)

// Event is one step of a login, handed to Config.OnEvent. It holds no
// secret: no token, code or state.
type Event struct {
	Kind   EventKind
	ID     string // the user's key (Face.Key) of EventLogin and EventDebugLogin
	Scope  Scope  // the scope of EventRedirect
	Err    error  // why an EventFailure failed
	Status int    // the HTTP status of an EventFailure
	Code   int    // the platform's errcode behind an EventFailure, or 0
}

// Product is the platform's name as the flow's pages say it.
type Product struct{ Zh, En string }

// Names are the names of a face's middleware and of its two ways to read
// the user, as the flow's log lines give them in a fix.
type Names struct{ Require, From, Current string }
