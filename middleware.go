package wechatauth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == a.callbackPath {
			a.serveCallback(w, r)
			return
		}
		user, err := a.sessionUser(r.Context())
		if err != nil {
			a.fail(w, r, err, "/")
			return
		}
		if a.opts.DebugBypass {
			var handled bool
			if user, handled = a.debugLogin(w, r, user); handled {
				return
			}
		}
		if user == "" {
			a.startLogin(w, r, r.URL.RequestURI(), a.opts.Scope.wire())
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authContextKey{}, a)))
	})
}

// startLogin sends a request without a login on its way to WeChat, asking
// for scope, to come back to returnTo.
func (a *Auth) startLogin(w http.ResponseWriter, r *http.Request, returnTo string, scope Scope) {
	if !isNavigation(r) {
		a.unauthorized(w, r, a.LoginURL(a.refererPath(r)))
		return
	}
	ctx := r.Context()
	now := a.now()
	ls := a.loadLoginState(ctx)
	ls.prune(now, a.opts.StateTTL)
	if ls.Attempts >= a.opts.MaxAttempts {
		a.saveLoginState(ctx, ls)
		a.fail(w, r, ErrTooManyAttempts, "/")
		return
	}
	var app string
	if !insideWeChat(r) {
		switch a.outside {
		case OutsideOpenInWeChat:
			a.saveLoginState(ctx, ls)
			a.openInWeChat(w, r, returnTo)
			return
		case OutsideQRLogin:
			app, scope = appWebsite, scopeLogin
		}
	}
	state := newState()
	ls.add(pendingLogin{State: state, Return: safeReturn(returnTo), Expires: now.Add(a.opts.StateTTL).Unix(), Scope: scope, App: app}, now)
	a.saveLoginState(ctx, ls)
	a.event(r, Event{Kind: EventRedirect, Scope: scope})
	redirect(w, a.authorizeURL(state, scope, app))
}

// isNavigation reports whether r is a browser loading a page, which may be
// redirected, rather than a script or an API client, which may not.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	h := r.Header
	if h.Get("X-Requested-With") != "" {
		return false
	}
	if m := h.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	accept := h.Get("Accept")
	return !strings.Contains(accept, "application/json") || strings.Contains(accept, "text/html")
}

// refererPath returns the path and query of the page that made r when that
// page is on this site's origin, and "/" otherwise.
func (a *Auth) refererPath(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Scheme+"://"+ref.Host != a.origin {
		return "/"
	}
	return safeReturn(ref.RequestURI())
}
