package wechattest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// tokenReply is the answer of both token endpoints.
type tokenReply struct {
	AccessToken    string `json:"access_token"`
	ExpiresIn      int    `json:"expires_in"`
	RefreshToken   string `json:"refresh_token"`
	OpenID         string `json:"openid"`
	Scope          string `json:"scope"`
	IsSnapshotUser int    `json:"is_snapshotuser,omitempty"`
	UnionID        string `json:"unionid,omitempty"`
}

// userInfoReply is the answer of /sns/userinfo. Since October 2021 WeChat
// gives sex 0 and empty region fields; the fields stay.
type userInfoReply struct {
	OpenID     string   `json:"openid"`
	Nickname   string   `json:"nickname"`
	Sex        int      `json:"sex"`
	Province   string   `json:"province"`
	City       string   `json:"city"`
	Country    string   `json:"country"`
	HeadImgURL string   `json:"headimgurl"`
	Privilege  []string `json:"privilege"`
	UnionID    string   `json:"unionid,omitempty"`
}

// handleToken serves GET /sns/oauth2/access_token: code → tokens. It
// serves both apps: the Official Account's codes with its appid and secret,
// the website app's (scope snsapi_login) with the website app's. A code
// presented by the other app is unknown to it: 40029, and the code stays
// unspent.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	website, errcode := s.checkAnyApp(q.Get("appid"))
	if errcode != 0 {
		writeError(w, r, errcode)
		return
	}
	want := s.AppSecret
	if website {
		want = s.WebsiteAppSecret
	}
	switch secret := q.Get("secret"); {
	case secret == "":
		writeError(w, r, 41004)
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1:
		writeError(w, r, 40125)
		return
	}
	if errcode := grantFault(q.Get("grant_type"), "authorization_code", q.Get("code"), 41008); errcode != 0 {
		writeError(w, r, errcode)
		return
	}
	code := q.Get("code")

	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[code]
	ttl := codeTTL
	if ok && g.scope == scopeLogin {
		ttl = webCodeTTL
	}
	// A code of component mode is the authorizer's: unknown here.
	reply, errcode := s.redeemLocked(g, ok && (g.scope == scopeLogin) == website && g.authorizer == "", ttl)
	if errcode != 0 {
		writeError(w, r, errcode)
		return
	}
	writeJSON(w, r, reply)
}

// redeemLocked spends the code g for an exchange it fits (its app, or its
// authorizer) within ttl of its issue, and returns the new
// authorization's answer: 40029 for a code that is unknown (nil), does
// not fit or expired (WeChat answers an expired code like an unknown
// one), 40163 for a used one.
func (s *Server) redeemLocked(g *grant, fits bool, ttl time.Duration) (tokenReply, int) {
	switch {
	case g == nil, !fits:
		return tokenReply{}, 40029
	case g.used:
		return tokenReply{}, 40163
	case !s.nowLocked().Before(g.issued.Add(ttl)):
		return tokenReply{}, 40029
	}
	g.used = true
	sess := &session{
		user:          g.user,
		scope:         g.scope,
		snapshot:      g.snapshot,
		authorizer:    g.authorizer,
		refreshExpiry: s.nowLocked().Add(refreshTTL),
	}
	sess.refreshToken = uniqueToken(64, func(t string) bool { _, ok := s.refresh[t]; return ok })
	s.refresh[sess.refreshToken] = sess
	return s.tokenReplyLocked(sess), 0
}

