package engine

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// site is where Config.CallbackURL puts the site: the public origin of
// every redirect (never the request's Host) and the callback's path.
type site struct {
	origin          string // scheme://host of Config.CallbackURL
	callbackHost    string // its host name, without port
	callbackPath    string
	callbackEscPath string // callbackPath as a request line has it
}

// What the flow reads of a request: the page the browser asked for, whether
// it is a navigation that may be redirected, and where it came from.
// Return paths pass SafeReturn.

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
func (s site) atCallback(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.RequestURI, s.callbackEscPath)
	return ok && (rest == "" || rest[0] == '?')
}

// requestFor returns a copy of r for the page at returnTo, a path on this
// site: what Face.Outside is asked to show.
func requestFor(r *http.Request, returnTo string) *http.Request {
	u, err := url.Parse(SafeReturn(returnTo))
	if err != nil || r.URL.RequestURI() == u.RequestURI() {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL, r2.RequestURI = u, u.RequestURI()
	return r2
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
func (s site) refererPath(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Scheme+"://"+ref.Host != s.origin {
		return "/"
	}
	return SafeReturn(ref.RequestURI())
}

// maxReturnLen bounds the return URL kept in the session.
const maxReturnLen = 2048

// SafeReturn returns s when it is a path (with optional query) on this
// site, and "/" otherwise: nothing that a browser could read as another
// host, scheme or a script, whatever the encoding.
func SafeReturn(s string) string {
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

// isToken reports whether s is non-empty and URL-safe in the way WeChat's
// appids, openids, codes and tokens are: letters, digits, '-' and '_'.
func isToken(s string) bool { return wxspec.Valid(s, wxspec.MaxToken) }
