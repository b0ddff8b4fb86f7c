package wechattest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// wecomLink is a checked WeCom login link: the authorize page's in the
// client, or a Web login's.
type wecomLink struct {
	agentID     string // "" only on the authorize page, where it is optional
	redirectURI string
	host        string // redirectHost of redirectURI
	scope       string // snsapi_base, snsapi_privateinfo, or CorpApp for a Web login
	state       string
	loginType   string // the Web login's login_type; "" on the old qrConnect
}

// isWeComAuthorize reports whether an authorize request is WeCom's: its
// appid is the corp's CorpID. Every other request stays the Official
// Account's.
func (s *Server) isWeComAuthorize(r *http.Request) bool {
	appID := r.URL.Query().Get("appid")
	return appID != "" && appID == s.CorpID
}

// singleValues reads a query or form where each key may come once.
func singleValues(v url.Values) (map[string]string, *pageError) {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, &pageError{0, "参数重复：" + k, "duplicate parameter " + k}
		}
		out[k] = vs[0]
	}
	return out, nil
}

// checkWeComLink checks the values of an authorize link with appid =
// CorpID (web false), or of a Web login link (web true), and of the
// emulator's forms that repeat them. WeCom documents no codes for its
// pages; the emulator's show none.
//
// Unlike the Official Account's page, the parameters may come in any
// order: the sources disagree on where agentid goes and nothing shows
// WeCom refusing an order (WECOM.md §3).
func (s *Server) checkWeComLink(p map[string]string, web bool) (*wecomLink, *pageError) {
	l := &wecomLink{agentID: p["agentid"], redirectURI: p["redirect_uri"], scope: p["scope"], state: p["state"], loginType: p["login_type"]}
	if p["appid"] == "" {
		return nil, &pageError{0, "缺少参数 appid", "appid is missing"}
	}
	if p["appid"] != s.CorpID {
		return nil, &pageError{0, "appid 参数错误：应为企业的 CorpID", "appid must be the corp's CorpID"}
	}
	if l.redirectURI == "" {
		return nil, &pageError{0, "缺少参数 redirect_uri", "redirect_uri is missing"}
	}
	u, err := url.Parse(l.redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &pageError{0, "redirect_uri 参数错误", "redirect_uri must be an absolute http(s) URL"}
	}
	l.host = redirectHost(u)
	if web {
		l.scope = wecomScopeWeb
		if l.agentID == "" {
			return nil, &pageError{0, "缺少参数 agentid", "agentid is missing: a CorpApp login needs the app's AgentID"}
		}
	} else {
		if p["response_type"] != "code" {
			return nil, &pageError{0, "response_type 参数错误", "response_type must be code"}
		}
		switch l.scope {
		case wecomScopeBase:
		case wecomScopePrivate:
			if l.agentID == "" {
				// The doc: privateinfo without agentid fails [91022].
				return nil, &pageError{0, "snsapi_privateinfo 需要 agentid 参数", "scope snsapi_privateinfo needs the agentid parameter"}
			}
		case "":
			return nil, &pageError{0, "缺少参数 scope", "scope is missing"}
		default:
			// snsapi_userinfo is absent from the self-built app's list
			// [91022]; the emulator refuses it as any other scope.
			return nil, &pageError{0, "scope 参数错误", "scope must be snsapi_base or snsapi_privateinfo"}
		}
		if l.state != "" && !validState(l.state) {
			return nil, &pageError{0, "state 参数错误", "state must be at most 128 characters of a-zA-Z0-9"}
		}
	}
	if l.agentID != "" {
		s.mu.Lock()
		_, ok := s.appLocked(l.agentID)
		s.mu.Unlock()
		if !ok {
			return nil, &pageError{0, "agentid 参数错误：企业没有此应用", "agentid is not an app of the corp"}
		}
	}
	return l, nil
}

// readWeComLink reads the values of a link from v, a query or a form that
// repeats one, each key at most once, and checks them: a Web login's
// login_type as checkLoginType does for path (web true), then the rest as
// checkWeComLink does. It returns the values and the link, or shows
// WeCom's error page and returns a nil link.
func (s *Server) readWeComLink(w http.ResponseWriter, v url.Values, web bool, path string) (map[string]string, *wecomLink) {
	p, perr := singleValues(v)
	var l *wecomLink
	if perr == nil && web {
		perr = checkLoginType(path, p["login_type"])
	}
	if perr == nil {
		l, perr = s.checkWeComLink(p, web)
	}
	if perr != nil {
		s.wecomErrorPage(w, perr)
		return nil, nil
	}
	return p, l
}

