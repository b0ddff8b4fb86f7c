package engine

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// setupWatch notices, once each, the mistakes of setup that only requests
// show, and logs them with their fix. It warns only on certain evidence:
// a login that goes to WeChat and never comes back proves nothing, since
// users abandon logins (a closed tab, a crawler, a curl), so that gets a
// line at debug level at most.
type setupWatch struct {
	site                     // the site's, from Config.CallbackURL
	callbackURL string       // Config.CallbackURL
	log         *slog.Logger // Config.Logger
	debug       bool         // Config.DebugBypass
	product     string       // Config.Product.En
	names       Names        // Config.Names

	starts, callbacks                            atomic.Int64
	plain, path, misrouted, userFrom, noCallback sync.Once
}

// noCallbackAfter is how many logins may go to WeChat without any
// callback coming back before the watch mentions the callback's route, at
// debug level only.
const noCallbackAfter = 3

// started notes a login that goes to WeChat.
func (s *setupWatch) started(r *http.Request) {
	if strings.HasPrefix(s.origin, "https:") && r.TLS == nil && r.Header.Get("X-Forwarded-Proto") == "" && r.Header.Get("Forwarded") == "" {
		s.plain.Do(func() {
			s.log.Warn("wechatauth: Options.CallbackURL is https, but this request reached the app over plain http through no proxy, so "+s.product+" will send the browser to an https address that may not answer (Chrome: ERR_SSL_PROTOCOL_ERROR); fix: put TLS in front of the app (a proxy such as nginx or Caddy ends TLS and forwards plain http with X-Forwarded-Proto: https), or serve TLS in the app, or use an http CallbackURL for local tests",
				"callback_url", s.callbackURL)
		})
	}
	if s.starts.Add(1) >= noCallbackAfter && s.callbacks.Load() == 0 {
		s.noCallback.Do(func() {
			s.log.Debug("wechatauth: logins went to "+s.product+" and none has come back to the callback yet; that is normal when users abandon them (a closed tab, a crawler), but if browsers end on a 404 after "+s.product+", either the callback is not mounted at "+s.callbackPath+" or a proxy or router rewrites the path: mount auth.CallbackHandler() there, inside Sessions.LoadAndSave",
				"logins", noCallbackAfter, "callback_url", s.callbackURL)
		})
	}
}

// arrived notes a callback with a state, which must come to the path of
// Options.CallbackURL: a prefix stripped in front of the app changes it.
func (s *setupWatch) arrived(r *http.Request) {
	s.callbacks.Add(1)
	if r.URL.Path != s.callbackPath && !s.atCallback(r) {
		s.path.Do(func() {
			s.log.Warn("wechatauth: the callback came to "+logPath(r.URL.Path)+" but Options.CallbackURL's path is "+s.callbackPath+"; either a proxy or router in front of the app strips or rewrites the path (then the pages it returns to miss the prefix too), or CallbackHandler is mounted at another path than CallbackURL's; fix: let the proxy pass the whole path, or mount the app at the root of CallbackURL's origin, and mount auth.CallbackHandler() at "+s.callbackPath,
				"callback_url", s.callbackURL)
		})
	}
}

// userFromOutside notes a call of UserFrom on a request that
// RequireWeChatUser did not let through, which always finds no user. It
// warns once, in debug mode only.
func (s *setupWatch) userFromOutside() {
	if !s.debug {
		return
	}
	s.userFrom.Do(func() {
		n := s.names
		s.log.Warn("wechatauth: " + n.From + " was called on a request that " + n.Require + " did not let through (here, in one of the Options hooks), where it always returns no user and ok=false; fix: wrap the route in auth." + n.Require + ", or use auth." + n.Current + "(r) on routes that serve visitors logged in or not")
	})
}
