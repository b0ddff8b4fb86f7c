package wechatauth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/mp"
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

	// Component, with Authorizer, turns on component mode
	// (第三方平台代公众号发起网页授权): the site logs users in for every
	// Official Account that authorized an Open Platform third-party
	// platform, through the platform, which holds no account's
	// AppSecret. Set it to the *component.Platform; leave AppID,
	// AppSecret and the website app empty. The authorize link then
	// carries component_appid, codes are exchanged and tokens refreshed
	// with the component_access_token, and a callback must bring the
	// appid of its login's account. Each account's users stay its own: a
	// User carries its AppID, the stores keep it under User.Key, and a
	// session keeps one user per account, of whom a page sees only its
	// account's (a page of another account logs the visitor in through
	// that one, and the first login stays; Logout ends them all).
	// Default: none.
	Component mp.Component
	// Authorizer returns the appid of the Official Account that serves a
	// request, in component mode: AuthorizerByPath, or a function of your
	// own (a table of accounts by host, say). "" means none: a page that
	// needs a login then gets 404. Required with Component.
	Authorizer func(r *http.Request) string

	// WebsiteAppID and WebsiteAppSecret are an Open Platform website app,
	// for WeChat's QR login (qrconnect, snsapi_login) in browsers outside
	// WeChat, back through the same callback. Its openids differ from the
	// Official Account's; a QR login whose unionid belongs to a user already
	// known logs in as that user. Default: none.
	WebsiteAppID     string
	WebsiteAppSecret string
	// OutsideWeChat answers page navigations without a login from browsers
	// other than WeChat's, where WeChat's authorize page is a dead end
	// ("请在微信客户端打开链接"), when there is no website app for a QR
	// login. Its request's URL is the page the visitor asked for. Default: a page that shows the page's address as a QR code to
	// scan with WeChat; with Endpoints other than WeChat's (the emulator of
	// package wechattest, whose authorize page works in any browser), the
	// authorize page.
	OutsideWeChat http.Handler

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
	Endpoints mp.Endpoints
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
	// SnapshotGuests lets visitors from WeChat's snapshot page (快照页), whose
	// identity WeChat makes up, in as guests: UserFrom gives a User with
	// Snapshot set and no OpenID, and nothing of the virtual identity is
	// stored. Default false: such visitors get a page (403) that tells them
	// to tap "使用完整服务" for the full page.
	SnapshotGuests bool
	// MaxAttempts is how many round trips to WeChat one session may start
	// within StateTTL without completing a login; past it the user gets an
	// error page instead of another redirect. Default 5.
	MaxAttempts int

	// ErrorHandler writes the response when a login fails. err may wrap
	// ErrInvalidState or an *mp.Error; HTTPStatus(err) gives the usual
	// status. Default: a short HTML page with the status, what
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
	// OnLogin, when set, is called once for each login that completes,
	// through WeChat or the debug login, with the user (new or returning)
	// and the request, before the browser is sent on: the place to create
	// or update the application's own account. However often WeChat
	// delivers the callback, it is called once. An error refuses the login:
	// the browser gets Options.ErrorHandler's answer (by default a 403
	// page), err wraps the error returned, and the session stays logged
	// out. Snapshot-page guests, who have no identity, do not reach it.
	// It runs within the login's budget (Options.Timeout, shared with the
	// code exchange), and r's context lasts that long even if the browser
	// gives up: keep it quick. Default: none.
	OnLogin func(r *http.Request, u User) error
	// OnEvent, when set, is called for each Event of a login, for metrics
	// such as logins and failures by errcode. It runs on the request's
	// goroutine: keep it quick.
	OnEvent func(r *http.Request, e Event)

	// DebugBypass turns on the debug login, for using the app in a desktop
	// browser without WeChat: a request without a login is logged in as
	// DebugUser, or as the openid in its "_user" query parameter. Never turn
	// it on in production; New logs a warning when it is on. Default off.
	DebugBypass bool
	// DebugUser is the user DebugBypass logs in when the request names
	// none, with the profile pages show (Nickname, HeadImgURL, UnionID);
	// a "_user" login of its OpenID gets that profile too. Another openid
	// gets the profile stored for it in Users, or none. It is ignored
	// while DebugBypass is off (New says so at debug level), so both can
	// be set from one switch in the environment. Default: none, so only
	// "_user" logs in.
	DebugUser User
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