// trustsLinkLocked reports whether the redirect of l is on a trusted
// domain: that of l's app, or, for a link without agentid, that of any
// app of the corp. The caller holds s.mu.
func (s *Server) trustsLinkLocked(l *wecomLink) bool {
	if l.agentID != "" {
		app, _ := s.appLocked(l.agentID)
		return trustedHost(app.domain, l.host)
	}
	if trustedHost(s.wecom.main.domain, l.host) {
		return true
	}
	for _, a := range s.wecom.apps {
		if trustedHost(a.domain, l.host) {
			return true
		}
	}
	return false
}

// wecomTrusts reports whether u is on a trusted domain set for one of the
// corp's apps; an app without a trusted domain does not count.
func (s *Server) wecomTrusts(u *url.URL) bool {
	host := redirectHost(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.wecom.main.domain; d != "" && d == host {
		return true
	}
	for _, a := range s.wecom.apps {
		if a.domain != "" && a.domain == host {
			return true
		}
	}
	return false
}

// handleWeComAuthorize serves GET /connect/oauth2/authorize with appid =
// CorpID, the authorize page inside the WeCom client [91022]:
// snsapi_base passes silently, snsapi_privateinfo asks for consent, as the
// [Mode] says ([AutoApprove] stands for a person who allows at once,
// [ConsentPage] shows the page, [Refuse] returns state alone). A
// redirect_uri outside the app's trusted domain goes to WeCom's
// uriconfirm page, never to the app.
func (s *Server) handleWeComAuthorize(w http.ResponseWriter, r *http.Request) {
	_, l := s.readWeComLink(w, r.URL.Query(), false, r.URL.Path)
	if l == nil {
		return
	}
	s.mu.Lock()
	trusted := s.trustsLinkLocked(l)
	mode, code := s.mode, ""
	if trusted {
		switch mode {
		case AutoApprove:
			code = s.mintWeComCodeLocked(s.wecom.visitor, l.agentID, l.host, l.scope, true)
		case ConsentPage:
			// A browser that picked a person passes snsapi_base silently.
			if c, err := r.Cookie(wecomCookie); err == nil && l.scope == wecomScopeBase && s.knownWeComLocked(c.Value) {
				code = s.mintWeComCodeLocked(c.Value, l.agentID, l.host, l.scope, true)
			}
		}
	}
	s.mu.Unlock()
	switch {
	case !trusted:
		// WeCom's own page: open.work.weixin.qq.com/wwopen/uriconfirm
		// ?err_type=domain_err&uri=… (WECOM.md §3).
		w.Header().Set("Location", s.URL+pathWWURIConfirm+"?err_type=domain_err&uri="+url.QueryEscape(l.redirectURI))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
	case mode == Refuse:
		s.returnToApp(w, l.redirectURI, "", l.state)
	case code != "":
		s.returnToApp(w, l.redirectURI, code, l.state)
	default:
		s.wecomPage(w, "wwconsent", l, pathWWConfirm)
	}
}

// handleWeComURIConfirm serves GET /wwopen/uriconfirm, the page WeCom
// shows for a redirect_uri outside the trusted domain. It answers 400, as
// the emulator's other error pages do.
func (s *Server) handleWeComURIConfirm(w http.ResponseWriter, r *http.Request) {
	noteErrcode(w, 0)
	data := struct{ ErrType, URI string }{r.URL.Query().Get("err_type"), r.URL.Query().Get("uri")}
	s.render(w, http.StatusBadRequest, "wwuriconfirm", data)
}

// handleWeComConfirm serves the POST of the WeCom consent page.
func (s *Server) handleWeComConfirm(w http.ResponseWriter, r *http.Request) {
	s.wecomConfirm(w, r, false)
}

// handleWeComWebLogin serves GET /wwlogin/sso/login, the Web login for
// desktop browsers [98171], and GET /wwopen/sso/qrConnect, the old QR
// login it replaced: login_type CorpApp (the new page only), appid the
// CorpID, agentid required, redirect_uri on the app's trusted domain,
// state returned unchanged. Under [ConsentPage] it shows a page where
// the person confirms, as desktop WeCom's one click or a scan would;
// [AutoApprove] confirms at once for the WeCom visitor; [Refuse] returns
// state alone.
func (s *Server) handleWeComWebLogin(w http.ResponseWriter, r *http.Request) {
	_, l := s.readWeComLink(w, r.URL.Query(), true, r.URL.Path)
	if l == nil {
		return
	}
	s.mu.Lock()
	trusted := s.trustsLinkLocked(l)
	mode, code := s.mode, ""
	if trusted && mode == AutoApprove {
		code = s.mintWeComCodeLocked(s.wecom.visitor, l.agentID, l.host, l.scope, false)
	}
	s.mu.Unlock()
	switch {
	case !trusted:
		s.wecomErrorPage(w, &pageError{0, "redirect_uri 需使用应用可信域名（授权完成回调域名）", "redirect_uri must be on the app's trusted domain, port included"})
	case mode == Refuse:
		s.returnToApp(w, l.redirectURI, "", l.state)
	case code != "":
		s.returnToApp(w, l.redirectURI, code, l.state)
	default:
		s.wecomPage(w, "wwlogin", l, pathWWLoginForm)
	}
}

// checkLoginType checks the Web login's login_type; the old qrConnect
// has none.
func checkLoginType(path, loginType string) *pageError {
	switch {
	case path == pathWWQRConnect:
		return nil
	case loginType == "CorpApp":
		return nil
	case loginType == "ServiceApp":
		return &pageError{0, "模拟器不支持 ServiceApp（第三方应用）登录", "login_type ServiceApp (third-party apps) is not emulated"}
	case loginType == "":
		return &pageError{0, "缺少参数 login_type", "login_type is missing"}
	}
	return &pageError{0, "login_type 参数错误", "login_type must be CorpApp"}
}

// handleWeComWebConfirm serves the POST of the Web login page.
func (s *Server) handleWeComWebConfirm(w http.ResponseWriter, r *http.Request) {
	s.wecomConfirm(w, r, true)
}

// wecomConfirm answers the POST of the consent page (web false) or of the
// Web login page: it checks the fields again, then sends the browser back
// to the app with a code for the chosen person on Allow, with state alone
// on Refuse.
func (s *Server) wecomConfirm(w http.ResponseWriter, r *http.Request, web bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.wecomErrorPage(w, &pageError{0, "表单无效", "malformed form"})
		return
	}
	path := pathWWLogin
	if r.PostForm.Get("login_type") == "" {
		path = pathWWQRConnect // the form of the old qrConnect, which has none
	}
	p, l := s.readWeComLink(w, r.PostForm, web, path)
	if l == nil {
		return
	}
	switch p["decision"] {
	case "allow":
	case "refuse":
		s.returnToApp(w, l.redirectURI, "", l.state)
		return
	default:
		s.wecomErrorPage(w, &pageError{0, "请选择允许或拒绝", "decision must be allow or refuse"})
		return
	}
	id := p["userid"]
	s.mu.Lock()
	trusted, known := s.trustsLinkLocked(l), s.knownWeComLocked(id)
	var code string
	if trusted && known {
		code = s.mintWeComCodeLocked(id, l.agentID, l.host, l.scope, !web)
	}
	s.mu.Unlock()
	switch {
	case !trusted:
		s.wecomErrorPage(w, &pageError{0, "redirect_uri 需使用应用可信域名", "redirect_uri must be on the app's trusted domain"})
		return
	case !known:
		s.wecomErrorPage(w, &pageError{0, "未知的企业微信用户", "unknown WeCom user"})
		return
	}
	if !web {
		http.SetCookie(w, &http.Cookie{
			Name:     wecomCookie,
			Value:    id,
			Path:     "/connect/oauth2/",
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		})
	}
	s.returnToApp(w, l.redirectURI, code, l.state)
}

