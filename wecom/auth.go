package wecom

import (
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/work"
)

// Auth puts WeCom login in front of handlers. Make one with New and share
// it; it is safe for concurrent use.
type Auth struct {
	opts Options
	e    *engine.Engine[Member] // the login flow, over the face below
	apps siteApps               // the apps a login may go through
	now  func() time.Time
}

// face is an Auth as the login flow sees it (engine.Face, face.go).
type face Auth

// sessionName keeps this face's session key and login cookies apart from
// an Official Account's on the same site ("wechatauth.wecom.user",
// "wechatauth-wecom-login-…").
const sessionName = "wecom"

// New checks o and returns an Auth. The error names every field that is
// wrong and how to fix it; a nil error means no request will fail because
// of configuration. New never calls WeCom or a store: the corp
// access_token is fetched by the first login.
func New(o Options) (*Auth, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	memTokens := o.TokenCache == nil
	o = o.withDefaults()
	a := &Auth{opts: o, now: time.Now}
	var debugID string
	if o.DebugBypass {
		debugID = o.DebugMember.ID()
	}
	a.e = engine.New(engine.Config[Member]{
		Name:         sessionName,
		Product:      engine.Product{Zh: "企业微信", En: "WeCom"},
		Names:        engine.Names{Require: "RequireMember", From: "MemberFrom", Current: "CurrentMember"},
		CallbackURL:  o.CallbackURL,
		Sessions:     o.Sessions,
		Store:        o.Callbacks,
		NotFound:     wechatauth.ErrNotFound,
		Secret:       o.Secret,
		Scope:        engine.Scope(o.Scope),
		ProfileScope: engine.Scope(ScopePrivateInfo),
		Scopes:       []engine.Scope{engine.Scope(ScopeBase), engine.Scope(ScopePrivateInfo)},
		Timeout:      o.Timeout,
		StateTTL:     o.StateTTL,
		MaxAttempts:  o.MaxAttempts,
		Logger:       o.Logger,
		IDName:       "member",
		ErrorHandler: o.ErrorHandler,
		Unauthorized: o.Unauthorized,
		Refused:      o.Refused,
		OnLogin:      o.OnLogin,
		OnEvent:      eventHook(o.OnEvent),
		DebugBypass:  o.DebugBypass, DebugAllowRemote: o.DebugAllowRemote, DebugID: debugID,
		Now: func() time.Time { return a.now() },
	}, (*face)(a))
	client := &work.Client{CorpID: o.CorpID, AgentID: o.AgentID, Secret: o.Secret, HTTPClient: o.HTTPClient, Endpoints: o.Endpoints}
	tokens := work.NewAccessTokenSource(client, mp.CredentialOptions{Cache: o.TokenCache})
	a.apps = newApps(o, client, tokens, a.e.Origin())
	a.warnSetup(memTokens)
	if o.DebugBypass {
		o.Logger.Warn("wecom: DEBUG BYPASS IS ON: anyone who can reach the app can log in as any member with ?_user=<userid>; never turn it on in production",
			"loopback_only", !o.DebugAllowRemote, "default_member", debugID)
	}
	return a, nil
}

// warnSetup logs, at New, the setups that work in a test and fail in
// production, each with its fix; memTokens says that the corp token is
// cached in this process's memory.
func (a *Auth) warnSetup(memTokens bool) {
	o, log := a.opts, a.opts.Logger
	if !o.DebugBypass && !o.DebugMember.isZero() {
		log.Debug("wecom: Options.DebugMember is set but DebugBypass is off, so it is ignored: nobody is logged in without WeCom")
	}
	a.e.WarnSetup()
	if !a.e.MemorySessions() {
		if _, mem := o.Callbacks.(*wechatauth.MemoryStore); mem {
			log.Warn("wecom: Options.Sessions.Store is shared, but Options.Callbacks is in this process's memory, so instances disagree about logins; share it too: store := redisstore.New(pool), then Callbacks: store")
		}
		if memTokens {
			log.Warn("wecom: Options.Sessions.Store is shared, but Options.TokenCache is left in this process's memory, so each instance fetches the corp access_token of its own; share it: TokenCache: store.CredentialCache(work.AccessTokenCredential, CorpID+\"/\"+AgentID)")
		}
	}
}

// LoginURL returns the URL of a login that ends on returnTo, a path on this
// site; anything else ends on "/". Use it for "log in with WeCom" links on
// pages that do not require a login.
func (a *Auth) LoginURL(returnTo string) string { return a.e.LoginURL(returnTo) }

// CallbackHandler returns the handler for Options.CallbackURL, where WeCom
// sends the browser back with code and state, from the authorize page and
// from the Web login alike. Mount it on the callback's path inside
// Options.Sessions.LoadAndSave. It also starts a login when called with
// only ?next=/path (see LoginURL).
//
// A state must be one this browser started (constant-time comparison,
// single use, expiry). When WeCom or the browser delivers a callback
// twice, the code is exchanged once and every delivery ends logged in.
func (a *Auth) CallbackHandler() http.Handler {
	return http.HandlerFunc(a.e.ServeCallback)
}

// RequireMember lets requests of logged-in members through to next and
// sends everyone else to log in: page navigations are redirected to
// WeCom (the authorize page inside the WeCom client, the Web login in
// desktop browsers, Options.OutsideWeCom in personal WeChat), other
// requests get Options.Unauthorized (401 by default). Inside next,
// MemberFrom(r) returns the member. Non-members come through only with
// Options.AllowNonMembers; check Member.IsMember where it matters.
//
// The logged-in path reads one session value and writes nothing.
// Requests to the callback's path are handed to the callback, so wrapping
// a whole mux works without mounting CallbackHandler.
func (a *Auth) RequireMember(next http.Handler) http.Handler {
	return a.e.Require(next, "", false)
}

// SessionStoreError answers a failure of the session store (Redis down,
// say) as one of the Auth's own: logged, as a failure with status 503,
// then through Options.ErrorHandler or the default page. Set
// Options.Sessions.ErrorFunc to it.
func (a *Auth) SessionStoreError(w http.ResponseWriter, r *http.Request, err error) {
	a.e.SessionStoreError(w, r, err)
}
