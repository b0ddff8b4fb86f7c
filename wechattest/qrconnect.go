package wechattest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// WebsiteOpenID returns the openid the website app knows the user with the
// Official Account openid openID by. WeChat gives every app its own openid
// for a person; only the unionid is shared. The emulator derives it from
// the website app's appid and openID, so tests can predict it; it is
// 28 characters of [A-Za-z0-9_-] starting with "o", and never openID itself.
func (s *Server) WebsiteOpenID(openID string) string {
	sum := sha256.Sum256([]byte("wechattest website openid " + s.WebsiteAppID + " " + openID))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// handleQRConnect serves GET /connect/qrconnect, the website QR login page.
// Its link follows the authorize link's rules (parameter order, state,
// callback domain); the appid must be the website app's and the scope
// snsapi_login. The mode applies as on the authorization page, except that
// ConsentPage always shows the page: a QR login always needs a scan.
func (s *Server) handleQRConnect(w http.ResponseWriter, r *http.Request) {
	req, perr := s.parseAuthorize(r.URL.RawQuery, true)
	if perr != nil {
		s.errorPage(w, perr.code, perr.zh, perr.en)
		return
	}
	s.mu.Lock()
	mode := s.mode
	var code string
	if mode == AutoApprove {
		code = s.mintCodeLocked(s.visitor, scopeLogin, false)
	}
	s.mu.Unlock()

	switch mode {
	case AutoApprove:
		s.returnToApp(w, req.redirectURI, code, req.state)
	case Refuse:
		s.returnToApp(w, req.redirectURI, "", req.state)
	default:
		s.qrPage(w, req)
	}
}

// checkQRParams checks the values of a qrconnect link or its confirm form
// once none is missing. WeChat documents no codes for these pages, so they
// show none.
func (s *Server) checkQRParams(appID, redirectURI, scope, state string) *pageError {
	if subtle.ConstantTimeCompare([]byte(appID), []byte(s.WebsiteAppID)) != 1 {
		return &pageError{0, "appid 参数错误：不是网站应用的 appid", "appid is not the website app's; QR login needs an Open Platform website app"}
	}
	if perr := s.checkRedirectURI(redirectURI); perr != nil {
		return perr
	}
	if scope != scopeLogin {
		return &pageError{0, "scope 参数错误或没有 scope 权限", "scope must be snsapi_login"}
	}
	if !validState(state) {
		return &pageError{0, "state 参数错误", "state must be 1 to 128 characters of a-zA-Z0-9"}
	}
	return nil
}

// qrPage shows the emulated QR login: a placeholder for the code, a choice
// of the user who "scans" it, and the confirm and refuse buttons a phone
// would show.
func (s *Server) qrPage(w http.ResponseWriter, req *authRequest) {
	data := struct {
		AppID       string
		RedirectURI string
		Scope       string
		State       string
		Users       []choice
	}{s.WebsiteAppID, req.redirectURI, req.scope, req.state, s.choices()}
	s.render(w, http.StatusOK, "qrconnect", data)
}

// handleQRConfirm serves the QR login page's POST: as if the chosen user
// had scanned the code and confirmed, or refused, on the phone.
func (s *Server) handleQRConfirm(w http.ResponseWriter, r *http.Request) {
	s.confirm(w, r, true)
}

// qrTemplates is the QR login page, in the style of pageTemplates.
const qrTemplates = `
{{define "qrconnect"}}{{template "head" "微信登录 / Log in with WeChat"}}
<h1>微信登录<br>Log in with WeChat</h1>
<p>网站应用 <b>{{.AppID}}</b> 请你用微信扫码登录。<br>The website <b>{{.AppID}}</b> asks you to log in by scanning with WeChat.</p>
<svg id="qrcode" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 29 29" width="200" height="200" role="img" aria-label="QR code placeholder" style="display:block;margin:1.5rem auto;border:1px solid #ddd">
<rect width="29" height="29" fill="#fff"/>
<path d="M2 2h7v7h-7zM3 3v5h5v-5zM4 4h3v3h-3zM20 2h7v7h-7zM21 3v5h5v-5zM22 4h3v3h-3zM2 20h7v7h-7zM3 21v5h5v-5zM4 22h3v3h-3z" fill="#000" fill-rule="evenodd"/>
<text x="17.5" y="18.5" font-size="4" text-anchor="middle" fill="#b2b2b2">模拟</text>
</svg>
<p>请使用微信扫描二维码登录（模拟：选择扫码的用户并确认）。<br>Scan the code with WeChat to log in (emulated: pick who scans and confirm).</p>
<form method="post" action="/connect/qrconnect/confirm">
<input type="hidden" name="appid" value="{{.AppID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">
<label for="openid">扫码的微信用户 / WeChat user who scans</label>
<select id="openid" name="openid">
{{range .Users}}<option value="{{.OpenID}}"{{if .Selected}} selected{{end}}>{{.Nickname}} ({{.OpenID}})</option>
{{end}}</select>
<button type="submit" id="allow" name="decision" value="allow">扫码并确认（模拟）/ Scan and confirm (emulated)</button>
<button type="submit" id="refuse" name="decision" value="refuse">拒绝 / Refuse</button>
</form>
{{template "foot"}}{{end}}
`
