package wechattest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Web authorization in component mode (第三方平台代公众号发起网页授权,
// COMPONENT.md §6–§8): the authorize link of an authorizer with
// component_appid, and the code exchange and refresh under
// /sns/oauth2/component/, which take the platform's
// component_access_token instead of the account's secret.

// Paths of component-mode web authorization, as [Server.Calls] and
// [Server.FailNext] name them.
const (
	pathComponentOAuthToken   = "/sns/oauth2/component/access_token"
	pathComponentOAuthRefresh = "/sns/oauth2/component/refresh_token"
)

// checkComponentAuthorize checks the appids of an authorize link (or its
// consent form) in component mode: component_appid must be the
// platform's, appid an authorizer's (10016 for the component appid
// itself, 10015 for an account that has not authorized the platform or
// revoked it).
func (s *Server) checkComponentAuthorize(componentAppID, appID string) *pageError {
	if componentAppID != s.ComponentAppID {
		return &pageError{0, "component_appid 参数错误", "component_appid " + componentAppID + " is not the third-party platform's appid"}
	}
	if appID == s.ComponentAppID {
		return &pageError{10016, "", ""}
	}
	s.mu.Lock()
	live := s.liveAuthorizerLocked(appID) != nil
	s.mu.Unlock()
	if !live {
		return &pageError{10015, "公众号 " + appID + " 未授权第三方平台", "the account " + appID + " has not authorized the third-party platform"}
	}
	return nil
}

// unknownAppIDPage is the page of an authorize link whose appid is not
// the Official Account's. An authorizer's appid without component_appid
// gets the same code, with a hint: the link misses component_appid.
func (s *Server) unknownAppIDPage(appID string) *pageError {
	s.mu.Lock()
	authorizer := s.liveAuthorizerLocked(appID) != nil
	s.mu.Unlock()
	if authorizer {
		return &pageError{10016, "appid 无效：这是第三方平台的授权方公众号，链接缺少 component_appid",
			"invalid appid: " + appID + " is an authorizer of the third-party platform; the link lacks component_appid"}
	}
	// WeChat documents no "unknown appid" page code; 10016 is the one it
	// shows when the appid is not the official account's own.
	return &pageError{10016, "appid 无效", "invalid appid"}
}

// mintRequestCodeLocked mints the code of an approved authorize request
// for user: the Official Account's, or in component mode one bound to
// the authorizer. The caller holds s.mu and has checked that user exists.
func (s *Server) mintRequestCodeLocked(req *authRequest, user string) string {
	code := s.mintCodeLocked(user, req.scope, req.forceSnapshot)
	if req.componentAppID != "" {
		s.codes[code].authorizer = req.appID
	}
	return code
}

// returnRequest sends the browser back to the app of req with code (if
// any) and state, and in component mode, with a code, the authorizer's
// appid: redirect_uri?code=CODE&state=STATE&appid=APPID (COMPONENT.md §6).
func (s *Server) returnRequest(w http.ResponseWriter, req *authRequest, code string) {
	target := callbackURL(req.redirectURI, code, req.state)
	if req.componentAppID != "" && code != "" {
		base, fragment, hasFragment := strings.Cut(target, "#")
		target = base + "&appid=" + url.QueryEscape(req.appID)
		if hasFragment {
			target += "#" + fragment
		}
	}
	s.redirectToApp(w, target)
}

// IssueAuthorizerCode returns a fresh code of component mode, as if the
// user with openID (the base OpenID; empty means the visitor) had
// approved an authorization with scope ("snsapi_base" or
// "snsapi_userinfo") on an authorize link of the authorizer
// authorizerAppID with the platform's component_appid, for tests that
// call a callback directly. Only /sns/oauth2/component/access_token
// takes it, with that authorizer's appid. It panics on an unknown user,
// scope or authorizer.
func (s *Server) IssueAuthorizerCode(authorizerAppID, openID, scope string) string {
	if scope != scopeBase && scope != scopeUserInfo {
		panic(fmt.Sprintf("wechattest: IssueAuthorizerCode: scope %q must be %q or %q", scope, scopeBase, scopeUserInfo))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.liveAuthorizerLocked(authorizerAppID) == nil {
		panic(fmt.Sprintf("wechattest: IssueAuthorizerCode: %q is not an authorizer of the platform; call AddAuthorizer first", authorizerAppID))
	}
	if openID == "" {
		openID = s.visitor
	}
	if _, ok := s.users[openID]; !ok {
		panic(fmt.Sprintf("wechattest: IssueAuthorizerCode: no user with OpenID %q; call AddUser first", openID))
	}
	req := &authRequest{appID: authorizerAppID, componentAppID: s.ComponentAppID, scope: scope}
	return s.mintRequestCodeLocked(req, openID)
}

// checkComponentCallLocked checks what both component-mode token
// endpoints share, in this order: 41002 without appid, 41018 without
// component_appid, 61011 for another component_appid, the
// component_access_token (41001, 48001, 40001), and 61003 for an appid
// that is not an authorizer of the platform (an assumption:
// COMPONENT.md names no code for it; 61003 is WeChat's "component is
// not authorized by this account"). The caller holds s.mu.
func (s *Server) checkComponentCallLocked(q url.Values) int {
	if q.Get("appid") == "" {
		return 41002
	}
	if code := s.checkComponentAppID(q.Get("component_appid")); code != 0 {
		return code
	}
	if code := s.checkComponentTokenLocked(q.Get("component_access_token")); code != 0 {
		return code
	}
	if s.liveAuthorizerLocked(q.Get("appid")) == nil {
		return 61003
	}
	return 0
}

// handleComponentOAuthToken serves GET /sns/oauth2/component/access_token:
// code → tokens for an authorizer, without the account's secret. After
// checkComponentCallLocked, the code rules are the Official Account's:
// 40002 / 41008 for grant_type and a missing code, 40029 for a code that
// is unknown, expired (5 minutes), not of component mode or of another
// authorizer, 40163 for a used one. The answer is the Official Account
// exchange's, with the authorizer's openid.
func (s *Server) handleComponentOAuthToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.checkComponentCallLocked(q); code != 0 {
		writeComponentError(w, r, code)
		return
	}
	if code := grantFault(q.Get("grant_type"), "authorization_code", q.Get("code"), 41008); code != 0 {
		writeComponentError(w, r, code)
		return
	}
	g, ok := s.codes[q.Get("code")]
	reply, code := s.redeemLocked(g, ok && g.authorizer == q.Get("appid"), codeTTL)
	if code != 0 {
		writeComponentError(w, r, code)
		return
	}
	writeJSON(w, r, reply)
}

// handleComponentOAuthRefresh serves GET
// /sns/oauth2/component/refresh_token: a new access token for the same
// authorization, after checkComponentCallLocked; 40002 / 41003 for
// grant_type and a missing refresh token, 40030 for one that is unknown,
// not of component mode or of another authorizer, 42002 after its 30
// days. The refresh token stays the same, as on the Official Account.
func (s *Server) handleComponentOAuthRefresh(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.checkComponentCallLocked(q); code != 0 {
		writeComponentError(w, r, code)
		return
	}
	if code := grantFault(q.Get("grant_type"), "refresh_token", q.Get("refresh_token"), 41003); code != 0 {
		writeComponentError(w, r, code)
		return
	}
	sess, ok := s.refresh[q.Get("refresh_token")]
	switch {
	case !ok, sess.authorizer != q.Get("appid"):
		writeComponentError(w, r, 40030)
		return
	case !s.nowLocked().Before(sess.refreshExpiry):
		writeComponentError(w, r, 42002)
		return
	}
	writeJSON(w, r, s.tokenReplyLocked(sess))
}

// logInAuthorizerCode is the code LogIn hands the callback of a
// component-mode link with componentAppID and appID: the authorizer's,
// for openID (the visitor when empty) and scope. The link's appids are
// checked as the authorize page checks them.
func (s *Server) logInAuthorizerCode(componentAppID, appID, openID, scope string) (string, error) {
	if perr := s.checkComponentAuthorize(componentAppID, appID); perr != nil {
		en := perr.en
		if en == "" {
			_, en = pageMessage(perr.code)
		}
		return "", fmt.Errorf("wechattest: LogIn: the authorize link in component mode fails with %d: %s", perr.code, en)
	}
	if scope != scopeBase && scope != scopeUserInfo {
		return "", fmt.Errorf("wechattest: LogIn: the authorize link in component mode asks for scope %q", scope)
	}
	return s.IssueAuthorizerCode(appID, openID, scope), nil
}