// handleRefresh serves GET /sns/oauth2/refresh_token: a new access token for
// the same authorization. The refresh token stays the same and keeps its
// 30-day expiry. A refresh token works only with the appid of the app it
// was issued to; the other app gets 40030.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	website, code := s.checkAnyApp(q.Get("appid"))
	if code != 0 {
		writeError(w, r, code)
		return
	}
	if errcode := grantFault(q.Get("grant_type"), "refresh_token", q.Get("refresh_token"), 41003); errcode != 0 {
		writeError(w, r, errcode)
		return
	}
	token := q.Get("refresh_token")

	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.refresh[token]
	switch {
	case !ok, (sess.scope == scopeLogin) != website, sess.authorizer != "":
		// Component mode refreshes under /sns/oauth2/component/.
		writeError(w, r, 40030)
		return
	case !s.nowLocked().Before(sess.refreshExpiry):
		writeError(w, r, 42002)
		return
	}
	writeJSON(w, r, s.tokenReplyLocked(sess))
}

// grantFault checks a token request's grant_type against want (40002) and
// that its credential (the code or the refresh token) is there (missing);
// it returns the errcode of the first fault, or 0.
func grantFault(grantType, want, credential string, missing int) int {
	switch {
	case grantType != want:
		return 40002
	case credential == "":
		return missing
	}
	return 0
}

// tokenReplyLocked mints an access token for sess and builds the reply.
// The caller holds s.mu.
func (s *Server) tokenReplyLocked(sess *session) tokenReply {
	at := uniqueToken(64, func(t string) bool { _, ok := s.access[t]; return ok })
	s.access[at] = &accessToken{sess: sess, expiry: s.nowLocked().Add(accessTTL)}
	reply := tokenReply{
		AccessToken:  at,
		ExpiresIn:    int(accessTTL.Seconds()),
		RefreshToken: sess.refreshToken,
		OpenID:       s.openIDLocked(sess),
		Scope:        sess.scope,
	}
	if sess.scope == scopeUserInfo || sess.scope == scopeLogin {
		reply.UnionID = s.unionIDLocked(sess)
	}
	if sess.snapshot {
		reply.IsSnapshotUser = 1
	}
	return reply
}

// handleUserInfo serves GET /sns/userinfo.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// lang picks the language of country and region names, which WeChat no
	// longer gives, so it changes nothing here; WeChat falls back to zh_CN
	// for an unknown value rather than failing, and so does the emulator.
	s.mu.Lock()
	defer s.mu.Unlock()
	at, code := s.checkAccessLocked(q.Get("access_token"), q.Get("openid"))
	if code != 0 {
		writeError(w, r, code)
		return
	}
	if at.sess.scope != scopeUserInfo && at.sess.scope != scopeLogin {
		writeError(w, r, 48001)
		return
	}
	u := s.users[at.sess.user]
	reply := userInfoReply{
		OpenID:     s.openIDLocked(at.sess),
		Nickname:   u.Nickname,
		HeadImgURL: u.HeadImgURL,
		Privilege:  []string{},
		UnionID:    s.unionIDLocked(at.sess),
	}
	if at.sess.snapshot {
		// A snapshot-page user's profile is virtual too.
		reply.Nickname = "微信用户"
		reply.HeadImgURL = s.URL + pathAvatar + "wechattest/snapshot/132"
	}
	writeJSON(w, r, reply)
}

// handleAuth serves GET /sns/auth, the access token check.
func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, code := s.checkAccessLocked(q.Get("access_token"), q.Get("openid")); code != 0 {
		writeError(w, r, code)
		return
	}
	writeJSON(w, r, okReply)
}

// checkAnyApp checks the appid of an API call both apps may make, and
// reports whether it is the website app's.
func (s *Server) checkAnyApp(appID string) (website bool, errcode int) {
	if appID != "" && subtle.ConstantTimeCompare([]byte(appID), []byte(s.WebsiteAppID)) == 1 {
		return true, 0
	}
	return false, s.checkApp(appID)
}

// checkApp checks an API call's appid, which must be the Official
// Account's.
func (s *Server) checkApp(appID string) int {
	switch {
	case appID == "":
		return 41002
	case subtle.ConstantTimeCompare([]byte(appID), []byte(s.AppID)) != 1:
		return 40013
	}
	return 0
}

