package wechattest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
)

// The Official Accounts that authorized the emulated third-party platform
// (授权方, "authorizers"): their authorization codes, the authorizer
// tokens of api_query_auth and api_authorizer_token, and each one's own
// jsapi_ticket (COMPONENT.md §5, §9).

// Paths of the authorizer API, as [Server.Calls] and [Server.FailNext]
// name them.
const (
	pathQueryAuth       = "/cgi-bin/component/api_query_auth"
	pathAuthorizerToken = "/cgi-bin/component/api_authorizer_token"
)

// Lifetimes of the authorizer credentials.
const (
	authCodeTTL        = time.Hour            // authorization_code (AuthorizationCodeExpiredTime)
	authorizerTokenTTL = 7200 * time.Second   // authorizer_access_token
	authorizerOverlap  = 5 * time.Minute      // a rotated authorizer_refresh_token keeps working
	authorizerTokBytes = globalTokenBytes / 2 // 64 characters
)

// The authorizers of a new Server.
const (
	defaultAuthorizer1 = "wx00000000000000a1"
	defaultAuthorizer2 = "wx00000000000000a2"
)

// authorizerState is the platform's authorizers and their credentials.
// Guarded by Server.mu.
type authorizerState struct {
	order    []string               // appids in the order first added, revoked ones included
	accounts map[string]*authorizer // by appid
	codes    map[string]*authCode
	refresh  map[string]*authorizerRefresh
	access   map[string]*authorizerAccess
	rotate   bool // RotateAuthorizerRefreshTokens
}

// authorizer is one Official Account that authorized the platform.
type authorizer struct {
	revoked     bool
	tickets     ticketChain // its jsapi_tickets
	ticketQuota quota       // its getticket answers today; the limit is SetTicketQuota's
}

// authCode is an authorization_code, redeemed by api_query_auth.
type authCode struct {
	appID  string
	expiry time.Time
	used   bool
	// renew marks the code of a (re-)authorization: redeeming it issues a
	// new refresh token and ends the older ones. An updateauthorized
	// code keeps the current one.
	renew bool
}

// authorizerRefresh is an authorizer_refresh_token.
type authorizerRefresh struct {
	appID   string
	retired time.Time // zero while it is the current one; else when it stops working
}

// authorizerAccess is an authorizer_access_token.
type authorizerAccess struct {
	appID  string
	expiry time.Time
}

func (s *Server) initAuthorizers() {
	s.component.auth = authorizerState{
		accounts: make(map[string]*authorizer),
		codes:    make(map[string]*authCode),
		refresh:  make(map[string]*authorizerRefresh),
		access:   make(map[string]*authorizerAccess),
	}
	for _, id := range []string{defaultAuthorizer1, defaultAuthorizer2} {
		s.addAuthorizerLocked(id)
	}
}

func (s *Server) routeAuthorizers(mux *http.ServeMux) {
	// Any method: a GET gets 43002, as on api_component_token.
	mux.HandleFunc(pathQueryAuth, s.handleQueryAuth)
	mux.HandleFunc(pathAuthorizerToken, s.handleAuthorizerToken)
	mux.HandleFunc("GET "+pathComponentOAuthToken, s.handleComponentOAuthToken)
	mux.HandleFunc("GET "+pathComponentOAuthRefresh, s.handleComponentOAuthRefresh)
}

// Authorizers returns the appids of the Official Accounts that have
// authorized the emulated third-party platform, in the order they were
// added. A new Server has two, "wx00000000000000a1" and
// "wx00000000000000a2"; [Server.AddAuthorizer] adds more and
// [Server.RevokeAuthorizer] takes one away.
//
// Each authorizer has its own openids ([Server.AuthorizerOpenID]), its
// own authorizer tokens and its own jsapi_ticket. The emulator binds all
// of them to one Open Platform account, so a user's unionid is the same
// in every authorizer.
func (s *Server) Authorizers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.component.auth.order {
		if !s.component.auth.accounts[id].revoked {
			ids = append(ids, id)
		}
	}
	return ids
}

