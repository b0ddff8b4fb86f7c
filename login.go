package wechatauth

import (
	"net/http"
)

// startLogin sends a request without a login on its way to WeChat, asking
// for scope, to come back to returnTo. attempts counts the round trips of
// this login that came back to the callback without a login; past
// Options.MaxAttempts the user gets an error page instead of another one.
func (a *Auth) startLogin(w http.ResponseWriter, r *http.Request, returnTo string, scope Scope, attempts int) {
	if !isNavigation(r) {
		a.unauthorized(w, r, a.LoginURL(a.refererPath(r)))
		return
	}
	if attempts >= a.opts.MaxAttempts {
		a.fail(w, r, errTooManyAttempts, "/")
		return
	}
	ap := a.appFor(r)
	if ap == nil {
		a.outside.ServeHTTP(w, a.hookRequest(requestFor(r, returnTo)))
		return
	}
	scope = ap.scope(scope)
	a.watch.started(a, r)
	p := a.newPending(w, r, pendingLogin{Return: safeReturn(returnTo), Scope: scope, App: ap.name(), Attempts: attempts})
	a.event(r, Event{Kind: EventRedirect, Scope: scope})
	redirect(w, ap.authorizeURL(a.opts.CallbackURL, p.State, scope))
}

// newPending makes a login under way and sets its cookie on w.
func (a *Auth) newPending(w http.ResponseWriter, r *http.Request, p pendingLogin) pendingLogin {
	p.State, p.Nonce = a.states.mint(), newNonce()
	p.Expires = a.now().Add(a.opts.StateTTL).Unix()
	return a.logins.set(w, r, p, a.opts.StateTTL)
}
