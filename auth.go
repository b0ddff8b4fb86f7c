package wechatauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Auth puts WeChat web authorization in front of handlers. Make one with New
// and share it; it is safe for concurrent use.
type Auth struct {
	opts    Options
	sm      *scs.SessionManager
	apps    []app        // the apps a login may go through (newApps); the first serves WeChat's browser
	outside http.Handler // what browsers outside WeChat get; nil: the authorize page
	site                 // where Options.CallbackURL puts the site
	ledger  *ledger
	now     func() time.Time
	watch   setupWatch // mistakes that show only at run time
	states  states     // under a key derived from the AppSecret
	logins  loginCookies
}

// New checks o and returns an Auth. The error names every field that is
// wrong and how to fix it; a nil error means no request will fail because
// of configuration.
func New(o Options) (*Auth, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	cb, _ := url.Parse(o.CallbackURL) // checked by check
	a := &Auth{
		opts:   o,
		sm:     o.Sessions,
		apps:   newApps(o),
		site:   site{origin: cb.Scheme + "://" + cb.Host, callbackHost: strings.ToLower(cb.Hostname()), callbackPath: cb.Path, callbackEscPath: cb.EscapedPath()},
		now:    time.Now,
		states: states{deriveKey(o.AppSecret, "wechatauth login state v1")},
	}
	a.ledger = &ledger{store: o.Callbacks, timeout: o.Timeout, keep: o.StateTTL, log: o.Logger}
	a.logins = newLoginCookies(a.origin, o.Sessions.Cookie, deriveKey(o.AppSecret, "wechatauth login cookie v1"), a.knownLogin)
	a.outside = a.outsideHandler()
	a.warnSetup()
	if o.DebugBypass {
		o.Logger.Warn("wechatauth: DEBUG BYPASS IS ON: anyone who can reach the app can log in as any openid with ?_user=<openid>; never turn it on in production",
			"loopback_only", !o.DebugAllowRemote, "default_openid", o.DebugUser.OpenID)
	}
	return a, nil
}

// LoginURL returns the URL of a login that ends on returnTo, a path on this
// site; anything else ends on "/". Use it for "log in with WeChat" links on
// pages that do not require a login.
func (a *Auth) LoginURL(returnTo string) string {
	return a.opts.CallbackURL + "?next=" + url.QueryEscape(safeReturn(returnTo))
}

// redirect sends the browser to a path on this site or to WeChat.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// deriveKey derives a key for purpose from the app's secret, which every
// instance shares; the key reveals nothing of the secret.
func deriveKey(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
