package wechatauth

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/alexedwards/scs/v2/memstore"
)

// warnSetup logs, at New, the setups that work in a test and fail in
// production, each with its fix. They are warnings rather than errors:
// tests and local setups that map an https CallbackURL onto a plain-http
// server, or run one instance on a shared session store, are legitimate.
func (a *Auth) warnSetup() {
	o, log := a.opts, a.opts.Logger
	if !o.DebugBypass && o.DebugUser != (User{}) {
		log.Debug("wechatauth: Options.DebugUser is set but DebugBypass is off, so it is ignored: nobody is logged in without WeChat", "debug_user", o.DebugUser.OpenID)
	}
	if !strings.HasPrefix(a.origin, "https:") && o.Sessions.Cookie.Secure && a.callbackHost != "localhost" && a.callbackHost != "127.0.0.1" && a.callbackHost != "::1" {
		log.Warn("wechatauth: Sessions.Cookie.Secure is set but Options.CallbackURL is http, and browsers keep Secure cookies only over https (and on localhost), so no login can complete; fix: serve the site over https with an https CallbackURL, or leave Secure off for plain-http tests")
	}
	if strings.HasPrefix(a.origin, "https:") && !o.Sessions.Cookie.Secure {
		log.Warn(`wechatauth: Options.CallbackURL is https but the session cookie is not Secure, so a network attacker can read it on any http page of the site; set Sessions.Cookie.Secure = true, and Sessions.Cookie.Name = "__Host-session" so that no other subdomain can plant one`)
	}
	if _, local := o.Sessions.Store.(*memstore.MemStore); !local {
		var inMemory []string
		for _, s := range []struct {
			name  string
			store any
		}{{"Users", o.Users}, {"Tokens", o.Tokens}, {"Callbacks", o.Callbacks}} {
			if _, mem := s.store.(*MemoryStore); mem {
				inMemory = append(inMemory, s.name)
			}
		}
		if len(inMemory) > 0 {
			log.Warn("wechatauth: Options.Sessions.Store is shared, but Options."+joinNames(inMemory)+" in this process's memory, so instances disagree about users and logins; share them too: store := redisstore.New(pool), then Users, Tokens and Callbacks: store",
				"in_memory", inMemory)
		}
	}
}

// joinNames writes names as "A", "A is" ... : "A, B and C are".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0] + " is"
	}
	s := names[0]
	for i, n := range names[1:] {
		if i == len(names)-2 {
			s += " and " + n
		} else {
			s += ", " + n
		}
	}
	return s + " are"
}

// noCookieError explains a callback that came back without the cookie of
// any login this browser started: the browser did not keep it, or did not
// send it to the callback.
func (a *Auth) noCookieError() error {
	c := a.sm.Cookie
	var reasons []string
	if c.Secure && !strings.HasPrefix(a.origin, "https:") {
		reasons = append(reasons, "Sessions.Cookie.Secure is set but Options.CallbackURL is http, and browsers keep Secure cookies only over https: serve the site over https or set Secure only there")
	}
	reasons = append(reasons,
		"the page that started the login is on another host than Options.CallbackURL ("+a.origin+"): open the site at that origin",
		"the browser blocks cookies for this site",
		"the login took place in another browser or an in-app view that does not share cookies")
	return &setupError{
		err: fmt.Errorf("callback: %w: the browser sent no cookie of a login it started", ErrInvalidState),
		fix: "make the login's cookie come back; the usual reasons it does not: " + strings.Join(reasons, "; "),
	}
}

// setupWatch notices, once each, the mistakes of setup that only requests
// show, and logs them with their fix. It warns only on certain evidence:
// a login that goes to WeChat and never comes back proves nothing, since
// users abandon logins (a closed tab, a crawler, a curl), so that gets a
// line at debug level at most.
type setupWatch struct {
	starts, callbacks                            atomic.Int64
	plain, path, misrouted, userFrom, noCallback sync.Once
}

// noCallbackAfter is how many logins may go to WeChat without any
// callback coming back before the watch mentions the callback's route, at
// debug level only.
const noCallbackAfter = 3