// wecomChoice is one person of the WeCom pages' picker.
type wecomChoice struct {
	ID, Name, Kind string
	Selected       bool
}

// wecomChoices lists the corp's people for a picker, the visitor
// selected.
func (s *Server) wecomChoices() []wecomChoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]wecomChoice, 0, len(s.wecom.order))
	for _, id := range s.wecom.order {
		c := wecomChoice{ID: id, Selected: id == s.wecom.visitor}
		if m, ok := s.wecom.members[id]; ok {
			c.Name, c.Kind = m.Name, "成员 / member"
			switch {
			case strings.Contains(id, "/"):
				c.Kind = "互联企业成员 / linked corp"
			case m.OutOfRange:
				c.Kind = "成员，不在可见范围 / member outside the visible range"
			}
		} else {
			n := s.wecom.guests[id]
			c.Name, c.Kind = n.Name, "非企业成员 / non-member"
			if n.ExternalUserID != "" {
				c.Kind = "企业客户 / customer"
			}
		}
		out = append(out, c)
	}
	return out
}

// wecomPage shows the consent page or the Web login page for l, whose
// form posts to action.
func (s *Server) wecomPage(w http.ResponseWriter, name string, l *wecomLink, action string) {
	data := struct {
		Action, CorpID, AgentID, RedirectURI, Scope, State, LoginType string
		Base                                                          bool
		People                                                        []wecomChoice
	}{action, s.CorpID, l.agentID, l.redirectURI, l.scope, l.state, l.loginType, l.scope == wecomScopeBase, s.wecomChoices()}
	s.render(w, http.StatusOK, name, data)
}

