package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/work"
)

// The apps of a WeCom site: the authorize page inside the WeCom client,
// and WeCom's Web login for desktop browsers. Both are the one self-built
// app (CorpID, AgentID, Secret) and redeem their codes alike, with
// auth/getuserinfo and the app's corp access_token; this file is where
// the face speaks to WeCom (through package work).

// corpApp is one way into the self-built app that package work speaks to.
type corpApp struct {
	id     string // its name(): "" for the authorize page, "web" for the Web login
	web    bool   // the Web login: no scope, no user_ticket
	client *work.Client
	tokens mp.AccessTokenSource // the corp access_token, shared by both
}

// appWebLogin names the Web login in login cookies and records.
const appWebLogin = "web"

// siteApps are the apps of a site, and what answers personal WeChat.
type siteApps struct {
	inClient, webLogin *corpApp
	// outside answers personal WeChat's browser; nil sends it through the
	// authorize page (Options.AllowNonMembers without OutsideWeCom).
	outside http.Handler
}

// newApps returns the apps that o configures for the site at origin,
// which share the corp access_token of tokens.
func newApps(o Options, client *work.Client, tokens mp.AccessTokenSource, origin string) siteApps {
	s := siteApps{
		inClient: &corpApp{client: client, tokens: tokens},
		webLogin: &corpApp{id: appWebLogin, web: true, client: client, tokens: tokens},
		outside:  o.OutsideWeCom,
	}
	if s.outside == nil && !o.AllowNonMembers {
		s.outside = openInWeCom(origin)
	}
	return s
}

// openInWeCom answers personal WeChat's browser with a page that shows
// the page's address on the site at origin as a QR code to scan with
// WeCom.
func openInWeCom(origin string) http.Handler {
	return engine.OpenInPage(origin, engine.OpenIn{
		Title:    "请在企业微信中打开 · Open this page in WeCom",
		Scan:     "此页面仅供企业成员使用，需要企业微信登录。请用企业微信扫一扫下面的二维码。",
		ScanEn:   "This page is for members of the company and needs a WeCom login. Scan the code with WeCom (企业微信).",
		OrOpenIn: "或在企业微信中打开 · Or open in WeCom:",
	})
}

// The kinds of browser a login may come from.
const (
	inWeCom          = iota // WeCom's own browser: "wxwork/" in its User-Agent
	inPersonalWeChat        // WeChat's: "MicroMessenger" without "wxwork/"
	inDesktop               // any other browser
)

// browserOf tells which kind of browser r comes from. WeCom's User-Agent
// also carries "MicroMessenger" (and on desktop "WindowsWechat" or
// "WeChat/x.y"), so "wxwork/" is looked for first, in any case.
func browserOf(r *http.Request) int {
	ua := r.Header.Get("User-Agent")
	switch {
	case containsFold(ua, "wxwork/"):
		return inWeCom
	case strings.Contains(ua, "MicroMessenger"):
		return inPersonalWeChat
	}
	return inDesktop
}

// containsFold reports whether s contains the ASCII lower-case substr in
// any case, without allocating.
func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}

// appFor returns the app that a login from r goes through: the authorize
// page inside WeCom, the Web login in desktop browsers, and for personal
// WeChat nil, for the outside handler, or the authorize page when there
// is none.
func (s siteApps) appFor(r *http.Request) *corpApp {
	switch browserOf(r) {
	case inWeCom:
		return s.inClient
	case inPersonalWeChat:
		if s.outside != nil {
			return nil
		}
		return s.inClient
	}
	return s.webLogin
}

// named returns the app that name names, or nil.
func (s siteApps) named(name string) *corpApp {
	switch name {
	case "":
		return s.inClient
	case appWebLogin:
		return s.webLogin
	}
	return nil
}

func (c *corpApp) Name() string { return c.id }

// Scope is the scope of a login: ScopePrivateInfo or ScopeBase inside
// WeCom, ScopeBase for the Web login, which has no scope and gives no
// sensitive fields.
func (c *corpApp) Scope(want engine.Scope) engine.Scope {
	if !c.web && want == engine.Scope(ScopePrivateInfo) {
		return want
	}
	return engine.Scope(ScopeBase)
}

// AuthorizeURL is the authorize page (appid = CorpID, agentid), or the
// Web login page (login_type=CorpApp) for the Web login.
func (c *corpApp) AuthorizeURL(callbackURL, state string, scope engine.Scope) string {
	if c.web {
		return c.client.WebLoginURL(callbackURL, state, "")
	}
	return c.client.AuthorizeURL(callbackURL, string(scope), state)
}

// Redeem trades code for whom it names with auth/getuserinfo and the
// corp access_token. The user_ticket of a ScopePrivateInfo login rides in
// the grant's Access, for Resolve to read the sensitive fields with
// within its 1800 s; the flow keeps it nowhere.
func (c *corpApp) Redeem(ctx context.Context, code string) (grant, error) {
	id, err := c.client.UserInfo(ctx, c.tokens, code)
	if err != nil {
		return grant{}, err
	}
	m := Member{UserID: id.UserID, OpenID: id.OpenID, ExternalUserID: id.ExternalUserID}
	if corp, user, ok := id.LinkedCorp(); ok {
		m.CorpID, m.UserID = corp, user
	}
	if m.UserID == "" {
		m.OpenID = id.OpenID // WeCom gives one or the other
	} else {
		m.OpenID, m.ExternalUserID = "", ""
	}
	return grant{User: m, Access: id.UserTicket, Profile: id.UserTicket != ""}, nil
}

// Spent reports errcodes that mean the code can no longer be exchanged
// (40029: used, or older than 5 minutes).
func (c *corpApp) Spent(err error) bool {
	var apiErr *work.Error
	return errors.As(err, &apiErr) && apiErr.SpentCode()
}

// Misconfigured wraps an error of WeCom's that blames the site's setup
// (see work.Error.Misconfigured) with the setting to fix, in the words of
// these Options rather than work.Client's.
func (c *corpApp) Misconfigured(err error) error {
	var apiErr *work.Error
	if !errors.As(err, &apiErr) || !apiErr.Misconfigured() {
		return err
	}
	fix := strings.ReplaceAll(apiErr.Fix(), "Client.", "Options.")
	return engine.SetupError(&refusal{err: err, code: apiErr}, fix)
}

// refusal is a WeCom errcode that the flow's SetupError names the fix of:
// its text is work.Error's without the fix, which SetupError adds in the
// words of Options, once.
type refusal struct {
	err  error // the chain, with code in it
	code *work.Error
}

func (r *refusal) Error() string {
	return fmt.Sprintf("work: %s: WeCom errcode %d: %s", r.code.Endpoint, r.code.Code, r.code.Msg)
}
func (r *refusal) Unwrap() error { return r.err }

// grant is whom a code names, as an app tells the flow.
type grant = engine.Grant[Member]
