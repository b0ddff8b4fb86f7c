package mp

import (
	"strings"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
)

// Production WeChat endpoints, used where [Endpoints] leaves a field empty.
const (
	DefaultAuthorizeURL = "https://open.weixin.qq.com/connect/oauth2/authorize"
	DefaultQRConnectURL = "https://open.weixin.qq.com/connect/qrconnect"
	DefaultAPIURL       = "https://api.weixin.qq.com"
	DefaultJSSDKURL     = "https://res.wx.qq.com/open/js/jweixin-1.6.0.js"
)

// Endpoints holds the base URLs of the WeChat services a [Client] talks to.
// The zero value means production WeChat; the emulator in package
// wechattest hands back its own.
type Endpoints struct {
	// Authorize is the web authorization page browsers are sent to.
	// Default DefaultAuthorizeURL.
	Authorize string
	// QRConnect is the website QR login page for browsers outside WeChat.
	// Default DefaultQRConnectURL.
	QRConnect string
	// API is the base URL of the server API, without a trailing slash.
	// Default DefaultAPIURL.
	API string
	// JSSDK is the URL of the JS-SDK script (jweixin) that pages inside
	// WeChat load before calling wx.config. Default DefaultJSSDKURL.
	JSSDK string
}

// WithDefaults returns e with its empty fields set to production WeChat
// and no trailing slash on API.
func (e Endpoints) WithDefaults() Endpoints {
	if e.Authorize == "" {
		e.Authorize = DefaultAuthorizeURL
	}
	if e.QRConnect == "" {
		e.QRConnect = DefaultQRConnectURL
	}
	if e.API == "" {
		e.API = DefaultAPIURL
	}
	if e.JSSDK == "" {
		e.JSSDK = DefaultJSSDKURL
	}
	e.API = strings.TrimRight(e.API, "/")
	return e
}

// AuthorizeURL returns the link of WeChat's web authorization page that
// comes back to redirectURI with a code and state, asking for scope
// (snsapi_base or snsapi_userinfo). WeChat matches the link against a
// pattern, so the parameters keep its documented order; state must be
// [A-Za-z0-9]{1,128}.
func (c *Client) AuthorizeURL(redirectURI, scope, state string) string {
	return c.componentLink(wxhttp.AuthorizeLink(c.Endpoints.WithDefaults().Authorize, c.AppID, redirectURI, scope, state, ""))
}

// QRConnectURL returns the link of WeChat's website QR login page
// (scope snsapi_login) for a [Client] of an Open Platform website app.
func (c *Client) QRConnectURL(redirectURI, state string) string {
	return wxhttp.AuthorizeLink(c.Endpoints.WithDefaults().QRConnect, c.AppID, redirectURI, "snsapi_login", state, "")
}