// wecomErrorPage shows a failed WeCom login; the browser never goes back
// to the app. It answers 400, as the Official Account's error pages do.
func (s *Server) wecomErrorPage(w http.ResponseWriter, perr *pageError) {
	noteErrcode(w, perr.code)
	s.render(w, http.StatusBadRequest, "wwerror", struct{ ZH, EN string }{perr.zh, perr.en})
}

// wecomTemplates are the WeCom pages, in the style of pageTemplates.
const wecomTemplates = `
{{define "wwpeople"}}<input type="hidden" name="appid" value="{{.CorpID}}">
{{if .AgentID}}<input type="hidden" name="agentid" value="{{.AgentID}}">
{{end}}<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
{{if .State}}<input type="hidden" name="state" value="{{.State}}">
{{end}}<label for="userid">企业微信用户 / WeCom user</label>
<select id="userid" name="userid">
{{range .People}}<option value="{{.ID}}"{{if .Selected}} selected{{end}}>{{.Name}} ({{.ID}}) · {{.Kind}}</option>
{{end}}</select>
{{end}}

{{define "wwconsent"}}{{if .Base}}{{template "head" "选择企业微信用户 / Choose the WeCom user"}}
<h1>选择企业微信用户<br>Choose the WeCom user</h1>
<p>企业 <b>{{.CorpID}}</b> 的应用{{if .AgentID}} <b>{{.AgentID}}</b>{{end}} 需要知道你是谁。<br>An app{{if .AgentID}} (<b>{{.AgentID}}</b>){{end}} of the corp <b>{{.CorpID}}</b> needs to know who you are.</p>
{{else}}{{template "head" "企业微信授权 / WeCom authorization"}}
<h1>企业微信授权<br>WeCom authorization</h1>
<p>企业 <b>{{.CorpID}}</b> 的应用 <b>{{.AgentID}}</b> 申请获取你的头像、性别、手机、邮箱等信息。<br>The app <b>{{.AgentID}}</b> of the corp <b>{{.CorpID}}</b> asks for your avatar, gender, mobile, email and address.</p>
{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="scope" value="{{.Scope}}">
{{template "wwpeople" .}}{{if .Base}}<button type="submit" id="allow" name="decision" value="allow">继续 / Continue</button>
{{else}}<button type="submit" id="allow" name="decision" value="allow">允许 / Allow</button>
<button type="submit" id="refuse" name="decision" value="refuse">拒绝 / Refuse</button>
{{end}}</form>
{{template "foot"}}{{end}}

{{define "wwlogin"}}{{template "head" "企业微信登录 / Log in with WeCom"}}
<h1>企业微信登录<br>Log in with WeCom</h1>
<p>企业 <b>{{.CorpID}}</b> 的应用 <b>{{.AgentID}}</b> 请你登录。已登录企业微信桌面端的用户点击确认，其他人扫码（模拟：选择用户并确认）。<br>The app <b>{{.AgentID}}</b> of the corp <b>{{.CorpID}}</b> asks you to log in. Someone signed in to desktop WeCom confirms with one click, others scan (emulated: pick the user and confirm).</p>
<form method="post" action="{{.Action}}">
{{if .LoginType}}<input type="hidden" name="login_type" value="{{.LoginType}}">
{{end}}{{template "wwpeople" .}}<button type="submit" id="allow" name="decision" value="allow">确认登录 / Log in</button>
<button type="submit" id="refuse" name="decision" value="refuse">取消 / Cancel</button>
</form>
{{template "foot"}}{{end}}

{{define "wwuriconfirm"}}{{template "head" "企业微信 / WeCom"}}
<h1>无法打开<br>Cannot open the page</h1>
<p class="code" id="errtype">{{.ErrType}}</p>
<p>redirect_uri需使用应用可信域名<br>The redirect_uri must be on the app's trusted domain (可信域名).</p>
<p><code>{{.URI}}</code></p>
{{template "foot"}}{{end}}

{{define "wwerror"}}{{template "head" "企业微信授权出错 / WeCom authorization error"}}
<h1>授权出错<br>Authorization error</h1>
<p>{{.ZH}}<br>{{.EN}}</p>
{{template "foot"}}{{end}}
`

