package wecom

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/work"
)

// Scope is what a login inside the WeCom client asks for.
type Scope string

const (
	// ScopeBase (snsapi_base) is silent: the member's userid, or a
	// non-member's openid.
	ScopeBase Scope = work.ScopeBase
	// ScopePrivateInfo (snsapi_privateinfo) asks the member's consent on a
	// page of WeCom's, and gives Member.Private, fetched in the callback.
	// It needs Options.AgentID. The Web login of desktop browsers never
	// gives the sensitive fields.
	ScopePrivateInfo Scope = work.ScopePrivateInfo
)

// Options configures an Auth. CorpID, AgentID, Secret, CallbackURL and
// Sessions are required; every other field has a working zero value,
// given in its comment.
type Options struct {
	// CorpID is the corp's ID (企业ID, 我的企业 → 企业信息), such as
	// "ww0123456789abcdef".
	CorpID string
	// AgentID is the self-built app's AgentId (应用管理 → 应用 → the app),
	// digits such as "1000002".
	AgentID string
	// Secret is the app's Secret (应用管理 → 应用 → the app → Secret). It
	// is only ever sent to WeCom's gettoken, never to a browser, a log
	// line or an error; the corp access_token it fetches never reaches a
	// session, a Member, a cookie, a URL or a log line either.
	Secret string
	// CallbackURL is the public, absolute URL of the callback, such as
	// "https://example.com/wecom/callback". Its host, port included, must
	// be the app's trusted domain (可信域名, 应用管理 → 应用 → 网页授权及
	// JS-SDK; and, for the Web login, 企业微信授权登录 → Web网页), its path
	// is where CallbackHandler is mounted, and its scheme and host are the
	// origin of every redirect: the request's Host header is never used.
	CallbackURL string
	// Scope is what a login inside the WeCom client asks for: ScopeBase
	// or ScopePrivateInfo. Default ScopeBase.
	Scope Scope
	// Sessions keeps the login in a cookie session, under a key of its
	// own, so that an Official Account's Auth may share it. Handlers must
	// run inside Sessions.LoadAndSave. Its cookie must not be
	// SameSite=Strict: the browser would drop it on the way back from
	// WeCom.
	Sessions *scs.SessionManager

	// AllowNonMembers lets people who are not members of the corp in: a
	// non-member (someone who opened the link in personal WeChat, say)
	// logs in with Member.OpenID, and a customer of the corp with
	// Member.ExternalUserID too. Default false: they get a 403 page that
	// says they are not members of the corp.
	AllowNonMembers bool
	// Profile fetches a member's Name and Department with WeCom's
	// user/get in the callback. The member must be in the app's visible
	// range (可见范围); a failure logs in without them and says so in the
	// log. Default false.
	Profile bool
	// OutsideWeCom answers page navigations without a login from personal
	// WeChat's browser, whose visitor is not in WeCom. Its request's URL
	// is the page the visitor asked for. Default: a page that asks the
	// visitor to open the page in WeCom, with its address as a QR code to
	// scan there; with AllowNonMembers, the authorize page, where WeCom
	// gives such a visitor a non-member's openid. Desktop browsers go
	// through WeCom's Web login, and WeCom's own browser through the
	// authorize page, whatever this says.
	OutsideWeCom http.Handler

	// Callbacks de-duplicates callbacks that WeCom or the browser deliver
	// twice, spends states and remembers refused codes: the Official
	// Account's CallbackStore serves WeCom too. Default: in memory, which
	// covers one instance; share a store (package redisstore) between
	// instances.
	Callbacks wechatauth.CallbackStore
	// TokenCache keeps the app's corp access_token, which every instance
	// should share so that it is fetched once per expiry:
	// store.CredentialCache(work.AccessTokenCredential, CorpID+"/"+AgentID)
	// of package redisstore. Default: in memory, one per Auth.
	TokenCache mp.CredentialCache

	// HTTPClient carries every call to WeCom. Default: a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// Endpoints are WeCom's base URLs. Default: production WeCom.
	Endpoints work.Endpoints
	// Timeout bounds the WeCom calls a callback makes (the code, the
	// profile, the sensitive fields). Default 5 seconds.
	Timeout time.Duration
	// StateTTL is how long a login may take from the redirect to WeCom to
	// the callback. Default 10 minutes.
	StateTTL time.Duration
	// MaxAttempts is how many round trips to WeCom one session may start
	// within StateTTL without completing a login; past it the user gets
	// an error page instead of another redirect. Default 5.
	MaxAttempts int

	// ErrorHandler writes the response when a login fails. err may wrap
	// ErrInvalidState, ErrNotMember or a *work.Error; HTTPStatus(err)
	// gives the usual status. Default: a short HTML page with the status,
	// what happened and a retry link, never err's text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Unauthorized answers requests without a login that are not page
	// navigations (fetch, XHR, JSON, non-GET). loginURL starts a login
	// that returns to the calling page. Default: 401 with the JSON body
	// {"error":"wechat_login_required","login_url":loginURL}.
	Unauthorized func(w http.ResponseWriter, r *http.Request, loginURL string)
	// Refused answers a callback where the member declined the consent of
	// ScopePrivateInfo or the Web login. retryURL starts the login again.
	// Default: a 403 page that says so, with a retry link.
	Refused func(w http.ResponseWriter, r *http.Request, retryURL string)
	// Logger receives an entry for each login, refusal, failure and debug
	// login (and, at debug level, each redirect to WeCom); none holds a
	// secret. Default slog.Default().
	Logger *slog.Logger
	// OnLogin, when set, is called once for each login that completes,
	// through WeCom or the debug login, with the member and the request,
	// before the browser is sent on: the place to create or update the
	// application's own account. An error refuses the login (a 403 page
	// by default) and the session stays logged out. It runs within
	// Options.Timeout: keep it quick. Default: none.
	OnLogin func(r *http.Request, m Member) error
	// OnEvent, when set, is called for each Event of a login, for metrics.
	// It runs on the request's goroutine: keep it quick.
	OnEvent func(r *http.Request, e Event)

	// DebugBypass turns on the debug login, for using the app without
	// WeCom: a request without a login is logged in as DebugMember, or as
	// the member whose userid its "_user" query parameter names (up to 64
	// letters, digits and "_-@."). Never turn it on in production; New logs a
	// warning when it is on. Default off.
	DebugBypass bool
	// DebugMember is the member DebugBypass logs in when the request
	// names none, with the fields pages show. It must be a member of the
	// app's own corp. It is
	// ignored while DebugBypass is off. Default: none, so only "_user"
	// logs in.
	DebugMember Member
	// DebugAllowRemote lets the debug login work for clients that are not
	// on the loopback interface. Default false: loopback clients only.
	DebugAllowRemote bool
}