// started notes a login that goes to WeChat.
func (s *setupWatch) started(a *Auth, r *http.Request) {
	if strings.HasPrefix(a.origin, "https:") && r.TLS == nil && r.Header.Get("X-Forwarded-Proto") == "" && r.Header.Get("Forwarded") == "" {
		s.plain.Do(func() {
			a.opts.Logger.Warn("wechatauth: Options.CallbackURL is https, but this request reached the app over plain http through no proxy, so WeChat will send the browser to an https address that may not answer (Chrome: ERR_SSL_PROTOCOL_ERROR); fix: put TLS in front of the app (a proxy such as nginx or Caddy ends TLS and forwards plain http with X-Forwarded-Proto: https), or serve TLS in the app, or use an http CallbackURL for local tests",
				"callback_url", a.opts.CallbackURL)
		})
	}
	if s.starts.Add(1) >= noCallbackAfter && s.callbacks.Load() == 0 {
		s.noCallback.Do(func() {
			a.opts.Logger.Debug("wechatauth: logins went to WeChat and none has come back to the callback yet; that is normal when users abandon them (a closed tab, a crawler), but if browsers end on a 404 after WeChat, either the callback is not mounted at "+a.callbackPath+" or a proxy or router rewrites the path: mount auth.CallbackHandler() there, inside Sessions.LoadAndSave",
				"logins", noCallbackAfter, "callback_url", a.opts.CallbackURL)
		})
	}
}

// arrived notes a callback with a state, which must come to the path of
// Options.CallbackURL: a prefix stripped in front of the app changes it.
func (s *setupWatch) arrived(a *Auth, r *http.Request) {
	s.callbacks.Add(1)
	if r.URL.Path != a.callbackPath && !a.atCallback(r) {
		s.path.Do(func() {
			a.opts.Logger.Warn("wechatauth: the callback came to "+logPath(r.URL.Path)+" but Options.CallbackURL's path is "+a.callbackPath+"; either a proxy or router in front of the app strips or rewrites the path (then the pages it returns to miss the prefix too), or CallbackHandler is mounted at another path than CallbackURL's; fix: let the proxy pass the whole path, or mount the app at the root of CallbackURL's origin, and mount auth.CallbackHandler() at "+a.callbackPath,
				"callback_url", a.opts.CallbackURL)
		})
	}
}

// misroutedCallback reports whether r is WeChat's redirect back to the
// callback, on a path that is not the callback's: a state of this site's
// (its MAC checks) brought by the browser that started that login (it
// holds the login's cookie). That is certain evidence that the callback
// is not mounted where Options.CallbackURL says, or that the path is
// rewritten on the way; a link that someone else made with a state of
// their own login does not count. It costs a substring search unless the
// query holds a state.
func (a *Auth) misroutedCallback(r *http.Request) bool {
	if !strings.Contains(r.URL.RawQuery, "state=") || r.URL.Path == a.callbackPath || a.atCallback(r) {
		return false
	}
	state := r.URL.Query().Get("state")
	if !a.states.issued(state) {
		return false
	}
	_, ours := a.logins.find(r, state)
	return ours
}

// misroutedError is the failure of a request that misroutedCallback
// caught, naming both possible causes and the fix.
func (a *Auth) misroutedError(r *http.Request) error {
	return &setupError{
		err: fmt.Errorf("wechatauth: WeChat sent the browser back to %s, which is not the path of Options.CallbackURL (%s)", logPath(r.URL.Path), a.callbackPath),
		fix: "either the callback is not mounted at CallbackURL's path, or a proxy or router in front of the app strips or rewrites the path; mount auth.CallbackHandler() at " + a.callbackPath + " (the whole path, inside Sessions.LoadAndSave), or wrap the whole router in auth.RequireWeChatUser, and let any proxy pass the path unchanged (or make CallbackURL the URL that browsers reach)",
	}
}

// noteMisrouted warns, once, of a request that misroutedCallback caught
// where the Auth does not answer it (CurrentUser on another route).
func (a *Auth) noteMisrouted(r *http.Request) {
	a.watch.misrouted.Do(func() {
		a.opts.Logger.Warn(a.misroutedError(r).Error(), "callback_url", a.opts.CallbackURL)
	})
}

// userFromOutside notes a call of UserFrom on a request that
// RequireWeChatUser did not let through, which always finds no user. It
// warns once, in debug mode only.
func (s *setupWatch) userFromOutside(a *Auth) {
	if !a.opts.DebugBypass {
		return
	}
	s.userFrom.Do(func() {
		a.opts.Logger.Warn("wechatauth: UserFrom was called on a request that RequireWeChatUser did not let through (here, in one of the Options hooks), where it always returns no user and ok=false; fix: wrap the route in auth.RequireWeChatUser (or RequireScope), or use auth.CurrentUser(r) on routes that serve visitors logged in or not")
	})
}
