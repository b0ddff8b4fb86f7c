package engine

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// debugParam is the query parameter that names the user of a debug login.
const debugParam = "_user"

// debugLogin performs the debug bypass for r, if it applies: it logs the
// session in as the user whose key the "_user" parameter names, or as
// Config.DebugID's when nobody is logged in. cur is the session's value.
// It returns the session's value afterwards, and reports whether it
// answered the request itself.
func (e *Engine[U]) debugLogin(w http.ResponseWriter, r *http.Request, cur string) (string, bool) {
	// Cheap checks first: a logged-in request without "_user" costs one
	// substring search.
	named := strings.Contains(r.URL.RawQuery, debugParam+"=")
	if !named && (cur != "" || e.cfg.DebugID == "") {
		return cur, false
	}
	if !e.cfg.DebugAllowRemote {
		if why := e.notLocal(r); why != "" {
			e.cfg.Logger.WarnContext(r.Context(), "wechatauth: debug login refused: "+why, "path", logPath(r.URL.Path), "remote", r.RemoteAddr)
			return cur, false
		}
	}
	q := r.URL.Query()
	key := q.Get(debugParam)
	fromQuery := key != ""
	if !fromQuery {
		if cur != "" || e.cfg.DebugID == "" {
			return cur, false
		}
		key = e.cfg.DebugID
	}
	if !wxspec.ValidUserID(key) { // an openid, or a WeCom userid with '.' or '@'
		return cur, false
	}
	if fromQuery && !e.cfg.DebugAllowRemote && crossSite(r) {
		// A page of another site that sends the developer's browser here
		// must not choose whom it is logged in as (login CSRF).
		e.cfg.Logger.WarnContext(r.Context(), "wechatauth: debug login refused: ?_user= came from another site (Sec-Fetch-Site); type the link, or open it from a page of this site", "path", logPath(r.URL.Path))
		return cur, false
	}
	ctx := r.Context()
	if u, _ := e.face.Decode(cur); e.face.Key(u) != key {
		user := e.face.DebugUser(r, key)
		if err := e.loggedIn(r, user, EventDebugLogin); err != nil {
			e.fail(w, r, err, "/")
			return cur, true
		}
		if err := e.cfg.Sessions.RenewToken(ctx); err != nil {
			e.fail(w, r, err, "/")
			return cur, true
		}
		cur = e.sessionValue(user, true, "") // no platform to ask for the profile
		e.cfg.Sessions.Put(ctx, e.keyOf(r), cur)
	}
	if fromQuery && isNavigation(r) {
		// Drop the parameter, so that a reload does not log in again.
		q.Del(debugParam)
		u, err := url.ParseRequestURI(browserURI(r)) // the page as the browser asked for it
		if err != nil {
			u = r.URL
		}
		u.RawQuery = q.Encode()
		redirect(w, SafeReturn(u.RequestURI()))
		return cur, true
	}
	return cur, false
}

// notLocal says why r is not a request of the developer's own browser on
// this machine, or "" when it is one: the client is on loopback, names this
// machine (a page that rebinds its own name to 127.0.0.1 sends its own
// name) and came through no proxy (behind which every client is local).
func (e *Engine[U]) notLocal(r *http.Request) string {
	if !isLoopback(r.RemoteAddr) {
		return "the client is not on loopback (set DebugAllowRemote to allow it)"
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return "the request came through a proxy (" + h + " header)"
		}
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" || strings.HasSuffix(host, ".localhost") || host == e.callbackHost {
		return ""
	}
	return "the Host header names another site (DNS rebinding?)"
}

// crossSite reports whether the browser says r was sent by a page of
// another site (Sec-Fetch-Site); browsers that do not say are taken as
// the developer's own.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return false
	}
	return true
}

// isLoopback reports whether a RemoteAddr is on the loopback interface.
func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