// Defaults used for zero Options fields.
const (
	defaultTimeout     = 5 * time.Second
	defaultStateTTL    = 10 * time.Minute
	defaultMaxAttempts = 5
)

// check reports every problem of o at once, each naming the field and the
// fix.
func (o Options) check() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("wecom: Options.%s: %s", field, fmt.Sprintf(format, args...)))
	}

	switch {
	case o.CorpID == "":
		bad("CorpID", "required: the corp's ID (企业ID, under 我的企业 → 企业信息), such as \"ww0123456789abcdef\"")
	case !isToken(o.CorpID):
		bad("CorpID", "must hold only letters, digits, '-' and '_', got %q", o.CorpID)
	}
	switch {
	case o.AgentID == "":
		bad("AgentID", "required: the AgentId of the self-built app (应用管理 → 应用 → the app), such as \"1000002\"; the Web login needs it, and so does ScopePrivateInfo")
	case strings.Trim(o.AgentID, "0123456789") != "":
		bad("AgentID", "must be the app's AgentId, digits such as \"1000002\", got %q", o.AgentID)
	}
	if o.Secret == "" {
		bad("Secret", "required: the app's Secret (应用管理 → 应用 → the app → Secret; read it from the environment, not the source)")
	}
	engine.CheckCallbackURL(o.CallbackURL, "required: the public absolute URL of the callback, on the app's trusted domain (可信域名), such as \"https://example.com/wecom/callback\"", "https://example.com/wecom/callback", bad)
	switch o.Scope {
	case "", ScopeBase, ScopePrivateInfo:
	case "snsapi_userinfo":
		bad("Scope", "snsapi_userinfo is not a scope of WeCom's self-built apps: use ScopeBase, or ScopePrivateInfo for the sensitive fields")
	default:
		bad("Scope", "must be ScopeBase or ScopePrivateInfo, got %q", o.Scope)
	}
	engine.CheckSessions(o.Sessions, o.CallbackURL, "WeCom", bad)
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Timeout", o.Timeout}, {"StateTTL", o.StateTTL}} {
		if f.d < 0 {
			bad(f.name, "must not be negative, got %v", f.d)
		}
	}
	if o.MaxAttempts < 0 {
		bad("MaxAttempts", "must not be negative, got %d", o.MaxAttempts)
	}
	if o.DebugBypass && !o.DebugMember.isZero() {
		switch m := o.DebugMember; {
		case !m.IsMember() || m.Linked():
			bad("DebugMember", "must be a member of the app's own corp (UserID set, CorpID and OpenID empty): the debug login logs members in")
		case !wxspec.ValidUserID(m.UserID) || m.OpenID != "":
			bad("DebugMember", "UserID must be a userid (up to 64 letters, digits and \"_-@.\", what the debug login accepts), and OpenID be empty; got UserID %q", m.UserID)
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns o with its zero fields filled in.
func (o Options) withDefaults() Options {
	if o.Scope == "" {
		o.Scope = ScopeBase
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.StateTTL == 0 {
		o.StateTTL = defaultStateTTL
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Callbacks == nil {
		o.Callbacks = wechatauth.NewMemoryStore()
	}
	if o.TokenCache == nil {
		o.TokenCache = mp.NewMemoryCache()
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

// isZero reports whether m is the zero Member.
func (m Member) isZero() bool {
	return m.UserID == "" && m.CorpID == "" && m.OpenID == "" && m.ExternalUserID == "" && m.Name == "" && len(m.Department) == 0 && m.Private == (Private{})
}

// isToken reports whether s is non-empty and URL-safe in the way WeCom's
// corp IDs and codes are: letters, digits, '-' and '_'.
func isToken(s string) bool { return wxspec.Valid(s, wxspec.MaxToken) }
