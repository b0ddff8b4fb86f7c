package wechatauth

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/internal/engine"

	"github.com/wechatauth/wechatauth/mp"
)

// The apps of an Official Account's site: the account itself, whose
// authorize page works inside WeChat, and, where Options names one, an
// Open Platform website app for WeChat's QR login in other browsers. Both
// speak to WeChat through package mp; this file is where the root knows
// them.

// mpApp is an app that package mp speaks to.
type mpApp struct {
	id     string // its name(): "" for the Official Account, "web" for the website app
	client *mp.Client
	qr     bool // the website app: QR login, snsapi_login, openids of its own
	tokens TokenStore
	// account is, in component mode, the authorizer's appid, whose users
	// the app logs in (User.AppID); "" otherwise.
	account string
}

// appWebsite names the website app in login cookies and records.
const appWebsite = "web"

// scopeLogin is the scope of website QR login.
const scopeLogin Scope = "snsapi_login"

// siteApps are the apps of a site, and what answers browsers outside
// WeChat that none of them serves.
type siteApps struct {
	all     []app        // the Official Account first, which serves WeChat's browser; none in component mode
	outside http.Handler // what browsers outside WeChat get; nil: the authorize page

	// Component mode: the platform, the authorizer of a request, and what
	// an authorizer's app is made with.
	component  mp.Component
	authorizer func(*http.Request) string
	tokens     TokenStore
	httpClient *http.Client
	endpoints  mp.Endpoints
}

// newApps returns the apps that o configures for the site at origin.
func newApps(o Options, origin string) siteApps {
	if o.Component != nil {
		return siteApps{outside: outsideHandler(o, origin), component: o.Component, authorizer: o.Authorizer,
			tokens: o.Tokens, httpClient: o.HTTPClient, endpoints: o.Endpoints}
	}
	apps := []app{&mpApp{client: &mp.Client{AppID: o.AppID, AppSecret: o.AppSecret, HTTPClient: o.HTTPClient, Endpoints: o.Endpoints}, tokens: o.Tokens}}
	if o.WebsiteAppID != "" {
		apps = append(apps, &mpApp{id: appWebsite, qr: true, tokens: o.Tokens,
			client: &mp.Client{AppID: o.WebsiteAppID, AppSecret: o.WebsiteAppSecret, HTTPClient: o.HTTPClient, Endpoints: o.Endpoints}})
	}
	return siteApps{all: apps, outside: outsideHandler(o, origin)}
}

// appFor returns the app that a login from r goes through: the Official
// Account inside WeChat, the website app outside it where there is one,
// and otherwise nil when Options.OutsideWeChat (or the open-in-WeChat
// page) answers browsers outside WeChat, the Official Account when nothing
// does (the emulator's authorize page works in any browser).
func (s siteApps) appFor(r *http.Request) app {
	if s.component != nil {
		appID := s.authorizerOf(r)
		if appID == "" || (!insideWeChat(r) && s.outside != nil) {
			return nil
		}
		return s.authorizerApp(appID)
	}
	if insideWeChat(r) {
		return s.all[0]
	}
	if web := s.named(appWebsite); web != nil {
		return web
	}
	if s.outside != nil {
		return nil
	}
	return s.all[0]
}

// outsideHandler returns what answers browsers outside WeChat when there
// is no website app: Options.OutsideWeChat, or the open-in-WeChat page of
// the site at origin; nil, for the authorize page, with endpoints other
// than WeChat's.
func outsideHandler(o Options, origin string) http.Handler {
	switch {
	case o.OutsideWeChat != nil:
		return o.OutsideWeChat
	case o.Endpoints.Authorize != mp.DefaultAuthorizeURL:
		return nil
	}
	return openInWeChat(origin)
}

func (m *mpApp) Name() string  { return m.id }
func (m *mpApp) foreign() bool { return m.qr }

func (m *mpApp) Scope(want engine.Scope) engine.Scope {
	if m.qr {
		return engine.Scope(scopeLogin)
	}
	return want
}