// check reports every problem of o at once, each naming the field and the
// fix.
func (o Options) check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("wechatauth: Options.%s: %s", field, fmt.Sprintf(format, args...)))
	}

	if o.Component != nil || o.Authorizer != nil {
		o.checkComponent(bad)
	} else {
		switch {
		case o.AppID == "":
			bad("AppID", "required: the AppID of your Official Account, such as \"wx0123456789abcdef\"")
		case !isToken(o.AppID):
			bad("AppID", "must hold only letters, digits, '-' and '_', got %q", o.AppID)
		}
		if o.AppSecret == "" {
			bad("AppSecret", "required: the AppSecret of your Official Account (read it from the environment, not the source)")
		}
	}
	engine.CheckCallbackURL(o.CallbackURL, "required: the public absolute URL of the callback, such as \"https://example.com/wechat/callback\"", "https://example.com/wechat/callback", bad)
	switch o.Scope {
	case "", ScopeBase, ScopeUserInfo, ScopeProgressive:
	default:
		bad("Scope", "must be ScopeBase, ScopeUserInfo or ScopeProgressive, got %q", o.Scope)
	}
	engine.CheckSessions(o.Sessions, o.CallbackURL, "WeChat", bad)
	if (o.WebsiteAppID == "") != (o.WebsiteAppSecret == "") {
		bad("WebsiteAppID", "WebsiteAppID and WebsiteAppSecret go together: set both or neither")
	} else if o.WebsiteAppID != "" && !isToken(o.WebsiteAppID) {
		bad("WebsiteAppID", "must hold only letters, digits, '-' and '_', got %q", o.WebsiteAppID)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Timeout", o.Timeout}, {"StateTTL", o.StateTTL}, {"ProfileMaxAge", o.ProfileMaxAge}} {
		if f.d < 0 {
			bad(f.name, "must not be negative, got %v", f.d)
		}
	}
	if o.MaxAttempts < 0 {
		bad("MaxAttempts", "must not be negative, got %d", o.MaxAttempts)
	}
	if o.DebugBypass && o.DebugUser != (User{}) && !isToken(o.DebugUser.OpenID) {
		bad("DebugUser", "OpenID must be an openid (letters, digits, '-' and '_'), got %q", o.DebugUser.OpenID)
	}
	return errors.Join(errs...)
}

// withDefaults returns o with its zero fields filled in.
func (o Options) withDefaults() Options {
	if o.Scope == "" {
		o.Scope = ScopeBase
	}
	for _, f := range []struct {
		d   *time.Duration
		def time.Duration
	}{{&o.Timeout, defaultTimeout}, {&o.StateTTL, defaultStateTTL}, {&o.ProfileMaxAge, defaultProfileMaxAge}} {
		if *f.d == 0 {
			*f.d = f.def
		}
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
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
	if o.Component != nil {
		o.Users, o.Tokens = accountUsers{o.Users}, accountTokens{o.Tokens}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	o.Endpoints = o.Endpoints.WithDefaults()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// isToken reports whether s is non-empty and URL-safe in the way WeChat's
// appids, openids, codes and tokens are: letters, digits, '-' and '_'.
func isToken(s string) bool { return wxspec.Valid(s, wxspec.MaxToken) }

// checkComponent reports the problems of component mode's fields.
func (o Options) checkComponent(bad func(field, format string, args ...any)) {
	switch {
	case o.Component == nil:
		bad("Component", "required with Authorizer: the *component.Platform that logs users in for the Official Accounts Authorizer names")
	case o.Authorizer == nil:
		bad("Authorizer", "required with Component: which Official Account serves a request, such as wechatauth.AuthorizerByPath(map[string]string{\"/shop-a/\": \"wx…\"})")
	}
	if _, ok := o.Component.(keyDeriver); o.Component != nil && !ok {
		bad("Component", "must be a *component.Platform (it derives the keys of login states from the platform's AppSecret), got %T", o.Component)
	}
	if o.AppID != "" || o.AppSecret != "" {
		bad("AppID", "leave AppID and AppSecret empty in component mode: the Official Account of a request is Authorizer's, and the platform holds no account's AppSecret")
	}
	if o.WebsiteAppID != "" || o.WebsiteAppSecret != "" {
		bad("WebsiteAppID", "a website app (QR login) is not supported in component mode: leave WebsiteAppID and WebsiteAppSecret empty")
	}
}

// keyDeriver is what Options.Component must also be: a source of keys
// that every instance shares and nobody else knows (component.Platform
// derives them from the platform's AppSecret).
type keyDeriver interface {
	DeriveKey(purpose string) []byte
}

// loginSecret is what the keys of states and login cookies derive from:
// the AppSecret, or in component mode a key of the platform's.
func (o Options) loginSecret() string {
	if o.Component != nil {
		return hex.EncodeToString(o.Component.(keyDeriver).DeriveKey("wechatauth component login"))
	}
	return o.AppSecret
}

// idName names a user's key in log lines: "openid", or in component
// mode, where the key is User.Key, "appid/openid".
func (o Options) idName() string {
	if o.Component != nil {
		return "appid/openid"
	}
	return "openid"
}
