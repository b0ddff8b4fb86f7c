package engine

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/alexedwards/scs/v2/memstore"
)

// WarnSetup logs the setups of the session cookie that work in a test
// and fail in production, each with its fix. They are warnings rather than
// errors: tests and local setups that map an https CallbackURL onto a
// plain-http server are legitimate.
func (e *Engine[U]) WarnSetup() {
	o, log := e.cfg, e.cfg.Logger
	if !strings.HasPrefix(e.origin, "https:") && o.Sessions.Cookie.Secure && e.callbackHost != "localhost" && e.callbackHost != "127.0.0.1" && e.callbackHost != "::1" {
		log.Warn("wechatauth: Sessions.Cookie.Secure is set but Options.CallbackURL is http, and browsers keep Secure cookies only over https (and on localhost), so no login can complete; fix: serve the site over https with an https CallbackURL, or leave Secure off for plain-http tests")
	}
	if strings.HasPrefix(e.origin, "https:") && !o.Sessions.Cookie.Secure {
		log.Warn(`wechatauth: Options.CallbackURL is https but the session cookie is not Secure, so a network attacker can read it on any http page of the site; set Sessions.Cookie.Secure = true, and Sessions.Cookie.Name = "__Host-session" so that no other subdomain can plant one`)
	}
}

// MemorySessions reports whether the sessions live in this process's
// memory (scs's default store), so that one instance serves them all.
func (e *Engine[U]) MemorySessions() bool {
	_, local := e.cfg.Sessions.Store.(*memstore.MemStore)
	return local
}

// noCookieError explains a callback that came back without the cookie of
// any login this browser started: the browser did not keep it, or did not
// send it to the callback.
func (e *Engine[U]) noCookieError() error {
	c := e.cfg.Sessions.Cookie
	var reasons []string
	if c.Secure && !strings.HasPrefix(e.origin, "https:") {
		reasons = append(reasons, "Sessions.Cookie.Secure is set but Options.CallbackURL is http, and browsers keep Secure cookies only over https: serve the site over https or set Secure only there")
	}
	reasons = append(reasons,
		"the page that started the login is on another host than Options.CallbackURL ("+e.origin+"): open the site at that origin",
		"the browser blocks cookies for this site",
		"the login took place in another browser or an in-app view that does not share cookies")
	return SetupError(fmt.Errorf("callback: %w: the browser sent no cookie of a login it started", ErrInvalidState),
		"make the login's cookie come back; the usual reasons it does not: "+strings.Join(reasons, "; "))
}

// misroutedCallback reports whether r is WeChat's redirect back to the
// callback, on a path that is not the callback's: a state of this site's
// (its MAC checks) brought by the browser that started that login (it
// holds the login's cookie). That is certain evidence that the callback
// is not mounted where Options.CallbackURL says, or that the path is
// rewritten on the way; a link that someone else made with a state of
// their own login does not count. It costs a substring search unless the
// query holds a state.
func (e *Engine[U]) misroutedCallback(r *http.Request) bool {
	if !strings.Contains(r.URL.RawQuery, "state=") || r.URL.Path == e.callbackPath || e.atCallback(r) {
		return false
	}
	state := r.URL.Query().Get("state")
	if !e.states.issued(state) {
		return false
	}
	_, ours := e.logins.find(r, state)
	return ours
}

// misroutedError is the failure of a request that misroutedCallback
// caught, naming both possible causes and the fix.
func (e *Engine[U]) misroutedError(r *http.Request) error {
	return SetupError(
		fmt.Errorf("wechatauth: %s sent the browser back to %s, which is not the path of Options.CallbackURL (%s)", e.cfg.Product.En, logPath(r.URL.Path), e.callbackPath),
		"either the callback is not mounted at CallbackURL's path, or a proxy or router in front of the app strips or rewrites the path; mount auth.CallbackHandler() at "+e.callbackPath+" (the whole path, inside Sessions.LoadAndSave), or wrap the whole router in auth."+e.cfg.Names.Require+", and let any proxy pass the path unchanged (or make CallbackURL the URL that browsers reach)")
}

// noteMisrouted warns, once, of a request that misroutedCallback caught
// where the flow does not answer it (CurrentUser on another route).
func (e *Engine[U]) noteMisrouted(r *http.Request) {
	e.watch.misrouted.Do(func() {
		e.cfg.Logger.Warn(e.misroutedError(r).Error(), "callback_url", e.cfg.CallbackURL)
	})
}
