package engine

import (
	"context"
	"net/http"
)

// Require lets requests of logged-in users through to next and sends
// everyone else to log in: page navigations are redirected to the app's
// authorize page, other requests get Config.Unauthorized (401 by default).
// A visitor without a login goes through first, or Config.Scope when
// first is ""; with profile, a user logged in without the profile (see
// Face.HasProfile) goes through Config.ProfileScope, once, and comes back
// to the page. Inside next, UserFrom(r) returns the user.
//
// The logged-in path reads one session value and writes nothing. Requests
// to the callback's path are handed to the callback.
func (e *Engine[U]) Require(next http.Handler, first Scope, profile bool) http.Handler {
	if first == "" {
		first = e.cfg.Scope
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == e.callbackPath || e.atCallback(r) {
			e.ServeCallback(w, r)
			return
		}
		if e.misroutedCallback(r) {
			// Another round trip would come back here again.
			e.fail(w, r, e.misroutedError(r), "/")
			return
		}
		user, err := e.userOf(r)
		if err != nil {
			e.fail(w, r, err, "/")
			return
		}
		if e.cfg.DebugBypass {
			var handled bool
			if user, handled = e.debugLogin(w, r, user); handled {
				return
			}
		}
		if user == "" {
			e.startLogin(w, r, browserURI(r), first, 0)
			return
		}
		if profile {
			switch has, guest := e.face.HasProfile(user); {
			case guest:
				// A guest has no profile to give; another round trip
				// would bring back another guest.
				e.fail(w, r, errSnapshotUser, e.LoginURL(browserURI(r)))
				return
			case !has:
				e.startLogin(w, r, browserURI(r), e.cfg.ProfileScope, 0)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey[U]{}, e)))
	})
}