// AddAuthorizer makes the Official Account appID an authorizer of the
// platform, as when its admin completes the platform's authorization
// page; a revoked one is authorized again, with no tokens until a new
// authorization code is redeemed ([Server.AuthorizationCode]). It panics
// if appID is not 1 to 64 characters of [A-Za-z0-9_-] or is the
// emulator's Official Account, website app, corp or component appid.
func (s *Server) AddAuthorizer(appID string) {
	s.mustAuthorizerAppID("AddAuthorizer", appID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addAuthorizerLocked(appID)
}

// mustAuthorizerAppID panics, naming the method, if appID cannot be an
// authorizer.
func (s *Server) mustAuthorizerAppID(method, appID string) {
	if !wxspec.Valid(appID, wxspec.MaxOpenID) {
		panic(fmt.Sprintf("wechattest: %s: appid %q must be 1 to 64 characters of [A-Za-z0-9_-]", method, appID))
	}
	switch appID {
	case s.AppID, s.WebsiteAppID, s.CorpID, s.ComponentAppID:
		panic(fmt.Sprintf("wechattest: %s: appid %q is one of the emulator's own apps; an authorizer needs an appid of its own", method, appID))
	}
}

// addAuthorizerLocked authorizes appID. The caller holds s.mu.
func (s *Server) addAuthorizerLocked(appID string) *authorizer {
	st := &s.component.auth
	a := st.accounts[appID]
	if a == nil {
		a = &authorizer{ticketQuota: quota{limit: noLimit}}
		st.accounts[appID] = a
		st.order = append(st.order, appID)
	}
	a.revoked = false
	return a
}

// RevokeAuthorizer makes the Official Account appID stop authorizing the
// platform, as when its admin cancels the authorization: its authorize
// links in component mode get the 10015 page, its authorizer refresh
// tokens 61023 on api_authorizer_token, its authorizer access tokens
// 40001, its unredeemed authorization codes fail, and a wx.config signed
// with its jsapi_ticket fails. Tokens users got through it earlier are
// not affected. An appid that is not an authorizer is ignored.
func (s *Server) RevokeAuthorizer(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeAuthorizerLocked(appID)
}

// revokeAuthorizerLocked revokes appID. The caller holds s.mu.
func (s *Server) revokeAuthorizerLocked(appID string) {
	st := &s.component.auth
	a := st.accounts[appID]
	if a == nil {
		return
	}
	a.revoked = true
	a.tickets = ticketChain{}
	for t, c := range st.codes {
		if c.appID == appID {
			delete(st.codes, t)
		}
	}
	for t, rt := range st.refresh {
		if rt.appID == appID {
			delete(st.refresh, t)
		}
	}
	for t, at := range st.access {
		if at.appID == appID {
			delete(st.access, t)
		}
	}
}

// liveAuthorizerLocked is the authorizer appID, nil if it is not one or
// was revoked. The caller holds s.mu.
func (s *Server) liveAuthorizerLocked(appID string) *authorizer {
	a := s.component.auth.accounts[appID]
	if a == nil || a.revoked {
		return nil
	}
	return a
}

// AuthorizerOpenID returns the openid the authorizer authorizerAppID
// knows the emulator's user openID (the user's base OpenID, as in
// [User]) by: WeChat gives every account its own openid for a person. It
// is derived from both, so tests can predict it; 28 characters of
// [A-Za-z0-9_-] starting with "o", never openID itself, and different in
// each authorizer. The unionid is the user's own in every authorizer.
func (s *Server) AuthorizerOpenID(authorizerAppID, openID string) string {
	sum := sha256.Sum256([]byte("wechattest authorizer openid " + authorizerAppID + " " + openID))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}

// AuthorizationCode returns a new authorization_code for the Official
// Account authorizerAppID, as WeChat hands one to the platform when the
// account's admin completes the platform's authorization page: it makes
// the account an authorizer (again, if it was revoked). The platform
// redeems the code once, within an hour, with api_query_auth, which
// answers with a new authorizer_refresh_token; the account's earlier
// refresh tokens stop working then, as a re-authorization ends the
// previous one. It panics as [Server.AddAuthorizer] does.
func (s *Server) AuthorizationCode(authorizerAppID string) string {
	s.mustAuthorizerAppID("AuthorizationCode", authorizerAppID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addAuthorizerLocked(authorizerAppID)
	return s.mintAuthCodeLocked(authorizerAppID, true)
}

// mintAuthCodeLocked records a new authorization code for appID. The
// caller holds s.mu.
func (s *Server) mintAuthCodeLocked(appID string, renew bool) string {
	st := &s.component.auth
	code := "queryauthcode@@@" + uniqueToken(36, func(c string) bool { _, ok := st.codes["queryauthcode@@@"+c]; return ok })
	st.codes[code] = &authCode{appID: appID, expiry: s.nowLocked().Add(authCodeTTL), renew: renew}
	return code
}

// pushedAuthorizationLocked applies a pushed authorization event for
// appID to the emulator's state and returns the event's code, "" for
// unauthorized. The caller holds s.mu.
func (s *Server) pushedAuthorizationLocked(infoType, appID string) string {
	if infoType == "unauthorized" {
		s.revokeAuthorizerLocked(appID)
		return ""
	}
	switch appID {
	case s.AppID, s.WebsiteAppID, s.CorpID, s.ComponentAppID:
		// The emulator's own apps never become authorizers.
	default:
		if wxspec.Valid(appID, wxspec.MaxOpenID) {
			s.addAuthorizerLocked(appID)
		}
	}
	return s.mintAuthCodeLocked(appID, infoType != "updateauthorized")
}

// AuthorizerRefreshToken returns the current authorizer_refresh_token of
// the authorizer authorizerAppID, as a platform would have stored it from
// api_query_auth, for tests that configure a platform without redeeming
// an authorization code. An authorizer whose code was never redeemed gets
// one now. It panics if authorizerAppID is not an authorizer (or was
// revoked).
func (s *Server) AuthorizerRefreshToken(authorizerAppID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.liveAuthorizerLocked(authorizerAppID) == nil {
		panic(fmt.Sprintf("wechattest: AuthorizerRefreshToken: %q is not an authorizer of the platform; call AddAuthorizer first", authorizerAppID))
	}
	if t := s.currentRefreshLocked(authorizerAppID); t != "" {
		return t
	}
	return s.mintAuthorizerRefreshLocked(authorizerAppID)
}

// currentRefreshLocked is appID's current refresh token, "" if none.
// The caller holds s.mu.
func (s *Server) currentRefreshLocked(appID string) string {
	for t, rt := range s.component.auth.refresh {
		if rt.appID == appID && rt.retired.IsZero() {
			return t
		}
	}
	return ""
}

// mintAuthorizerRefreshLocked records a new refresh token for appID. The
// caller holds s.mu.
func (s *Server) mintAuthorizerRefreshLocked(appID string) string {
	st := &s.component.auth
	t := "refreshtoken@@@" + uniqueToken(authorizerTokBytes, func(t string) bool { _, ok := st.refresh["refreshtoken@@@"+t]; return ok })
	st.refresh[t] = &authorizerRefresh{appID: appID}
	return t
}

// mintAuthorizerAccessLocked records a new access token for appID. The
// caller holds s.mu.
func (s *Server) mintAuthorizerAccessLocked(appID string) string {
	st := &s.component.auth
	t := uniqueToken(authorizerTokBytes, func(t string) bool {
		_, ok := st.access[t]
		_, global := s.globals[t]
		return ok || global
	})
	st.access[t] = &authorizerAccess{appID: appID, expiry: s.nowLocked().Add(authorizerTokenTTL)}
	return t
}

// RotateAuthorizerRefreshTokens sets whether api_authorizer_token hands
// out a new authorizer_refresh_token at every call. By default it does
// not: it answers with the refresh token it was called with, as WeChat
// usually does. With rotation on, the token the call used (and any other
// of the account still current) keeps working for 5 more minutes of the
// emulator's clock and then gets 61023, as community staff describe
// WeChat's rotation (COMPONENT.md §5).
func (s *Server) RotateAuthorizerRefreshTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.component.auth.rotate = on
}

// componentTokenParam is the component_access_token of a component API
// call, whose query may name it access_token too (COMPONENT.md §5).
func componentTokenParam(r *http.Request) string {
	q := r.URL.Query()
	if t := q.Get("component_access_token"); t != "" {
		return t
	}
	return q.Get("access_token")
}

// checkComponentTokenLocked checks a token that must be the platform's
// component_access_token: 41001 missing, 48001 an authorizer access
// token, 40001 anything else that is not a current one (expired
// included). The caller holds s.mu.
func (s *Server) checkComponentTokenLocked(token string) int {
	if token == "" {
		return 41001
	}
	if expiry, ok := s.component.tokens[token]; ok && s.nowLocked().Before(expiry) {
		return 0
	}
	if _, ok := s.component.auth.access[token]; ok {
		return 48001
	}
	return 40001
}

// checkComponentAppID checks the component_appid of a call: 41018
// missing, 61011 another one.
func (s *Server) checkComponentAppID(appID string) int {
	switch {
	case appID == "":
		return 41018
	case appID != s.ComponentAppID:
		return 61011
	}
	return 0
}

// readComponentBody reads a component API call's JSON body into v: 43002
// when it is not a POST, 47001 when it is not JSON.
func readComponentBody(w http.ResponseWriter, r *http.Request, v any) int {
	if r.Method != http.MethodPost {
		return 43002
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, v) != nil {
		return 47001
	}
	return 0
}

// queryAuthRequest is the body of api_query_auth.
type queryAuthRequest struct {
	ComponentAppID string `json:"component_appid"`
	Code           string `json:"authorization_code"`
}

// funcScope is one entry of func_info.
type funcScope struct {
	Category struct {
		ID int `json:"id"`
	} `json:"funcscope_category"`
}

// authorizationInfo is api_query_auth's authorization_info.
type authorizationInfo struct {
	AppID        string      `json:"authorizer_appid"`
	AccessToken  string      `json:"authorizer_access_token"`
	ExpiresIn    int         `json:"expires_in"`
	RefreshToken string      `json:"authorizer_refresh_token"`
	FuncInfo     []funcScope `json:"func_info"`
}

// authorizerFuncScopes are the permission sets (权限集) every authorizer
// grants in the emulator: 1 message management, 2 user management, 3
// account services, 4 web services (网页服务: web authorization and the
// JS-SDK), 7 stores, 11 menus.
var authorizerFuncScopes = []int{1, 2, 3, 4, 7, 11}

// componentCall checks a POST of the component API in the order WeChat
// does: the method (43002), the component token, the JSON body, decoded
// into req, and its component_appid, which appID points into. It answers
// the first errcode itself and reports whether the call may go on.
func (s *Server) componentCall(w http.ResponseWriter, r *http.Request, req any, appID *string) bool {
	code := 0
	if r.Method != http.MethodPost {
		code = 43002
	}
	if code == 0 {
		s.mu.Lock()
		code = s.checkComponentTokenLocked(componentTokenParam(r))
		s.mu.Unlock()
	}
	if code == 0 {
		code = readComponentBody(w, r, req)
	}
	if code == 0 {
		code = s.checkComponentAppID(*appID)
	}
	if code != 0 {
		writeComponentError(w, r, code)
		return false
	}
	return true
}

// handleQueryAuth serves POST api_query_auth: the component token (query
// component_access_token or access_token), then 47001 for a body that is
// not JSON, 41018 / 61011 for the component_appid, and 61010 for an
// authorization code that is unknown, used, expired or of a revoked
// account (an assumption: COMPONENT.md names no code for it; 61010 is
// WeChat's "code is expired"). A good code answers with the account's
// authorizer tokens; a code of a (re-)authorization issues a new refresh
// token and ends the account's earlier ones.
func (s *Server) handleQueryAuth(w http.ResponseWriter, r *http.Request) {
	var req queryAuthRequest
	if !s.componentCall(w, r, &req, &req.ComponentAppID) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.component.auth
	c, ok := st.codes[req.Code]
	if !ok || c.used || !s.nowLocked().Before(c.expiry) || s.liveAuthorizerLocked(c.appID) == nil {
		writeComponentError(w, r, 61010)
		return
	}
	c.used = true
	refresh := s.currentRefreshLocked(c.appID)
	if c.renew || refresh == "" {
		for t, rt := range st.refresh {
			if rt.appID == c.appID {
				delete(st.refresh, t)
			}
		}
		refresh = s.mintAuthorizerRefreshLocked(c.appID)
	}
	info := authorizationInfo{
		AppID:        c.appID,
		AccessToken:  s.mintAuthorizerAccessLocked(c.appID),
		ExpiresIn:    int(authorizerTokenTTL / time.Second),
		RefreshToken: refresh,
	}
	for _, id := range authorizerFuncScopes {
		var f funcScope
		f.Category.ID = id
		info.FuncInfo = append(info.FuncInfo, f)
	}
	writeJSON(w, r, struct {
		Info authorizationInfo `json:"authorization_info"`
	}{info})
}

// authorizerTokenRequest is the body of api_authorizer_token.
type authorizerTokenRequest struct {
	ComponentAppID string `json:"component_appid"`
	AppID          string `json:"authorizer_appid"`
	RefreshToken   string `json:"authorizer_refresh_token"`
}

// authorizerTokenReply is its answer.
type authorizerTokenReply struct {
	AccessToken  string `json:"authorizer_access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"authorizer_refresh_token"`
}

// handleAuthorizerToken serves POST api_authorizer_token: the component
// token, the body and component_appid as api_query_auth checks them;
// then 61023 for a refresh token that is missing, unknown, of another
// authorizer, of a revoked account, or rotated more than 5 minutes ago.
// A good call answers with a new authorizer_access_token (earlier ones
// keep working until they expire) and the refresh token: the same one,
// or with [Server.RotateAuthorizerRefreshTokens] a new one.
func (s *Server) handleAuthorizerToken(w http.ResponseWriter, r *http.Request) {
	var req authorizerTokenRequest
	if !s.componentCall(w, r, &req, &req.ComponentAppID) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.component.auth
	now := s.nowLocked()
	rt, ok := st.refresh[req.RefreshToken]
	if !ok || rt.appID != req.AppID || s.liveAuthorizerLocked(rt.appID) == nil || (!rt.retired.IsZero() && !now.Before(rt.retired)) {
		writeComponentError(w, r, 61023)
		return
	}
	refresh := req.RefreshToken
	if st.rotate {
		for _, old := range st.refresh {
			if old.appID == rt.appID && old.retired.IsZero() {
				old.retired = now.Add(authorizerOverlap)
			}
		}
		refresh = s.mintAuthorizerRefreshLocked(rt.appID)
	}
	writeJSON(w, r, authorizerTokenReply{
		AccessToken:  s.mintAuthorizerAccessLocked(rt.appID),
		ExpiresIn:    int(authorizerTokenTTL / time.Second),
		RefreshToken: refresh,
	})
}

// authorizerTicketLocked answers getticket when its access_token is an
// authorizer access token, with that authorizer's own jsapi_ticket (a
// chain of its own, with the rules of the Official Account's: see
// handleTicket), and reports whether it did. An expired token is 42001,
// a type other than jsapi 40097; beyond SetTicketQuota's daily quota,
// counted for each authorizer apart, 45009. The caller holds s.mu.
func (s *Server) authorizerTicketLocked(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	at, ok := s.component.auth.access[q.Get("access_token")]
	if !ok {
		return false
	}
	a := s.liveAuthorizerLocked(at.appID)
	now := s.nowLocked()
	switch {
	case a == nil:
		writeError(w, r, 40001)
		return true
	case !now.Before(at.expiry):
		writeError(w, r, 42001)
		return true
	case q.Get("type") != "jsapi":
		writeError(w, r, 40097)
		return true
	}
	a.ticketQuota.limit = s.ticketQuota.limit
	if a.ticketQuota.spent(now) {
		writeError(w, r, 45009)
		return true
	}
	a.ticketQuota.use()
	ticket := a.tickets.issue(now)
	writeJSON(w, r, ticketReply{ErrCode: 0, ErrMsg: "ok", Ticket: ticket, ExpiresIn: int(ticketTTL / time.Second)})
	return true
}

// authorizerChainLocked is the jsapi_ticket chain of the authorizer
// appID, nil if appID is not a live authorizer. The caller holds s.mu.
func (s *Server) authorizerChainLocked(appID string) *ticketChain {
	if a := s.liveAuthorizerLocked(appID); a != nil {
		return &a.tickets
	}
	return nil
}

// staleAuthorizerTicketsLocked makes every authorizer's tickets stale,
// for StaleTickets. The caller holds s.mu.
func (s *Server) staleAuthorizerTicketsLocked() {
	for _, a := range s.component.auth.accounts {
		a.tickets.makeStale()
	}
}
