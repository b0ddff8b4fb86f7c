package wechattest

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The two web-authorization scopes, and website QR login's.
const (
	scopeBase     = "snsapi_base"
	scopeUserInfo = "snsapi_userinfo"
	scopeLogin    = "snsapi_login"
)

// visitorCookie remembers, in one browser, the user picked on the consent
// page, so later snsapi_base authorizations pass silently as inside WeChat.
const visitorCookie = "wechattest_openid"

// pageError is a failed authorization shown on the emulator's own page, as
// WeChat does: the browser never goes back to the app.
type pageError struct {
	code   int // WeChat's code for the case, 0 when it documents none
	zh, en string
}

// authRequest is a checked authorization request.
type authRequest struct {
	redirectURI   string
	scope         string
	state         string
	forceSnapshot bool
	// appID is the link's appid; componentAppID its component_appid,
	// "" outside component mode (component_oauth.go).
	appID          string
	componentAppID string
}

// handleAuthorize serves GET /connect/oauth2/authorize.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if s.isWeComAuthorize(r) {
		s.handleWeComAuthorize(w, r)
		return
	}
	req, perr := s.parseAuthorize(r.URL.RawQuery, false)
	if perr != nil {
		s.errorPage(w, perr.code, perr.zh, perr.en)
		return
	}

	s.mu.Lock()
	mode, visitor := s.mode, s.visitor
	var code string
	switch mode {
	case AutoApprove:
		code = s.mintRequestCodeLocked(req, visitor)
	case ConsentPage:
		// A browser that already picked a user passes snsapi_base silently,
		// as WeChat does for a user it knows. snsapi_userinfo always asks.
		if c, err := r.Cookie(visitorCookie); err == nil && req.scope == scopeBase {
			if _, ok := s.users[c.Value]; ok {
				code = s.mintRequestCodeLocked(req, c.Value)
			}
		}
	}
	s.mu.Unlock()

	switch {
	case mode == Refuse:
		// WeChat only asks for snsapi_userinfo; refusing snsapi_base too lets
		// tests drive the refusal path with either scope.
		s.returnRequest(w, req, "")
	case code != "":
		s.returnRequest(w, req, code)
	default:
		s.consentPage(w, r, req)
	}
}

// parseAuthorize checks the raw query of an authorize request, or with
// website of a qrconnect request, which follows the same pattern. WeChat
// matches the link against a pattern, so the order of the parameters
// matters and the raw query is read rather than a parsed url.Values.
func (s *Server) parseAuthorize(rawQuery string, website bool) (*authRequest, *pageError) {
	type param struct{ key, value string }
	var params []param
	seen := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, &pageError{0, "链接参数编码错误", "malformed query string"}
		}
		if _, dup := seen[key]; dup {
			return nil, &pageError{0, "参数重复：" + key, "duplicate parameter " + key}
		}
		seen[key] = value
		params = append(params, param{key, value})
	}

	if perr := missingParam(seen["appid"], seen["redirect_uri"], seen["scope"], seen["state"]); perr != nil {
		return nil, perr
	}
	if seen["response_type"] == "" {
		return nil, &pageError{0, "缺少参数 response_type", "response_type is missing"}
	}
	// WeChat's order; anything else (forcePopup, forceSnapShot,
	// connect_redirect) may follow.
	for i, key := range []string{"appid", "redirect_uri", "response_type", "scope", "state"} {
		if i >= len(params) || params[i].key != key {
			return nil, &pageError{0, "参数顺序错误", "parameters must come in the order appid, redirect_uri, response_type, scope, state"}
		}
	}
	componentAppID := ""
	if !website {
		componentAppID = seen["component_appid"]
	}
	if perr := s.checkAuthParams(website, componentAppID, seen["appid"], seen["redirect_uri"], seen["scope"], seen["state"]); perr != nil {
		return nil, perr
	}
	if seen["response_type"] != "code" {
		return nil, &pageError{0, "response_type 参数错误", "response_type must be code"}
	}
	return &authRequest{
		redirectURI:    seen["redirect_uri"],
		scope:          seen["scope"],
		state:          seen["state"],
		forceSnapshot:  seen["forceSnapShot"] == "true",
		appID:          seen["appid"],
		componentAppID: componentAppID,
	}, nil
}