// routeWeCom adds WeCom's pages and API to mux. The authorize page is
// shared with the Official Account: handleAuthorize hands requests with
// appid = CorpID over to handleWeComAuthorize.
func (s *Server) routeWeCom(mux *http.ServeMux) {
	mux.HandleFunc("POST "+pathWWConfirm, s.handleWeComConfirm)
	mux.HandleFunc("GET "+pathWWLogin, s.handleWeComWebLogin)
	mux.HandleFunc("GET "+pathWWQRConnect, s.handleWeComWebLogin)
	mux.HandleFunc("POST "+pathWWLoginForm, s.handleWeComWebConfirm)
	mux.HandleFunc("GET "+pathWWURIConfirm, s.handleWeComURIConfirm)
	mux.HandleFunc("GET "+pathWWUserQRCode, s.handleAvatar)
	mux.HandleFunc("GET "+pathWWGetToken, s.handleWeComToken)
	mux.HandleFunc("GET "+pathWWUserInfo, s.handleWeComUserInfo)
	mux.HandleFunc("GET "+pathWWLegacyInfo, s.handleWeComLegacyUserInfo)
	mux.HandleFunc("POST "+pathWWUserDetail, s.handleWeComUserDetail)
	mux.HandleFunc("GET "+pathWWUserGet, s.handleWeComUserGet)
	mux.HandleFunc("GET "+pathWWJSAPITicket, s.handleWeComJSAPITicket)
	mux.HandleFunc("GET "+pathWWAgentTicket, s.handleWeComAgentTicket)
}

// isWeComLink reports whether loc, where an application sent a browser,
// is one of the emulator's WeCom login pages.
func (s *Server) isWeComLink(loc *url.URL) bool {
	l := loc.String()
	switch {
	case strings.HasPrefix(l, s.URL+pathWWLogin+"?"), strings.HasPrefix(l, s.URL+pathWWQRConnect+"?"):
		return true
	case strings.HasPrefix(l, s.URL+pathAuthorize+"?"):
		return s.CorpID != "" && loc.Query().Get("appid") == s.CorpID
	}
	return false
}

// logInWeCom is LogIn's step on a WeCom login page at loc: the callback
// and a code for id, as the page would give it once the person agreed.
func (s *Server) logInWeCom(loc *url.URL, id string) (*url.URL, string, error) {
	q := loc.Query()
	web := loc.Path != pathAuthorize
	scope := q.Get("scope")
	if web {
		scope = wecomScopeWeb
	} else if scope != wecomScopeBase && scope != wecomScopePrivate {
		return nil, "", fmt.Errorf("wechattest: LogIn: the WeCom authorize link asks for scope %q", scope)
	}
	cb, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || cb.Host == "" {
		return nil, "", fmt.Errorf("wechattest: LogIn: the WeCom link's redirect_uri %q is not absolute", q.Get("redirect_uri"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if agentID := q.Get("agentid"); agentID != "" {
		if _, ok := s.appLocked(agentID); !ok {
			return nil, "", fmt.Errorf("wechattest: LogIn: the WeCom link's agentid %q is not an app of the corp", agentID)
		}
	}
	switch {
	case id == "":
		id = s.wecom.visitor
	case s.knownWeComLocked(id):
	case validUserID(id):
		s.wecom.members[id] = Member{UserID: id}
		s.wecom.order = append(s.wecom.order, id)
	default:
		return nil, "", fmt.Errorf("wechattest: LogIn: %q is neither a known WeCom id nor a valid userid", id)
	}
	return cb, s.mintWeComCodeLocked(id, q.Get("agentid"), redirectHost(cb), scope, !web), nil
}
