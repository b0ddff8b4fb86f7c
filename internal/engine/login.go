package engine

import (
	"net/http"
)

// startLogin sends a request without a login on its way to the app's
// authorize page, asking for scope, to come back to returnTo. attempts
// counts the round trips of this login that came back to the callback
// without a login; past Config.MaxAttempts the user gets an error page
// instead of another one.
func (e *Engine[U]) startLogin(w http.ResponseWriter, r *http.Request, returnTo string, scope Scope, attempts int) {
	if !isNavigation(r) {
		e.unauthorized(w, r, e.LoginURL(e.refererPath(r)))
		return
	}
	if attempts >= e.cfg.MaxAttempts {
		e.fail(w, r, errTooManyAttempts, "/")
		return
	}
	page := requestFor(r, returnTo) // the login's page, whose account it is (see Tenanted)
	ap := e.face.AppFor(page)
	if ap == nil {
		e.face.Outside(w, e.hookRequest(page))
		return
	}
	scope = ap.Scope(scope)
	e.watch.started(r)
	p := e.newPending(w, r, pendingLogin{Return: SafeReturn(returnTo), Scope: scope, App: ap.Name(), Attempts: attempts})
	e.event(r, Event{Kind: EventRedirect, Scope: scope})
	redirect(w, ap.AuthorizeURL(e.cfg.CallbackURL, p.State, scope))
}

// Reauthorize sends the user of r through Config.ProfileScope, back to
// the page of r. Requests that are not page navigations get
// Config.Unauthorized instead.
func (e *Engine[U]) Reauthorize(w http.ResponseWriter, r *http.Request) {
	e.startLogin(w, r, browserURI(r), e.cfg.ProfileScope, 0)
}

// newPending makes a login under way and sets its cookie on w.
func (e *Engine[U]) newPending(w http.ResponseWriter, r *http.Request, p pendingLogin) pendingLogin {
	p.State, p.Nonce = e.states.mint(), newNonce()
	p.Expires = e.now().Add(e.cfg.StateTTL).Unix()
	return e.logins.set(w, r, p, e.cfg.StateTTL)
}
