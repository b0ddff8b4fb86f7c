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
	var app string
	if !insideWeChat(r) {
		switch {
		case a.webClient != nil:
			app, scope = appWebsite, scopeLogin
		case a.outside != nil:
			a.outside.ServeHTTP(w, a.hookRequest(requestFor(r, returnTo)))
			return
		}
	}
	a.watch.started(a, r)
	p := a.newPending(w, r, pendingLogin{Return: safeReturn(returnTo), Scope: scope, App: app, Attempts: attempts})
	a.event(r, Event{Kind: EventRedirect, Scope: scope})
	redirect(w, a.authorizeURL(p.State, scope, app))
}

// authorizeURL is the page of WeChat's that one login starts at: the
// authorize page, or the website QR login page (qrconnect) for a pending
// login of the website app.
func (a *Auth) authorizeURL(state string, scope Scope, app string) string {
	if app == appWebsite {
		return a.webClient.QRConnectURL(a.opts.CallbackURL, state)
	}
	return a.client.AuthorizeURL(a.opts.CallbackURL, string(scope), state)
}
