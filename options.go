package wechatauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Scope is the authorization scope a login asks WeChat for.
type Scope string

const (
	// ScopeBase (snsapi_base) is silent: one round trip, the openid only.
	ScopeBase Scope = "snsapi_base"
	// ScopeUserInfo (snsapi_userinfo) also gets the profile (nickname,
	// avatar, unionid). WeChat asks for consent where it applies.
	ScopeUserInfo Scope = "snsapi_userinfo"
	// ScopeProgressive asks for no more than it needs: a silent snsapi_base
	// round trip first, which logs a known user with a fresh profile in at
	// once; only an unknown user or a stale profile is sent on through
	// snsapi_userinfo. Returning users never see a consent screen, and
	// WeChat's snapshot page, shown to pages that ask for snsapi_userinfo as
	// soon as they open, is avoided.
	ScopeProgressive Scope = "progressive"
)

// wire returns the scope of the first round trip of a login.
func (s Scope) wire() Scope {
	if s == ScopeProgressive {
		return ScopeBase
	}
	return s
}

// SnapshotPolicy says what a login does with a visitor from WeChat's
// snapshot page (快照页), whose identity WeChat makes up.
type SnapshotPolicy int

const (
	// SnapshotRefuse answers with a page (403) that tells the visitor to tap
	// "使用完整服务" for the full page. It is the default.
	SnapshotRefuse SnapshotPolicy = iota
	// SnapshotGuest lets the visitor in as a guest: UserFrom gives a User
	// with Snapshot set and no OpenID. Nothing of the virtual identity is
	// stored.
	SnapshotGuest
)

// Options configures an Auth. AppID, AppSecret, CallbackURL and Sessions are
// required; every other field has a working zero value, given in its comment.
type Options struct {
	// AppID is the Official Account's AppID (starts with "wx").
	AppID string
	// AppSecret is the Official Account's AppSecret. It is only ever sent to
	// WeChat's API, never to a browser, a log line or an error.
	AppSecret string
	// CallbackURL is the public, absolute URL of the callback, such as
	// "https://example.com/wechat/callback". Its host must be the web
	// authorization domain set in the account's settings, its path is where
	// CallbackHandler is mounted, and its scheme and host are the origin of
	// every redirect: the request's Host header is never used.
	CallbackURL string
	// Scope is what a login asks for: ScopeBase, ScopeUserInfo or
	// ScopeProgressive. Default ScopeBase.
	Scope Scope
	// Sessions keeps the login in a cookie session. Handlers must run inside
	// Sessions.LoadAndSave. Its cookie must not be SameSite=Strict: the
	// browser would drop it on the way back from WeChat.
	Sessions *scs.SessionManager

	// OutsideWeChat says what browsers other than WeChat's get, where
	// WeChat's authorize page is a dead end. Default OutsideAuto: the QR
	// login when WebsiteAppID is set, else a page with a QR code to open the
	// page in WeChat (with the emulator's endpoints: the authorize page).
	OutsideWeChat OutsidePolicy
	// WebsiteAppID and WebsiteAppSecret are an Open Platform website app,
	// for WeChat's QR login in browsers outside WeChat. Its openids differ
	// from the Official Account's; a QR login whose unionid belongs to a
	// user already known (Users implementing UnionIDLookup) logs in as that
	// user. Default: none.
	WebsiteAppID     string
	WebsiteAppSecret string

	// Users keeps users by openid. Default: in memory, one per Auth.
	Users UserStore
	// Tokens keeps each user's web-auth tokens server-side. Default: in memory.
	Tokens TokenStore
	// Callbacks de-duplicates callbacks that WeChat or the browser deliver
	// twice. Default: in memory, which covers one instance; share a store
	// (package redisstore) between instances.
	Callbacks CallbackStore

	// HTTPClient carries every call to WeChat. Default: a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Endpoints are WeChat's base URLs. Default: production WeChat.
	Endpoints Endpoints
	// Timeout bounds the WeChat calls a callback makes (exchange and profile).
	// WeChat retries a callback that has not answered in about five seconds.
	// Default 5 seconds.
	Timeout time.Duration
	// StateTTL is how long a login may take from the redirect to WeChat to
	// the callback. Default 10 minutes.
	StateTTL time.Duration
	// ProfileMaxAge is how old a stored profile may be before a login with
	// ScopeUserInfo fetches it again. Default 30 days.
	ProfileMaxAge time.Duration
	// SnapshotUsers says what to do with visitors from WeChat's snapshot
	// page. Default SnapshotRefuse.
	SnapshotUsers SnapshotPolicy
	// MaxAttempts is how many round trips to WeChat one session may start
	// within StateTTL without completing a login; past it the user gets an
	// error page instead of another redirect. Default 5.
	MaxAttempts int

	// ErrorHandler writes the response when a login fails. err wraps one of
	// the package's sentinel errors or an *APIError; HTTPStatus(err) gives
	// the usual status. Default: a short HTML page with the status, what
	// happened and a retry link, never err's text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Unauthorized answers requests without a login that are not page
	// navigations (fetch, XHR, JSON, non-GET). loginURL starts a login that
	// returns to the calling page. Default: 401 with the JSON body
	// {"error":"wechat_login_required","login_url":loginURL}.
	Unauthorized func(w http.ResponseWriter, r *http.Request, loginURL string)
	// Refused answers a callback where the user declined to authorize.
	// retryURL starts the login again. Default: a 403 page that says so,
	// with a retry link.
	Refused func(w http.ResponseWriter, r *http.Request, retryURL string)
	// Logger receives an entry for each login, refusal, failure and debug
	// login (and, at debug level, each redirect to WeChat); none holds a
	// secret. Default slog.Default().
	Logger *slog.Logger
	// OnEvent, when set, is called for each Event of a login, for metrics
	// such as logins and failures by errcode. It runs on the request's
	// goroutine: keep it quick.
	OnEvent func(r *http.Request, e Event)

	// DebugBypass turns on the debug login, for using the app in a desktop
	// browser without WeChat: a request without a login is logged in as
	// DebugOpenID, or as the openid in its "_user" query parameter. Never turn
	// it on in production; New logs a warning when it is on. Default off.
	DebugBypass bool
	// DebugOpenID is the user DebugBypass logs in when the request names
	// none. Default: none, so only "_user" logs in.
	DebugOpenID string
	// DebugAllowRemote lets the debug login work for clients that are not on
	// the loopback interface. Default false: loopback clients only. Behind
	// a reverse proxy every client looks local: keep DebugBypass off there.
	DebugAllowRemote bool
}

