package work

import (
	"net/url"
	"strings"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
)

// Production WeCom endpoints, used where [Endpoints] leaves a field empty.
const (
	DefaultAPIURL       = "https://qyapi.weixin.qq.com"
	DefaultAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
	DefaultWebLoginURL  = "https://login.work.weixin.qq.com/wwlogin/sso/login"
)

// Endpoints holds the base URLs of the WeCom services a [Client] talks to.
// The zero value means production WeCom; [EndpointsAt] gives an
// emulator's.
type Endpoints struct {
	// API is the base URL of the server API (gettoken, auth/getuserinfo,
	// …), without a trailing slash. Default DefaultAPIURL.
	API string
	// Authorize is the authorization page for browsers inside the WeCom
	// client. Default DefaultAuthorizeURL.
	Authorize string
	// WebLogin is the Web login page for desktop browsers. Default
	// DefaultWebLoginURL.
	WebLogin string
}

// WithDefaults returns e with its empty fields set to production WeCom
// and no trailing slash on API.
func (e Endpoints) WithDefaults() Endpoints {
	if e.API == "" {
		e.API = DefaultAPIURL
	}
	if e.Authorize == "" {
		e.Authorize = DefaultAuthorizeURL
	}
	if e.WebLogin == "" {
		e.WebLogin = DefaultWebLoginURL
	}
	e.API = strings.TrimRight(e.API, "/")
	return e
}

// EndpointsAt returns the Endpoints of a server, such as an emulator, that
// serves the API's paths (/cgi-bin/gettoken, …) under base, the
// authorization page at base+"/connect/oauth2/authorize" and the Web
// login at base+"/wwlogin/sso/login".
func EndpointsAt(base string) Endpoints {
	base = strings.TrimRight(base, "/")
	return Endpoints{
		API:       base,
		Authorize: base + "/connect/oauth2/authorize",
		WebLogin:  base + "/wwlogin/sso/login",
	}
}

// The scopes of [Client.AuthorizeURL]. WeCom's list for self-built apps
// has no snsapi_userinfo.
const (
	// ScopeBase is the silent login: the user's identity only.
	ScopeBase = "snsapi_base"
	// ScopePrivateInfo asks the member's consent on a page of WeCom's,
	// and gives a user ticket for [Client.UserDetail]. WeCom refuses it
	// without an AgentID.
	ScopePrivateInfo = "snsapi_privateinfo"
)

// AuthorizeURL returns the link of WeCom's authorization page, for
// browsers inside the WeCom client, that comes back to redirectURI with a
// code and state. scope is [ScopeBase] or [ScopePrivateInfo]; any other
// value, snsapi_userinfo included, asks for ScopeBase. The parameters
// keep the order of WeCom's template: appid (the CorpID), redirect_uri,
// response_type, scope, state, agentid (left out when AgentID is empty),
// then #wechat_redirect. redirectURI's host, port included, must be the
// app's trusted domain (可信域名); state should be [A-Za-z0-9]{1,128}.
func (c *Client) AuthorizeURL(redirectURI, scope, state string) string {
	if scope != ScopePrivateInfo {
		scope = ScopeBase
	}
	return wxhttp.AuthorizeLink(c.Endpoints.WithDefaults().Authorize, c.CorpID, redirectURI, scope, state, c.AgentID)
}

// WebLoginURL returns the link of WeCom's Web login page, for desktop
// browsers outside the WeCom client: a member signed in to desktop WeCom
// confirms with one click, others scan a QR code. It comes back to
// redirectURI with a code (for [Client.UserInfo], which gives no user
// ticket for it) and state. The parameters are login_type=CorpApp, appid
// (the CorpID), agentid (which WeCom requires), redirect_uri, state and
// lang ("zh" or "en"; left out when empty, and WeCom shows Chinese).
func (c *Client) WebLoginURL(redirectURI, state, lang string) string {
	u := c.Endpoints.WithDefaults().WebLogin +
		"?login_type=CorpApp" +
		"&appid=" + url.QueryEscape(c.CorpID) +
		"&agentid=" + url.QueryEscape(c.AgentID) +
		"&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&state=" + url.QueryEscape(state)
	if lang != "" {
		u += "&lang=" + url.QueryEscape(lang)
	}
	return u
}
