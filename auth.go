package wechatauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/alexedwards/scs/v2"
	"golang.org/x/sync/singleflight"
)

// Auth puts WeChat web authorization in front of handlers. Make one with New
// and share it; it is safe for concurrent use.
type Auth struct {
	opts         Options
	sm           *scs.SessionManager
	client       *Client
	webClient    *Client // the website app's, for QR logins; nil without one
	outside      OutsidePolicy
	origin       string // scheme://host of Options.CallbackURL
	callbackPath string
	flight       singleflight.Group // one code exchange per state in this process
	now          func() time.Time
}

// New checks o and returns an Auth. The error names every field that is
// wrong and how to fix it; a nil error means no request will fail because
// of configuration.
func New(o Options) (*Auth, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	cb, _ := url.Parse(o.CallbackURL) // checked by withDefaults
	path := cb.EscapedPath()
	if path == "" || path == "/" {
		return nil, errors.New(`wechatauth: Options.CallbackURL: its path must name the callback, such as "/wechat/callback", not the site root; got ` + o.CallbackURL)
	}
	a := &Auth{
		opts: o,
		sm:   o.Sessions,
		client: &Client{
			AppID:      o.AppID,
			AppSecret:  o.AppSecret,
			HTTPClient: o.HTTPClient,
			Endpoints:  o.Endpoints,
		},
		outside:      o.outsidePolicy(),
		origin:       cb.Scheme + "://" + cb.Host,
		callbackPath: cb.Path,
		now:          time.Now,
	}
	if o.WebsiteAppID != "" {
		a.webClient = &Client{AppID: o.WebsiteAppID, AppSecret: o.WebsiteAppSecret, HTTPClient: o.HTTPClient, Endpoints: o.Endpoints}
	}
	if o.DebugBypass {
		o.Logger.Warn("wechatauth: DEBUG BYPASS IS ON: anyone who can reach the app can log in as any openid with ?_user=<openid>; never turn it on in production",
			"loopback_only", !o.DebugAllowRemote, "default_openid", o.DebugOpenID)
	}
	return a, nil
}

// Client returns the WeChat API client the Auth uses, for calls of your own
// such as UserInfo.
func (a *Auth) Client() *Client { return a.client }

// LoginURL returns the URL of a login that ends on returnTo, a path on this
// site; anything else ends on "/". Use it for "log in with WeChat" links on
// pages that do not require a login.
func (a *Auth) LoginURL(returnTo string) string {
	return a.opts.CallbackURL + "?next=" + url.QueryEscape(safeReturn(returnTo))
}

// Logout ends the login of r's session: the user is forgotten and the
// session token is renewed. Other session data stays;
// call Options.Sessions.Destroy instead to drop it all. r must be inside
// Options.Sessions.LoadAndSave.
func (a *Auth) Logout(r *http.Request) error {
	ctx := r.Context()
	if _, err := a.sessionUser(ctx); err != nil {
		return err
	}
	if err := a.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("wechatauth: renewing the session token: %w", err)
	}
	a.sm.Remove(ctx, keyUser)
	return nil
}

// authorizeURL is the page of WeChat's that one login starts at: the
// authorize page, or the website QR login page (qrconnect) for a pending
// login of the website app. WeChat matches the link against a pattern, so
// the parameters keep its documented order.
func (a *Auth) authorizeURL(state string, scope Scope, app string) string {
	page, appID := a.opts.Endpoints.Authorize, a.opts.AppID
	if app == appWebsite {
		page, appID = a.opts.Endpoints.QRConnect, a.opts.WebsiteAppID
	}
	return page +
		"?appid=" + url.QueryEscape(appID) +
		"&redirect_uri=" + url.QueryEscape(a.opts.CallbackURL) +
		"&response_type=code" +
		"&scope=" + string(scope) +
		"&state=" + state +
		"#wechat_redirect"
}

// browserID names the browser behind r by a hash of its session cookie as
// sent, or "" when it sent none. It binds a completed login to the browser
// that started it, even after the login renewed the cookie.
func (a *Auth) browserID(r *http.Request) string {
	c, err := r.Cookie(a.sm.Cookie.Name)
	if err != nil || c.Value == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Value))
	return hex.EncodeToString(sum[:])
}

// redirect sends the browser to a path on this site or to WeChat.
func redirect(w http.ResponseWriter, location string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
