package engine

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/alexedwards/scs/v2"
)

// A face's New checks its options with these, in the words of its own
// Options and product, so that the flow's requirements are written once.

// CheckCallbackURL reports, through bad, what is wrong with the
// CallbackURL option: required is the message for an empty one, example
// a good URL, such as "https://example.com/wechat/callback".
func CheckCallbackURL(callbackURL, required, example string, bad func(field, format string, args ...any)) {
	cb, err := url.Parse(callbackURL)
	switch {
	case callbackURL == "":
		bad("CallbackURL", "%s", required)
	case err != nil || (cb.Scheme != "http" && cb.Scheme != "https") || cb.Host == "" || cb.User != nil || cb.Fragment != "" || cb.RawQuery != "":
		bad("CallbackURL", "must be an absolute http(s) URL without user, query or fragment, such as %q; got %q", example, callbackURL)
	case cb.EscapedPath() == "" || cb.EscapedPath() == "/":
		ex, _ := url.Parse(example)
		bad("CallbackURL", "its path must name the callback, such as %q, not the site root; got %q", ex.Path, callbackURL)
	}
}

// CheckSessions reports, through bad, a Sessions option that cannot carry
// a login back from product (WeChat, WeCom) to callbackURL.
func CheckSessions(sessions *scs.SessionManager, callbackURL, product string, bad func(field, format string, args ...any)) {
	if sessions == nil {
		bad("Sessions", "required: a *scs.SessionManager, such as scs.New(), whose LoadAndSave wraps your handlers")
		return
	}
	c := sessions.Cookie
	switch {
	case c.SameSite == http.SameSiteStrictMode:
		bad("Sessions", "Cookie.SameSite is Strict, so the browser drops the session cookie on the way back from %s; use http.SameSiteLaxMode", product)
	case c.SameSite == http.SameSiteNoneMode && !c.Secure:
		bad("Sessions", "Cookie.SameSite is None without Cookie.Secure, and browsers refuse such cookies; use http.SameSiteLaxMode, or set Secure with an https site")
	}
	cb, err := url.Parse(callbackURL)
	if err != nil || cb.Host == "" {
		return
	}
	host, domain := strings.ToLower(cb.Hostname()), strings.ToLower(strings.TrimPrefix(c.Domain, "."))
	if domain != "" && host != domain && !strings.HasSuffix(host, "."+domain) {
		bad("Sessions", "Cookie.Domain %q does not cover the callback's host %q, so the browser does not send the session cookie there; set Cookie.Domain to %q or a parent of it, or leave it empty", c.Domain, host, host)
	}
	if p := c.Path; p != "" && p != "/" && cb.Path != p && !strings.HasPrefix(cb.Path, strings.TrimSuffix(p, "/")+"/") {
		bad("Sessions", "Cookie.Path %q does not cover the callback's path %q, so the browser does not send the session cookie there; use Cookie.Path \"/\"", p, cb.Path)
	}
}