// checkAuthParams checks the values the authorize link and the consent form
// share; with website, those of the qrconnect link and its confirm form.
// A componentAppID puts it in component mode: appid must then be an
// authorizer's, and every authorizer may ask for both scopes.
func (s *Server) checkAuthParams(website bool, componentAppID, appID, redirectURI, scope, state string) *pageError {
	if perr := missingParam(appID, redirectURI, scope, state); perr != nil {
		return perr
	}
	if website {
		return s.checkQRParams(appID, redirectURI, scope, state)
	}
	if componentAppID != "" {
		if perr := s.checkComponentAuthorize(componentAppID, appID); perr != nil {
			return perr
		}
	} else if subtle.ConstantTimeCompare([]byte(appID), []byte(s.AppID)) != 1 {
		return s.unknownAppIDPage(appID)
	}
	if perr := s.checkRedirectURI(redirectURI); perr != nil {
		return perr
	}
	s.mu.Lock()
	allowed := s.scopes[scope] || componentAppID != ""
	s.mu.Unlock()
	if scope != scopeBase && scope != scopeUserInfo {
		return &pageError{10005, "scope 参数错误或没有 scope 权限", "scope must be snsapi_base or snsapi_userinfo"}
	}
	if !allowed {
		return &pageError{10005, "此公众号并没有这些 scope 的权限", "the account lacks permission for scope " + scope}
	}
	if !validState(state) {
		return &pageError{0, "state 参数错误", "state must be 1 to 128 characters of a-zA-Z0-9"}
	}
	return nil
}

// checkRedirectURI checks that redirectURI is an absolute http(s) URL on
// the callback domain (SetCallbackDomain).
func (s *Server) checkRedirectURI(redirectURI string) *pageError {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// A URL that is not absolute http(s) has no domain to match.
		return &pageError{10003, "redirect_uri 参数错误", "redirect_uri must be an absolute http(s) URL"}
	}
	s.mu.Lock()
	domain := s.domain
	s.mu.Unlock()
	if !domainMatches(domain, u) {
		return &pageError{10003, "redirect_uri 域名与后台配置不一致",
			"redirect_uri domain " + u.Host + " differs from the configured callback domain " + domain}
	}
	return nil
}

// handleConfirm serves the consent form's POST: it checks the fields again,
// remembers the chosen user in this browser on Allow, and redirects as WeChat
// would.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	s.confirm(w, r, false)
}

// confirm answers the POST of the consent page, or of the QR login page
// (website): it checks the fields again, then sends the browser back to the
// app with a code for the chosen user on Allow, or with none on Refuse.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, website bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, 0, "表单无效", "malformed form")
		return
	}
	f := r.PostForm
	openID, scope, state, redirectURI := f.Get("openid"), f.Get("scope"), f.Get("state"), f.Get("redirect_uri")
	req := &authRequest{redirectURI: redirectURI, scope: scope, state: state, appID: f.Get("appid"),
		forceSnapshot: !website && f.Get("forceSnapShot") == "true"}
	if !website {
		req.componentAppID = f.Get("component_appid")
	}
	if perr := s.checkAuthParams(website, req.componentAppID, req.appID, redirectURI, scope, state); perr != nil {
		s.errorPage(w, perr.code, perr.zh, perr.en)
		return
	}
	switch f.Get("decision") {
	case "allow":
	case "refuse":
		s.returnRequest(w, req, "")
		return
	default:
		s.errorPage(w, 0, "请选择允许或拒绝", "decision must be allow or refuse")
		return
	}
	s.mu.Lock()
	_, known := s.users[openID]
	var code string
	if known {
		code = s.mintRequestCodeLocked(req, openID)
	}
	s.mu.Unlock()
	if !known {
		s.errorPage(w, 0, "未知的微信用户", "unknown WeChat user")
		return
	}
	if !website {
		http.SetCookie(w, &http.Cookie{
			Name:     visitorCookie,
			Value:    openID,
			Path:     "/connect/oauth2/", // keeps it from apps sharing the loopback host
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		})
	}
	s.returnRequest(w, req, code)
}

// choices lists the users for a page's user picker, the visitor selected.
func (s *Server) choices() []choice {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := make([]choice, 0, len(s.order))
	for _, id := range s.order {
		u := s.users[id]
		users = append(users, choice{OpenID: id, Nickname: u.Nickname, Selected: id == s.visitor, Snapshot: u.Snapshot})
	}
	return users
}

// domainMatches applies the account's callback domain to u: the same host,
// and the same port when the domain names one. An empty domain matches all.
func domainMatches(domain string, u *url.URL) bool {
	switch {
	case domain == "":
		return true
	case strings.EqualFold(u.Host, domain):
		return true
	}
	if _, _, err := net.SplitHostPort(domain); err == nil {
		return false // a port was configured and the hosts differ
	}
	return strings.EqualFold(u.Hostname(), strings.Trim(domain, "[]"))
}

// returnToApp sends the browser back to the app with code (if any) and
// state: straight there, or through the relay page when SetCallbackRetry is
// on.
func (s *Server) returnToApp(w http.ResponseWriter, redirectURI, code, state string) {
	s.redirectToApp(w, callbackURL(redirectURI, code, state))
}