// checkAccessLocked finds the access token for a userinfo or auth call and
// checks it belongs to openID. An unknown token is 40001 on both endpoints
// (WECHAT.md §6 shows 40003 only for the openid); a wrong openid is 40003.
// The caller holds s.mu.
func (s *Server) checkAccessLocked(token, openID string) (*accessToken, int) {
	if token == "" {
		return nil, 41001
	}
	at, ok := s.access[token]
	switch {
	case !ok:
		return nil, 40001
	case !s.nowLocked().Before(at.expiry):
		return nil, 42001
	case openID == "":
		return nil, 41009
	case openID != s.openIDLocked(at.sess):
		return nil, 40003
	}
	return at, 0
}

// openIDLocked is the openid the emulator gives out for sess: the user's own,
// a virtual one for a snapshot-page user, the website app's for a QR
// login, or an authorizer's in component mode.
func (s *Server) openIDLocked(sess *session) string {
	switch {
	case sess.authorizer != "" && sess.snapshot:
		return virtualID("openid "+sess.authorizer, sess.user)
	case sess.authorizer != "":
		return s.AuthorizerOpenID(sess.authorizer, sess.user)
	case sess.snapshot:
		return virtualID("openid", sess.user)
	case sess.scope == scopeLogin:
		return s.WebsiteOpenID(sess.user)
	}
	return sess.user
}

// unionIDLocked is the unionid given out for sess, empty when the user has
// none.
func (s *Server) unionIDLocked(sess *session) string {
	id := s.users[sess.user].UnionID
	if id != "" && sess.snapshot {
		return virtualID("unionid", id)
	}
	return id
}

// errorMessage is WeChat's errmsg text for errcode. None carries a
// request's secret, code or token.
func errorMessage(errcode int) string {
	switch errcode {
	case -1:
		return "system error"
	case 40001:
		return "invalid credential, access_token is invalid or not latest"
	case 40002:
		return "invalid grant_type"
	case 40003:
		return "invalid openid"
	case 40013:
		return "invalid appid"
	case 40014:
		return "invalid access_token"
	case 40016:
		return "invalid button size"
	case 40017:
		return "invalid button type"
	case 40018:
		return "invalid button name size"
	case 40019:
		return "invalid button key size"
	case 40020:
		return "invalid button url size"
	case 40029:
		return "invalid code"
	case 40030:
		return "invalid refresh_token"
	case 40125:
		return "invalid appsecret"
	case 40163:
		return "code been used"
	case 40164:
		return "invalid ip, not in whitelist"
	case 40097:
		return "invalid args"
	case 41001:
		return "access_token missing"
	case 41002:
		return "appid missing"
	case 41003:
		return "refresh_token missing"
	case 41004:
		return "appsecret missing"
	case 41008:
		return "missing code"
	case 41009:
		return "missing openid"
	case 42001:
		return "access_token expired"
	case 42002:
		return "refresh_token expired"
	case 42003:
		return "code expired"
	case 43002:
		return "require POST method"
	case 45009:
		return "reach max api daily quota limit"
	case 45011:
		return "api minute-quota reach limit"
	case 46003:
		return "menu no exist"
	case 47001:
		return "data format error"
	case 48001:
		return "api unauthorized"
	}
	return fmt.Sprintf("error %d", errcode)
}

// handleAvatar serves the emulator's avatars (the default user's and the
// snapshot stand-in) so pages that show headimgurl work offline.
func (s *Server) handleAvatar(w http.ResponseWriter, r *http.Request) {
	fill := "#07c160"
	if strings.Contains(r.URL.Path, "/snapshot/") {
		fill = "#b2b2b2"
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="132" height="132" viewBox="0 0 132 132">`+
		`<rect width="132" height="132" fill="%s"/><circle cx="66" cy="52" r="24" fill="#fff"/>`+
		`<path d="M22 124c4-28 22-42 44-42s40 14 44 42z" fill="#fff"/></svg>`, fill)
}
