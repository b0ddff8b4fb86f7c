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
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

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
	key    string // the session key of the face's users
	// tenant is the face as a Tenanted, or nil, and the session keys of
	// its accounts (see accountKey).
	tenant          Tenanted[U]
	accountKeys     sync.Map
	accountKeyCount atomic.Int64
}

// New returns the flow of cfg, which its face has checked, for face.
func New[U any](cfg Config[U], face Face[U]) *Engine[U] {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Product == (Product{}) {
		cfg.Product = Product{Zh: "微信", En: "WeChat"}
	}
	if cfg.Names == (Names{}) {
		cfg.Names = Names{Require: "RequireWeChatUser", From: "UserFrom", Current: "CurrentUser"}
	}
	cb, _ := url.Parse(cfg.CallbackURL) // checked by the face
	e := &Engine[U]{
		cfg:    cfg,
		face:   face,
		site:   site{origin: cb.Scheme + "://" + cb.Host, callbackHost: strings.ToLower(cb.Hostname()), callbackPath: cb.Path, callbackEscPath: cb.EscapedPath()},
		states: states{deriveKey(cfg.Secret, "wechatauth login state v1")},
	}
	e.watch.site, e.watch.callbackURL, e.watch.log, e.watch.debug, e.watch.product, e.watch.names = e.site, cfg.CallbackURL, cfg.Logger, cfg.DebugBypass, cfg.Product.En, cfg.Names
	e.ledger = &ledger[U]{store: cfg.Store, notFound: cfg.NotFound, timeout: cfg.Timeout, keep: cfg.StateTTL, log: cfg.Logger, face: face}
	e.key = sessionKey(cfg.Name)
	if t, ok := face.(Tenanted[U]); ok {
		e.tenant = t
	}
	e.logins = newLoginCookies(e.origin, cfg.Name, cfg.Sessions.Cookie, deriveKey(cfg.Secret, "wechatauth login cookie v1"), e.knownLogin)
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
