package wechatauth

import (
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth/internal/engine"
)

// Auth puts WeChat web authorization in front of handlers. Make one with New
// and share it; it is safe for concurrent use.
type Auth struct {
	opts Options
	e    *engine.Engine[User] // the login flow, over the face below
	apps siteApps             // the apps a login may go through
	now  func() time.Time
}

// face is an Auth as the login flow sees it (engine.Face, face.go).
type face Auth

// tenantFace is the face of component mode: a session's user belongs to
// the Official Account of its AppID (engine.Tenanted, face.go).
type tenantFace struct{ *face }

// New checks o and returns an Auth. The error names every field that is
// wrong and how to fix it; a nil error means no request will fail because
// of configuration.
func New(o Options) (*Auth, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	a := &Auth{opts: o, now: time.Now}
	a.e = engine.New(engine.Config[User]{
		CallbackURL:  o.CallbackURL,
		Sessions:     o.Sessions,
		Store:        o.Callbacks,
		NotFound:     ErrNotFound,
		Secret:       o.loginSecret(),
		Scope:        engine.Scope(o.Scope.wire()),
		ProfileScope: engine.Scope(ScopeUserInfo),
		Scopes:       []engine.Scope{engine.Scope(ScopeBase), engine.Scope(ScopeUserInfo)},
		Timeout:      o.Timeout,
		StateTTL:     o.StateTTL,
		MaxAttempts:  o.MaxAttempts,
		Guests:       o.SnapshotGuests,
		Logger:       o.Logger,
		IDName:       o.idName(),
		ErrorHandler: o.ErrorHandler,
		Unauthorized: o.Unauthorized,
		Refused:      o.Refused,
		OnLogin:      o.OnLogin,
		OnEvent:      eventHook(o.OnEvent),
		DebugBypass:  o.DebugBypass, DebugAllowRemote: o.DebugAllowRemote, DebugID: o.DebugUser.OpenID,
		Now: func() time.Time { return a.now() },
	}, a.face())
	a.apps = newApps(o, a.e.Origin())
	warnSetup(o, a.e)
	if o.DebugBypass {
		o.Logger.Warn("wechatauth: DEBUG BYPASS IS ON: anyone who can reach the app can log in as any openid with ?_user=<openid>; never turn it on in production",
			"loopback_only", !o.DebugAllowRemote, "default_openid", o.DebugUser.OpenID)
	}
	return a, nil
}

// face returns a as the login flow's face: a tenantFace in component
// mode.
func (a *Auth) face() engine.Face[User] {
	if a.opts.Component != nil {
		return tenantFace{(*face)(a)}
	}
	return (*face)(a)
}

// LoginURL returns the URL of a login that ends on returnTo, a path on this
// site; anything else ends on "/". Use it for "log in with WeChat" links on
// pages that do not require a login.
func (a *Auth) LoginURL(returnTo string) string { return a.e.LoginURL(returnTo) }

// CallbackHandler returns the handler for Options.CallbackURL, where WeChat
// sends the browser back with code and state. Mount it on the callback's
// path inside Options.Sessions.LoadAndSave. It also starts a login when
// called with only ?next=/path (see LoginURL).
//
// A state must be one this browser started (constant-time comparison,
// single use, expiry). When WeChat or the browser delivers a callback
// twice, with the same code or a new one, the code is exchanged once and
// every delivery ends logged in.
func (a *Auth) CallbackHandler() http.Handler {
	return http.HandlerFunc(a.e.ServeCallback)
}

// RequireWeChatUser lets requests of logged-in users through to next and
// sends everyone else to log in: page navigations are redirected to WeChat's
// authorize page, other requests get Options.Unauthorized (401 by default).
// Inside next, UserFrom(r) returns the user.
//
// The logged-in path reads one session value and writes nothing, so with a
// shared session store it costs no round trip beyond loading the session.
// Requests to the callback's path are handed to the callback, so wrapping a
// whole mux works without mounting CallbackHandler.
func (a *Auth) RequireWeChatUser(next http.Handler) http.Handler {
	return a.e.Require(next, "", false)
}

// RequireScope is RequireWeChatUser for a route that needs the user's
// profile (nickname, avatar) in an app whose Options.Scope does not ask
// for it, without a second Auth. With ScopeUserInfo a visitor without a
// login goes straight through snsapi_userinfo; with ScopeProgressive a
// silent snsapi_base round trip comes first. Either way a user logged in
// without the profile (a snsapi_base login whose stored profile is missing
// or older than Options.ProfileMaxAge) goes through consent, once, and
// comes back to the page. ScopeBase is RequireWeChatUser.
func (a *Auth) RequireScope(scope Scope, next http.Handler) http.Handler {
	if scope == ScopeBase || scope == "" {
		return a.e.Require(next, "", false)
	}
	return a.e.Require(next, engine.Scope(scope.wire()), true)
}

// SessionStoreError answers a failure of the session store (Redis down,
// say) as one of the Auth's own: logged, as a failure with status 503,
// then through Options.ErrorHandler or the default "unavailable for a
// moment" page. err is kept in the chain (errors.Is and errors.As see it)
// but never shown. Set Options.Sessions.ErrorFunc to it, instead of scs's
// bare 500:
//
//	sessions.ErrorFunc = auth.SessionStoreError
func (a *Auth) SessionStoreError(w http.ResponseWriter, r *http.Request, err error) {
	a.e.SessionStoreError(w, r, err)
}
