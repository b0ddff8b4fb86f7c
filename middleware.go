package wechatauth

import (
	"context"
	"net/http"
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
		if r.URL.Path == a.callbackPath || a.atCallback(r) {
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
			a.startLogin(w, r, browserURI(r), a.opts.Scope.wire(), 0)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authContextKey{}, a)))
	})
}