// AuthorizeURL is the authorize page, or the website QR login page
// (qrconnect) for the website app.
func (m *mpApp) AuthorizeURL(callbackURL, state string, scope engine.Scope) string {
	if m.qr {
		return m.client.QRConnectURL(callbackURL, state)
	}
	return m.client.AuthorizeURL(callbackURL, string(scope), state)
}

// Redeem exchanges code and keeps the web-auth tokens where they serve: a
// scope that allows the profile, which RefreshUser can fetch again with
// them. A snsapi_base token can fetch nothing, and a snapshot-page user's
// openid is virtual: neither is kept.
func (m *mpApp) Redeem(ctx context.Context, code string) (grant, error) {
	tok, err := m.client.Exchange(ctx, code)
	if err != nil {
		return grant{}, err
	}
	if tok.Snapshot {
		return grant{User: User{Snapshot: true, AppID: m.account}}, nil // a virtual identity is not kept
	}
	g := grant{User: User{OpenID: tok.OpenID, UnionID: tok.UnionID, AppID: m.account}, Access: tok.AccessToken,
		Profile: tok.HasScope(string(ScopeUserInfo)) || tok.HasScope(string(scopeLogin))}
	if g.Profile {
		if err := m.tokens.SaveToken(ctx, *tok); err != nil {
			return grant{}, engine.StoreError("token", err)
		}
	}
	return g, nil
}

func (m *mpApp) profile(ctx context.Context, g grant) (profile, error) {
	p, err := m.client.UserInfo(ctx, g.Access, g.User.OpenID)
	if err != nil {
		return profile{}, err
	}
	return profile{Nickname: p.Nickname, HeadImgURL: p.HeadImgURL, UnionID: p.UnionID}, nil
}

// Spent reports errcodes that mean the code can no longer be exchanged.
func (m *mpApp) Spent(err error) bool {
	var apiErr *mp.Error
	return errors.As(err, &apiErr) && apiErr.SpentCode()
}

// Misconfigured wraps an error of WeChat's that blames the site's setup
// (see mp.Error.Misconfigured) with the setting to fix.
func (m *mpApp) Misconfigured(err error) error {
	var apiErr *mp.Error
	if !errors.As(err, &apiErr) || !apiErr.Misconfigured() {
		return err
	}
	var fix string
	switch apiErr.Code {
	case mp.CodeInvalidAppID, mp.CodeMissingAppID:
		fix = "check Options.AppID (Options.WebsiteAppID for QR logins): it must be the app's AppID, from 设置与开发 → 基本配置"
	case mp.CodeInvalidAppSecret, mp.CodeMissingSecret:
		fix = "check Options.AppSecret (Options.WebsiteAppSecret for QR logins): it must be the app's current AppSecret; reset it in 设置与开发 → 基本配置 if in doubt, and read it from the environment"
	case mp.CodeSecretFrozen:
		fix = "the AppSecret is frozen: unfreeze it in 设置与开发 → 基本配置"
	case mp.CodeIPNotAllowed:
		fix = "add this server's public IP address to the account's IP whitelist (设置与开发 → 基本配置 → IP白名单)"
	}
	return engine.SetupError(err, fix)
}

// of returns the app whose AppID is appID, the Official Account when
// none is: where RefreshUser takes a user's kept tokens.
func (s siteApps) of(appID string) *mpApp {
	if s.component != nil {
		return s.authorizerApp(appID)
	}
	for _, ap := range s.all {
		if m, ok := ap.(*mpApp); ok && m.client.AppID == appID {
			return m
		}
	}
	return s.all[0].(*mpApp)
}

