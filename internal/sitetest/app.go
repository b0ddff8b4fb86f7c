package sitetest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"
)

// Listen returns a listener on a free loopback port, so that a face's
// CallbackURL can name the app before the app starts.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Pages are the routes of a face's app, as the face's middleware and
// accessors serve them.
type Pages struct {
	// Callback is the pattern of the callback, such as
	// "GET /wechat/callback", and CallbackHandler its handler.
	Callback        string
	CallbackHandler http.Handler
	// Protect is the face's middleware that requires a login.
	Protect func(http.Handler) http.Handler
	// User describes the user of a request that Protect let through, or
	// says why there is none.
	User func(*http.Request) (string, error)
	// Current describes the user of a request, if logged in, for a public
	// page.
	Current func(*http.Request) string
	// Logout logs the request's browser out.
	Logout func(*http.Request) error
}

// Start serves, behind sessions.LoadAndSave, on ln (closed when the test
// ends), an app with these routes:
//
//	p.Callback  the callback
//	/account/   protected: "path=<request URI> <p.User>"
//	/logout     logs out, then redirects to /
//	/           public: "public path=<request URI> <p.Current>"
//
// It returns the server and its mux, to which tests may add routes.
func Start(t testing.TB, ln net.Listener, sessions *scs.SessionManager, p Pages) (*httptest.Server, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(p.Callback, p.CallbackHandler)
	mux.Handle("/account/", p.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := p.User(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "path=%s %s", r.URL.RequestURI(), user)
	})))
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := p.Logout(r); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "public path=%s %s", r.URL.RequestURI(), p.Current(r))
	})
	app := &httptest.Server{Listener: ln, Config: &http.Server{Handler: sessions.LoadAndSave(mux)}}
	app.Start()
	t.Cleanup(app.Close)
	return app, mux
}
