package wechatauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
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

// browserURI returns the path and query the browser asked for: the
// request line's, which http.StripPrefix and routers that mount a handler
// under a prefix leave as it was, where r.URL has lost the prefix.
func browserURI(r *http.Request) string {
	uri := r.RequestURI
	if uri != "" && uri[0] != '/' { // absolute form, from a proxy
		if u, err := url.ParseRequestURI(uri); err == nil {
			uri = u.RequestURI()
		}
	}
	if uri == "" || uri[0] != '/' {
		return r.URL.RequestURI()
	}
	return uri
}

// atCallback reports whether the browser asked for the callback's path,
// whatever a router in front made of r.URL.
func (a *Auth) atCallback(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.RequestURI, a.callbackEscPath)
	return ok && (rest == "" || rest[0] == '?')
}

// requestFor returns a copy of r for the page at returnTo, a path on this
// site: what Options.OutsideWeChat is asked to show.
func requestFor(r *http.Request, returnTo string) *http.Request {
	u, err := url.Parse(safeReturn(returnTo))
	if err != nil || r.URL.RequestURI() == u.RequestURI() {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL, r2.RequestURI = u, u.RequestURI()
	return r2
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

// A state is 192 random bits and a 128-bit MAC of them, 80 hex digits,
// within WeChat's limit of 128 characters from [A-Za-z0-9]: the callback
// can tell a state this site issued from one made up, without a store.
const (
	stateBytes = 24
	stateMAC   = 16
)

// validState reports whether s has the shape of a state this package issues.
func validState(s string) bool { return isHex(s, 2*(stateBytes+stateMAC)) }

// validNonce reports whether s has the shape of a login's nonce.
func validNonce(s string) bool { return isHex(s, 2*stateBytes) }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// newState returns a fresh state: random bits and their MAC.
func (a *Auth) newState() string {
	random := newNonce()
	return random + a.stateMAC(random)
}

// issued reports whether state carries the MAC of this site's key.
func (a *Auth) issued(state string) bool {
	if !validState(state) {
		return false
	}
	random, mac := state[:2*stateBytes], state[2*stateBytes:]
	return subtle.ConstantTimeCompare([]byte(mac), []byte(a.stateMAC(random))) == 1
}

func (a *Auth) stateMAC(random string) string {
	m := hmac.New(sha256.New, a.stateKey)
	m.Write([]byte(random))
	return hex.EncodeToString(m.Sum(nil)[:stateMAC])
}

// maxReturnLen bounds the return URL kept in the session.
const maxReturnLen = 2048

// safeReturn returns s when it is a path (with optional query) on this
// site, and "/" otherwise: nothing that a browser could read as another
// host, scheme or a script, whatever the encoding.
func safeReturn(s string) string {
	if s == "" || len(s) > maxReturnLen || s[0] != '/' {
		return "/"
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return "/"
	}
	// An escaped slash or backslash at the start can be decoded into "//"
	// by a server or proxy down the line.
	if p := u.Path; len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return "/"
	}
	return s
}