// currentProfile fetches the profile of tok's user with tok, renewing an
// expired (or refused as stale) access token with the refresh token once
// and keeping the new tokens. An error that means the user must authorize
// again wraps ErrReauthorize.
func (m *mpApp) currentProfile(ctx context.Context, tok mp.Token, now time.Time) (profile, error) {
	refreshed := false
	var err error
	if tok.Expired(now) {
		if tok, err = m.refresh(ctx, tok); err != nil {
			return profile{}, err
		}
		refreshed = true
	}
	p, err := m.client.UserInfo(ctx, tok.AccessToken, tok.OpenID)
	var apiErr *mp.Error
	if errors.As(err, &apiErr) && apiErr.StaleAccessToken() && !refreshed {
		if tok, err = m.refresh(ctx, tok); err != nil {
			return profile{}, err
		}
		p, err = m.client.UserInfo(ctx, tok.AccessToken, tok.OpenID)
	}
	if errors.As(err, &apiErr) && apiErr.Code == mp.CodeScopeUnauthorized {
		return profile{}, fmt.Errorf("wechatauth: the login of %q did not allow the profile: %w: %w", tok.OpenID, ErrReauthorize, err)
	}
	if err != nil {
		return profile{}, err
	}
	return profile{Nickname: p.Nickname, HeadImgURL: p.HeadImgURL, UnionID: p.UnionID}, nil
}

// refresh renews tok's access token and keeps the result.
func (m *mpApp) refresh(ctx context.Context, tok mp.Token) (mp.Token, error) {
	fresh, err := m.client.Refresh(ctx, tok.RefreshToken)
	var apiErr *mp.Error
	if errors.As(err, &apiErr) && (apiErr.Code == mp.CodeRefreshTokenExpired || apiErr.Code == mp.CodeInvalidRefreshToken) {
		return mp.Token{}, fmt.Errorf("wechatauth: refreshing the tokens of %q: %w: %w", tok.OpenID, ErrReauthorize, err)
	}
	if err != nil {
		return mp.Token{}, err
	}
	if fresh.UnionID == "" {
		fresh.UnionID = tok.UnionID
	}
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = tok.RefreshToken
	}
	if err := m.tokens.SaveToken(ctx, *fresh); err != nil {
		return mp.Token{}, engine.StoreError("token", err)
	}
	return *fresh, nil
}

// named returns the app that name names, or nil.
func (s siteApps) named(name string) app {
	if s.component != nil {
		if !isToken(name) {
			return nil
		}
		return s.authorizerApp(name)
	}
	for _, ap := range s.all {
		if ap.Name() == name {
			return ap
		}
	}
	return nil
}

// insideWeChat reports whether r comes from WeChat's own browser, whose
// User-Agent carries "MicroMessenger/x.y" (also on WeChat for Windows and
// macOS).
func insideWeChat(r *http.Request) bool {
	return strings.Contains(r.Header.Get("User-Agent"), "MicroMessenger")
}

// authorizerApp returns the app of the authorizer appID, through the
// platform.
func (s siteApps) authorizerApp(appID string) *mpApp {
	return &mpApp{id: appID, account: appID, tokens: s.tokens,
		client: &mp.Client{AppID: appID, Component: s.component, HTTPClient: s.httpClient, Endpoints: s.endpoints}}
}

// authorizerOf returns the appid of the authorizer that serves r, "" when
// none does or outside component mode.
func (s siteApps) authorizerOf(r *http.Request) string {
	if s.authorizer == nil {
		return ""
	}
	if id := s.authorizer(r); isToken(id) {
		return id
	}
	return ""
}

// CheckCallback makes sure that a callback of component mode names the
// authorizer its login went to: WeChat adds the appid to the callback.
func (m *mpApp) CheckCallback(q url.Values) error {
	if m.account == "" {
		return nil
	}
	if got := q.Get("appid"); !hmac.Equal([]byte(got), []byte(m.account)) {
		return fmt.Errorf("the callback's appid %q is not the Official Account %q of its login", logSafe(got), m.account)
	}
	return nil
}

// logSafe cuts s short and keeps it to a token's characters, for an error
// that quotes a value from the request.
func logSafe(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	if !isToken(s) {
		return "(not an appid)"
	}
	return s
}

var _ engine.CallbackChecker = (*mpApp)(nil)
