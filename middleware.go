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
	return a.require(next, "")
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
	if scope == ScopeBase {
		scope = ""
	}
	return a.require(next, scope)
}

// require serves RequireWeChatUser (scope "") and RequireScope.
func (a *Auth) require(next http.Handler, scope Scope) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == a.callbackPath || a.atCallback(r) {
			a.serveCallback(w, r)
			return
		}
		if a.misroutedCallback(r) {
			// Another round trip would come back here again.
			a.fail(w, r, a.misroutedError(r), "/")
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
		switch {
		case user == "" && scope == "":
			a.startLogin(w, r, browserURI(r), a.opts.Scope.wire(), 0)
			return
		case user == "":
			a.startLogin(w, r, browserURI(r), scope.wire(), 0)
			return
		case scope != "" && isSnapshot(user):
			// A snapshot-page guest has no profile to give; another round
			// trip would bring back another guest.
			a.fail(w, r, errSnapshotUser, a.LoginURL(browserURI(r)))
			return
		case scope != "" && !a.hasProfile(user):
			a.startLogin(w, r, browserURI(r), ScopeUserInfo, 0)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authContextKey{}, a)))
	})
}

// hasProfile reports whether the session's encoded user has what
// RequireScope asks for: a login that allowed the profile, or a stored
// profile fresh enough.
func (a *Auth) hasProfile(user string) bool {
	if allowsProfile(user) {
		return true
	}
	u, ok := decodeUser(user)
	return ok && !u.Snapshot && !u.UpdatedAt.IsZero() && a.now().Sub(u.UpdatedAt) <= a.opts.ProfileMaxAge
}