// Defaults used for zero Options fields.
const (
	defaultTimeout       = 5 * time.Second
	defaultStateTTL      = 10 * time.Minute
	defaultProfileMaxAge = 30 * 24 * time.Hour
	defaultMaxAttempts   = 5
)

// withDefaults checks o and fills its zero fields. It reports every
// problem at once.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("wechatauth: Options.%s: %s", field, fmt.Sprintf(format, args...)))
	}

	switch {
	case o.AppID == "":
		bad("AppID", "required: the AppID of your Official Account, such as \"wx0123456789abcdef\"")
	case !isToken(o.AppID):
		bad("AppID", "must hold only letters, digits, '-' and '_', got %q", o.AppID)
	}
	if o.AppSecret == "" {
		bad("AppSecret", "required: the AppSecret of your Official Account (read it from the environment, not the source)")
	}
	if cb, err := url.Parse(o.CallbackURL); o.CallbackURL == "" {
		bad("CallbackURL", "required: the public absolute URL of the callback, such as \"https://example.com/wechat/callback\"")
	} else if err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" || cb.User != nil || cb.Fragment != "" || cb.RawQuery != "" {
		bad("CallbackURL", "must be an absolute http(s) URL without user, query or fragment, such as \"https://example.com/wechat/callback\"; got %q", o.CallbackURL)
	}
	switch o.Scope {
	case "":
		o.Scope = ScopeBase
	case ScopeBase, ScopeUserInfo, ScopeProgressive:
	default:
		bad("Scope", "must be ScopeBase, ScopeUserInfo or ScopeProgressive, got %q", o.Scope)
	}
	if o.Sessions == nil {
		bad("Sessions", "required: a *scs.SessionManager, such as scs.New(), whose LoadAndSave wraps your handlers")
	} else if o.Sessions.Cookie.SameSite == http.SameSiteStrictMode {
		bad("Sessions", "Cookie.SameSite is Strict, so the browser drops the session cookie on the way back from WeChat; use http.SameSiteLaxMode")
	}
	if o.OutsideWeChat < OutsideAuto || o.OutsideWeChat > OutsideAuthorize {
		bad("OutsideWeChat", "must be one of the Outside constants, got %d", o.OutsideWeChat)
	}
	if (o.WebsiteAppID == "") != (o.WebsiteAppSecret == "") {
		bad("WebsiteAppID", "WebsiteAppID and WebsiteAppSecret go together: set both or neither")
	} else if o.WebsiteAppID != "" && !isToken(o.WebsiteAppID) {
		bad("WebsiteAppID", "must hold only letters, digits, '-' and '_', got %q", o.WebsiteAppID)
	}
	if o.OutsideWeChat == OutsideQRLogin && o.WebsiteAppID == "" {
		bad("OutsideWeChat", "OutsideQRLogin needs WebsiteAppID and WebsiteAppSecret, the Open Platform website app")
	}
	if o.SnapshotUsers != SnapshotRefuse && o.SnapshotUsers != SnapshotGuest {
		bad("SnapshotUsers", "must be SnapshotRefuse or SnapshotGuest, got %d", o.SnapshotUsers)
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"Timeout", &o.Timeout, defaultTimeout},
		{"StateTTL", &o.StateTTL, defaultStateTTL},
		{"ProfileMaxAge", &o.ProfileMaxAge, defaultProfileMaxAge},
	}
	for _, f := range durations {
		switch {
		case *f.d < 0:
			bad(f.name, "must not be negative, got %v", *f.d)
		case *f.d == 0:
			*f.d = f.def
		}
	}
	switch {
	case o.MaxAttempts < 0:
		bad("MaxAttempts", "must not be negative, got %d", o.MaxAttempts)
	case o.MaxAttempts == 0:
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.DebugOpenID != "" && !o.DebugBypass {
		bad("DebugOpenID", "is set but DebugBypass is off; set DebugBypass to use it")
	}
	if o.DebugOpenID != "" && !isToken(o.DebugOpenID) {
		bad("DebugOpenID", "must be an openid (letters, digits, '-' and '_'), got %q", o.DebugOpenID)
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}

	if o.Users == nil || o.Tokens == nil || o.Callbacks == nil {
		mem := NewMemoryStore()
		if o.Users == nil {
			o.Users = mem
		}
		if o.Tokens == nil {
			o.Tokens = mem
		}
		if o.Callbacks == nil {
			o.Callbacks = mem
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	o.Endpoints = o.Endpoints.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// isToken reports whether s is non-empty and URL-safe in the way WeChat's
// appids, openids, codes and tokens are: letters, digits, '-' and '_'.
func isToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