// redirectToApp sends the browser to target, the app's callback: straight
// there, or through the relay page when SetCallbackRetry is on.
func (s *Server) redirectToApp(w http.ResponseWriter, target string) {
	s.mu.Lock()
	retry := s.retry
	s.mu.Unlock()
	if retry > 0 {
		target = s.URL + pathRelay + "?to=" + url.QueryEscape(target)
	}
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// handleRelay serves the relay page of SetCallbackRetry: it navigates to the
// callback, replacing itself in the history, and navigates there again if
// the app has not answered within the retry delay. The second navigation
// cancels the first (the app still gets both requests, and its first answer
// is never shown), as in WeChat; it leaves the relay page in the history,
// so Back replays the spent code, as Back in WeChat does. An answer that
// comes in time replaces the page, and its timer with it.
func (s *Server) handleRelay(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	u, err := url.Parse(to)
	s.mu.Lock()
	domain, retry := s.domain, s.retry
	s.mu.Unlock()
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !(domainMatches(domain, u) || s.wecomTrusts(u)) {
		// Only callbacks the authorization page would send: no open redirect.
		s.errorPage(w, 10003, "", "")
		return
	}
	if retry <= 0 {
		retry = 5 * time.Second // turned off since the redirect: WeChat's own delay
	}
	data := struct {
		Target  string
		After   string
		AfterMS int64
	}{to, retry.String(), retry.Milliseconds()}
	s.render(w, http.StatusOK, "relay", data)
}

// callbackURL is redirectURI with code (if any) and state added to its
// query, before any fragment, as WeChat builds it.
func callbackURL(redirectURI, code, state string) string {
	base, fragment, hasFragment := strings.Cut(redirectURI, "#")
	var b strings.Builder
	b.WriteString(base)
	switch {
	case !strings.Contains(base, "?"):
		b.WriteByte('?')
	case !strings.HasSuffix(base, "?") && !strings.HasSuffix(base, "&"):
		b.WriteByte('&')
	}
	if code != "" {
		b.WriteString("code=" + url.QueryEscape(code) + "&")
	}
	b.WriteString("state=" + url.QueryEscape(state))
	if hasFragment {
		b.WriteString("#" + fragment)
	}
	return b.String()
}

// choice is one entry of the consent page's user list.
type choice struct {
	OpenID, Nickname string
	Selected         bool
	Snapshot         bool // the user is a snapshot-page user (User.Snapshot)
}

// consentPage shows the consent form for snsapi_userinfo, or the "choose the
// WeChat user" form for snsapi_base (a desktop browser has no WeChat user).
func (s *Server) consentPage(w http.ResponseWriter, r *http.Request, req *authRequest) {
	users := s.choices()

	data := struct {
		Base           bool
		AppID          string
		RedirectURI    string
		Scope          string
		State          string
		ForceSnapshot  bool
		Users          []choice
		ComponentAppID string // component mode: AppID is the authorizer's
	}{req.scope == scopeBase, s.AppID, req.redirectURI, req.scope, req.state, req.forceSnapshot, users, req.componentAppID}
	if req.componentAppID != "" {
		data.AppID = req.appID
	}
	s.render(w, http.StatusOK, "consent", data)
}

// errorPage shows a failed authorization with WeChat's code, if it has one.
// It answers 400 so tests can tell it from a consent page.
func (s *Server) errorPage(w http.ResponseWriter, code int, zh, en string) {
	noteErrcode(w, code)
	if zh == "" {
		zh, en = pageMessage(code)
	}
	data := struct {
		Code   int
		ZH, EN string
	}{code, zh, en}
	s.render(w, http.StatusBadRequest, "error", data)
}

// validState applies WeChat's rule for state: a-zA-Z0-9, 1 to 128 bytes.
func validState(state string) bool {
	if len(state) == 0 || len(state) > 128 {
		return false
	}
	for _, c := range []byte(state) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// missingParam reports the first empty parameter with WeChat's code for it.
func missingParam(appID, redirectURI, scope, state string) *pageError {
	switch {
	case appID == "":
		return &pageError{10012, "缺少参数 appid", "appid is missing"}
	case redirectURI == "":
		return &pageError{10011, "缺少参数 redirect_uri", "redirect_uri is missing"}
	case scope == "":
		return &pageError{10010, "缺少参数 scope", "scope is missing"}
	case state == "":
		return &pageError{10013, "缺少参数 state", "state is missing"}
	}
	return nil
}

// pageMessage gives the texts of the authorization page codes WeChat documents.
func pageMessage(code int) (zh, en string) {
	switch code {
	case 10003:
		return "redirect_uri 域名与后台配置不一致", "redirect_uri domain differs from the configured callback domain"
	case 10004:
		return "此公众号被封禁", "this official account is banned"
	case 10005:
		return "此公众号并没有这些 scope 的权限", "the account lacks permission for this scope"
	case 10006:
		return "必须关注此测试号", "follow this test account first"
	case 10009:
		return "操作太频繁了，请稍后重试", "too frequent, try again later"
	case 10010, 10011, 10012, 10013:
		return "缺少参数", "a required parameter is missing"
	case 10015:
		return "公众号未授权第三方平台", "the account has not authorized the third-party platform"
	case 10016:
		return "不支持开放平台 appid", "an Open Platform appid cannot be used here"
	}
	return "系统错误", "system error"
}

// render writes the named page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := s.pages.ExecuteTemplate(&b, name, data); err != nil {
		http.Error(w, "wechattest: rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// pageTemplates are the emulator's pages: self-contained, mobile-friendly,
// labelled in Chinese and English.
const pageTemplates = `
{{define "head"}}<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#ededed;color:#111}
main{max-width:28rem;margin:0 auto;padding:2rem 1.25rem;background:#fff;min-height:100vh;box-sizing:border-box}
h1{font-size:1.25rem;margin:0 0 1rem}
p{line-height:1.5}
.note{color:#888;font-size:.8rem;margin-top:2rem}
label{display:block;margin:1.5rem 0 .5rem}
select,button{width:100%;font-size:1rem;padding:.75rem;border-radius:.5rem;box-sizing:border-box}
select{border:1px solid #ccc;background:#fff}
button{border:0;margin-top:.75rem;cursor:pointer}
#allow{background:#07c160;color:#fff}
#refuse{background:#f2f2f2;color:#07c160}
.code{font-size:2rem;color:#fa5151;margin:1rem 0}
label.check{font-size:.85rem;color:#555;margin:1rem 0}
label.check input{margin-right:.4rem}
</style>
</head>
<body>
<main>
{{end}}

{{define "foot"}}<p class="note">wechattest 模拟器，并非微信。<br>wechattest emulator, not WeChat.</p>
</main>
</body>
</html>
{{end}}

{{define "consent"}}{{if .Base}}{{template "head" "选择微信用户 / Choose the WeChat user"}}
<h1>选择微信用户<br>Choose the WeChat user</h1>
<p>应用 <b>{{.AppID}}</b> 需要知道你是哪位微信用户。<br>The app <b>{{.AppID}}</b> needs to know which WeChat user you are.</p>
{{else}}{{template "head" "微信授权 / WeChat authorization"}}
<h1>微信授权<br>WeChat authorization</h1>
<p>应用 <b>{{.AppID}}</b> 申请获得你的公开信息（昵称、头像）。<br>The app <b>{{.AppID}}</b> asks for your public profile (nickname, avatar).</p>
{{end}}<form method="post" action="/connect/oauth2/authorize/confirm">
<input type="hidden" name="appid" value="{{.AppID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<input type="hidden" name="state" value="{{.State}}">{{if .ComponentAppID}}
<input type="hidden" name="component_appid" value="{{.ComponentAppID}}">{{end}}
<label for="openid">微信用户 / WeChat user</label>
<select id="openid" name="openid">
{{range .Users}}<option value="{{.OpenID}}"{{if .Selected}} selected{{end}}>{{.Nickname}} ({{.OpenID}}){{if .Snapshot}} · 快照页 / snapshot{{end}}</option>
{{end}}</select>
{{if .Base}}<button type="submit" id="allow" name="decision" value="allow">继续 / Continue</button>
{{else}}<label class="check"><input type="checkbox" id="snapshot" name="forceSnapShot" value="true"{{if .ForceSnapshot}} checked{{end}}> 以快照页打开：虚拟用户，无真实身份<br>Open as the snapshot page (快照页): a virtual user, no real identity</label>
<button type="submit" id="allow" name="decision" value="allow">允许 / Allow</button>
<button type="submit" id="refuse" name="decision" value="refuse">拒绝 / Refuse</button>
{{end}}</form>
{{template "foot"}}{{end}}

{{define "relay"}}{{template "head" "返回应用 / Returning to the app"}}
<h1>正在返回应用<br>Returning to the app</h1>
<p><a id="callback" href="{{.Target}}">继续 / Continue</a></p>
<p class="note">若应用 {{.After}} 内未响应，将再次打开回调地址，与微信客户端相同。<br>If the app has not answered within {{.After}}, the callback is opened again, as the WeChat client does.</p>
<script>
(function () {
  var to = document.getElementById("callback").href;
  location.replace(to);
  // Chromium ignores a second location.replace while the first navigation
  // is pending; assign cancels it and goes again.
  setTimeout(function () { location.assign(to); }, {{.AfterMS}});
})();
</script>
{{template "foot"}}{{end}}

{{define "error"}}{{template "head" "微信授权出错 / Authorization error"}}
<h1>授权出错<br>Authorization error</h1>
{{if .Code}}<p class="code" id="errcode">{{.Code}}</p>
{{end}}<p>{{.ZH}}<br>{{.EN}}</p>
{{template "foot"}}{{end}}
`
