package wechattest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// WeCom's API on the wire (qyapi.weixin.qq.com).
//
//   - Success and error answers alike are {"errcode":N,"errmsg":"…",…}
//     with HTTP 200, no newline after the JSON (WECOM.md §12: the HTTP
//     status of errors is not documented; clients read errcode).
//   - Content-Type "application/json; charset=UTF-8". Assumption: no
//     captured qyapi header was found; this is the label most reports of
//     WeCom's answers give, and unlike the Official Account's cgi-bin it
//     uses the standard charset parameter.
//   - Every errmsg ends in ", hint: [H], from ip: A.B.C.D, more info at
//     https://open.work.weixin.qq.com/devtool/query?e=CODE" [90455], as
//     errors users posted show (H is ten digits of Unix time and fifteen
//     more). "from ip" is the caller's address as WeCom saw it.
//   - Keys are lowercase on auth/*, CamelCase on the legacy
//     user/getuserinfo; getuserdetail's and user/get's gender is a string.
const wecomContentType = "application/json; charset=UTF-8"

// isWeComAPI reports whether path is one of WeCom's API paths, which the
// emulator answers in WeCom's manner rather than the Official Account's.
func isWeComAPI(path string) bool {
	switch path {
	case pathWWGetToken, pathWWUserInfo, pathWWUserDetail, pathWWLegacyInfo, pathWWUserGet, pathWWJSAPITicket, pathWWAgentTicket:
		return true
	}
	return false
}

// wecomErrorText is WeCom's errmsg text for errcode, before the suffix.
func wecomErrorText(errcode int) string {
	switch errcode {
	case -1:
		return "system busy"
	case 40001:
		return "invalid credential"
	case 40013:
		return "invalid corpid"
	case 40014:
		return "invalid access_token"
	case 40029:
		return "invalid code"
	case 40058:
		// Assumption: WeCom documents no errcode for a user_ticket that is
		// unknown or past its 1800 s (WECOM.md §5); 40058 is its generic
		// "invalid parameter".
		return "invalid parameter, user_ticket is invalid or expired"
	case 41001:
		return "access_token missing"
	case 41002:
		return "corpid missing"
	case 41004:
		return "corpsecret missing"
	case 41008:
		return "missing code"
	case 41009:
		return "missing userid"
	case 42001:
		return "access_token expired"
	case 45009:
		// Assumption: WeCom documents no errcode for its ticket quotas
		// (WECOM.md §10); 45009 is its general "api freq out of limit".
		return "api freq out of limit"
	case 47001:
		return "data format error"
	case 48002:
		return "api forbidden"
	case 50001:
		// Assumption: the text; WeCom's error table gives only the meaning,
		// "redirect_url未登记可信域名".
		return "redirect_url not authorized"
	case 60011:
		return "no privilege to access/modify contact/party/agent"
	case 60020:
		return "not allow to access from your ip"
	case 60111:
		return "userid not found"
	}
	return errorMessage(errcode)
}

// callerIP is the address of r's peer as the emulator saw it.
func callerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

// writeWeComError answers a WeCom API call with errcode in WeCom's shape.
func (s *Server) writeWeComError(w http.ResponseWriter, r *http.Request, errcode int) {
	noteErrcode(w, errcode)
	s.mu.Lock()
	now := s.nowLocked()
	s.mu.Unlock()
	hint := fmt.Sprintf("%d%s", now.Unix(), digits(15))
	msg := fmt.Sprintf("%s, hint: [%s], from ip: %s, more info at https://open.work.weixin.qq.com/devtool/query?e=%d",
		wecomErrorText(errcode), hint, callerIP(r), errcode)
	writeJSON(w, r, errorReply{ErrCode: errcode, ErrMsg: msg})
}

// digits returns n random decimal digits.
func digits(n int) string {
	var b strings.Builder
	for _, c := range []byte(randomToken(n)) {
		b.WriteByte('0' + c%10)
	}
	return b.String()[:n]
}

// wecomTokenReply is gettoken's answer.
type wecomTokenReply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// handleWeComToken serves GET /cgi-bin/gettoken?corpid=…&corpsecret=…:
// 41002 or 40013 for a missing or wrong corpid, 41004 or 40001 for a
// missing or unknown secret, else the token of the app whose secret it
// is. The trusted IP list does not apply: WeCom answers gettoken from any
// address and refuses the next call (WECOM.md §2).
//
// Assumption: while an app's token is valid, gettoken hands out the same
// one, with the seconds it has left as expires_in, as WeCom's pre-2024
// page said ("有效期内重复获取返回相同结果"); the 2024 page no longer says
// so.
func (s *Server) handleWeComToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	corpID, secret := q.Get("corpid"), q.Get("corpsecret")
	switch {
	case corpID == "":
		s.writeWeComError(w, r, 41002)
		return
	case subtle.ConstantTimeCompare([]byte(corpID), []byte(s.CorpID)) != 1:
		s.writeWeComError(w, r, 40013)
		return
	case secret == "":
		s.writeWeComError(w, r, 41004)
		return
	}
	s.mu.Lock()
	agentID, app := s.appBySecretLocked(secret)
	switch {
	case app == nil:
		s.mu.Unlock()
		s.writeWeComError(w, r, 40001)
		return
	case app.forbidden[pathWWGetToken]:
		s.mu.Unlock()
		s.writeWeComError(w, r, 48002)
		return
	}
	now := s.nowLocked()
	token, left := s.wecom.current[agentID], time.Duration(0)
	if t := s.wecom.tokens[token]; t != nil && !t.stale {
		left = t.expiry.Sub(now)
	}
	if left < time.Second {
		token = uniqueToken(wecomTokenLen, func(t string) bool { _, ok := s.wecom.tokens[t]; return ok })
		s.wecom.tokens[token] = &wecomToken{agentID: agentID, expiry: now.Add(wecomTokenTTL)}
		s.wecom.current[agentID] = token
		left = wecomTokenTTL
	}
	s.mu.Unlock()
	writeJSON(w, r, wecomTokenReply{ErrMsg: "ok", AccessToken: token, ExpiresIn: int(left / time.Second)})
}

// appBySecretLocked finds the app whose secret is secret. The caller
// holds s.mu.
func (s *Server) appBySecretLocked(secret string) (string, *wecomApp) {
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.CorpSecret)) == 1 {
		return s.AgentID, &s.wecom.main
	}
	for id, a := range s.wecom.apps {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(a.secret)) == 1 {
			return id, a
		}
	}
	return "", nil
}

// checkWeComCallLocked checks what every API call but gettoken carries:
// the access_token (41001 missing; 40014 unknown or invalidated early;
// 42001 past its 7200 s), then the caller's address against the app's
// trusted IPs (60020), then the app's permission for path (48002). It
// returns the token's agentid and app, or an errcode. The caller holds
// s.mu.
func (s *Server) checkWeComCallLocked(r *http.Request, token string) (string, *wecomApp, int) {
	if token == "" {
		return "", nil, 41001
	}
	t, ok := s.wecom.tokens[token]
	switch {
	case !ok, t.stale:
		return "", nil, 40014
	case !s.nowLocked().Before(t.expiry):
		// Assumption: WECOM.md §2 finds no 42001 row in the retrieved
		// table, and one user got 40014 for an expired token; the
		// emulator keeps the two apart so a client's handling of each can
		// be tried.
		return "", nil, 42001
	}
	app, ok := s.appLocked(t.agentID)
	if !ok {
		return "", nil, 40014 // the app's agentid was changed since
	}
	if len(app.ips) > 0 {
		addr, err := netip.ParseAddr(callerIP(r))
		trusted := false
		for _, p := range app.ips {
			if err == nil && p.Contains(addr) {
				trusted = true
				break
			}
		}
		if !trusted {
			return "", nil, 60020
		}
	}
	if app.forbidden[r.URL.Path] {
		return "", nil, 48002
	}
	return t.agentID, app, 0
}

// wecomIdentityReply is auth/getuserinfo's answer: a member's userid (and
// user_ticket), or a non-member's openid (and external_userid) [96442].
type wecomIdentityReply struct {
	ErrCode        int    `json:"errcode"`
	ErrMsg         string `json:"errmsg"`
	UserID         string `json:"userid,omitempty"`
	UserTicket     string `json:"user_ticket,omitempty"`
	OpenID         string `json:"openid,omitempty"`
	ExternalUserID string `json:"external_userid,omitempty"`
}

// legacyIdentityReply is the legacy user/getuserinfo's answer, CamelCase
// but for user_ticket and external_userid (WxJava#1053, #2061).
type legacyIdentityReply struct {
	ErrCode        int    `json:"errcode"`
	ErrMsg         string `json:"errmsg"`
	UserID         string `json:"UserId,omitempty"`
	OpenID         string `json:"OpenId,omitempty"`
	DeviceID       string `json:"DeviceId"`
	UserTicket     string `json:"user_ticket,omitempty"`
	ExpiresIn      int    `json:"expires_in,omitempty"`
	ExternalUserID string `json:"external_userid,omitempty"`
}

// exchanged is what a code stood for once spent.
type exchanged struct {
	userID, openID, externalUserID, ticket string
	inClient                               bool
}

// exchangeWeComCode checks the token and spends the code of a getuserinfo
// call, legacy or not: 41008 no code; 40029 unknown, spent or past its
// five minutes; 50001 a code built for another app, or (when the link
// named no agentid) for a redirect_uri outside the token's app's trusted
// domain. A code refused with 50001 stays unspent (assumption). It writes
// the error itself and reports false.
func (s *Server) exchangeWeComCode(w http.ResponseWriter, r *http.Request) (exchanged, bool) {
	q := r.URL.Query()
	s.mu.Lock()
	agentID, app, errcode := s.checkWeComCallLocked(r, q.Get("access_token"))
	var out exchanged
	if errcode == 0 {
		out, errcode = s.spendWeComCodeLocked(q.Get("code"), agentID, app)
	}
	s.mu.Unlock()
	if errcode != 0 {
		s.writeWeComError(w, r, errcode)
		return out, false
	}
	return out, true
}

// spendWeComCodeLocked is exchangeWeComCode's work on the code. The
// caller holds s.mu.
func (s *Server) spendWeComCodeLocked(code, agentID string, app *wecomApp) (exchanged, int) {
	if code == "" {
		return exchanged{}, 41008
	}
	g, ok := s.wecom.codes[code]
	now := s.nowLocked()
	switch {
	case !ok, g.used, !now.Before(g.issued.Add(wecomCodeTTL)):
		return exchanged{}, 40029
	case g.agentID != "" && g.agentID != agentID:
		return exchanged{}, 50001
	case g.agentID == "" && g.host != "" && !trustedHost(app.domain, g.host):
		return exchanged{}, 50001
	}
	g.used = true
	out := exchanged{inClient: g.inClient}
	if m, ok := s.wecom.members[g.who]; ok {
		out.userID = m.UserID
		// A user_ticket only for snsapi_privateinfo in the client, a
		// member in the visible range, and never a linked corp's [96442].
		if g.scope == wecomScopePrivate && g.inClient && !m.OutOfRange && !strings.Contains(m.UserID, "/") {
			out.ticket = uniqueToken(wecomTicketLen, func(t string) bool { _, ok := s.wecom.tickets[t]; return ok })
			s.wecom.tickets[out.ticket] = &wecomTicket{userID: m.UserID, agentID: agentID, expiry: now.Add(wecomTicketTTL)}
		}
		return out, 0
	}
	n := s.wecom.guests[g.who]
	out.openID, out.externalUserID = n.OpenID, n.ExternalUserID
	return out, 0
}

// handleWeComUserInfo serves GET /cgi-bin/auth/getuserinfo?access_token=…&code=…
func (s *Server) handleWeComUserInfo(w http.ResponseWriter, r *http.Request) {
	x, ok := s.exchangeWeComCode(w, r)
	if !ok {
		return
	}
	writeJSON(w, r, wecomIdentityReply{ErrMsg: "ok", UserID: x.userID, UserTicket: x.ticket, OpenID: x.openID, ExternalUserID: x.externalUserID})
}

// handleWeComLegacyUserInfo serves the legacy GET
// /cgi-bin/user/getuserinfo?access_token=…&code=…, which spends the same
// codes as auth/getuserinfo. DeviceId is made up per person for codes
// from the client and empty for Web-login codes (assumption: the old
// page called it the phone's device number).
func (s *Server) handleWeComLegacyUserInfo(w http.ResponseWriter, r *http.Request) {
	x, ok := s.exchangeWeComCode(w, r)
	if !ok {
		return
	}
	reply := legacyIdentityReply{ErrMsg: "ok", UserID: x.userID, OpenID: x.openID, UserTicket: x.ticket, ExternalUserID: x.externalUserID}
	if x.inClient {
		reply.DeviceID = wecomDerived("device", x.userID+x.openID)
	}
	if x.ticket != "" {
		reply.ExpiresIn = int(wecomTicketTTL / time.Second)
	}
	writeJSON(w, r, reply)
}

// wecomDetailReply is auth/getuserdetail's answer: no name [96443].
type wecomDetailReply struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	UserID  string `json:"userid"`
	Gender  string `json:"gender"`
	Avatar  string `json:"avatar"`
	QRCode  string `json:"qr_code"`
	Mobile  string `json:"mobile"`
	Email   string `json:"email"`
	BizMail string `json:"biz_mail"`
	Address string `json:"address"`
}

// handleWeComUserDetail serves POST
// /cgi-bin/auth/getuserdetail?access_token=… with the body
// {"user_ticket":"…"}: the member's sensitive fields, as after full
// consent on the emulator's page. A body that is not JSON is 47001; a
// ticket missing, unknown, of another app or past its 1800 s is 40058
// (assumption, see wecomErrorText). The ticket may be used again within
// its life (WeCom says nothing of single use).
func (s *Server) handleWeComUserDetail(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserTicket string `json:"user_ticket"`
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	bad := err != nil || json.Unmarshal(raw, &body) != nil
	s.mu.Lock()
	agentID, _, errcode := s.checkWeComCallLocked(r, r.URL.Query().Get("access_token"))
	var m Member
	if errcode == 0 && bad {
		errcode = 47001
	}
	if errcode == 0 {
		t, ok := s.wecom.tickets[body.UserTicket]
		switch {
		case !ok, t.agentID != agentID, !s.nowLocked().Before(t.expiry):
			errcode = 40058
		default:
			m, ok = s.wecom.members[t.userID]
			if !ok {
				errcode = 40058 // the member was removed
			}
		}
	}
	s.mu.Unlock()
	if errcode != 0 {
		s.writeWeComError(w, r, errcode)
		return
	}
	writeJSON(w, r, wecomDetailReply{
		ErrMsg:  "ok",
		UserID:  m.UserID,
		Gender:  genderOf(m),
		Avatar:  s.avatarOf(m),
		QRCode:  s.qrCodeOf(m),
		Mobile:  m.Mobile,
		Email:   m.Email,
		BizMail: m.BizMail,
		Address: m.Address,
	})
}

// wecomUserReply is user/get's answer, the fields a self-built app gets
// [96255] in the documentation's order (open_userid is for third-party
// apps only, and left out).
type wecomUserReply struct {
	ErrCode          int     `json:"errcode"`
	ErrMsg           string  `json:"errmsg"`
	UserID           string  `json:"userid"`
	Name             string  `json:"name"`
	Department       []int64 `json:"department"`
	Order            []int64 `json:"order"`
	Position         string  `json:"position"`
	Mobile           string  `json:"mobile"`
	Gender           string  `json:"gender"`
	Email            string  `json:"email"`
	BizMail          string  `json:"biz_mail"`
	IsLeaderInDept   []int   `json:"is_leader_in_dept"`
	DirectLeader     []any   `json:"direct_leader"`
	Avatar           string  `json:"avatar"`
	ThumbAvatar      string  `json:"thumb_avatar"`
	Telephone        string  `json:"telephone"`
	Alias            string  `json:"alias"`
	Address          string  `json:"address"`
	MainDepartment   int64   `json:"main_department"`
	Status           int     `json:"status"`
	QRCode           string  `json:"qr_code"`
	ExternalPosition string  `json:"external_position"`
}

// handleWeComUserGet serves GET /cgi-bin/user/get?access_token=…&userid=…:
// 41009 without userid; 60111 for a userid the corp does not have (a
// linked corp's "CorpId/userid" included: those are read through the
// linked-corp API, which the emulator does not serve; assumption); 60011
// for a member outside the app's visible range. An app created after
// 2022-06-20 gets the sensitive fields empty and gender "0" (assumption:
// WeCom's page says such apps "no longer get" them, not whether the keys
// stay).
func (s *Server) handleWeComUserGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	_, app, errcode := s.checkWeComCallLocked(r, q.Get("access_token"))
	var m Member
	restricted := false
	if errcode == 0 {
		var ok bool
		m, ok = s.wecom.members[q.Get("userid")]
		restricted = app.restricted
		switch {
		case q.Get("userid") == "":
			errcode = 41009
		case !ok, strings.Contains(m.UserID, "/"):
			errcode = 60111
		case m.OutOfRange:
			errcode = 60011
		}
	}
	s.mu.Unlock()
	if errcode != 0 {
		s.writeWeComError(w, r, errcode)
		return
	}
	dept := m.Department
	if dept == nil {
		dept = []int64{}
	}
	main := m.MainDepartment
	if main == 0 && len(dept) > 0 {
		main = dept[0]
	}
	reply := wecomUserReply{
		ErrMsg:         "ok",
		UserID:         m.UserID,
		Name:           m.Name,
		Department:     dept,
		Order:          make([]int64, len(dept)),
		Position:       m.Position,
		Mobile:         m.Mobile,
		Gender:         genderOf(m),
		Email:          m.Email,
		BizMail:        m.BizMail,
		IsLeaderInDept: make([]int, len(dept)),
		DirectLeader:   []any{},
		Avatar:         s.avatarOf(m),
		ThumbAvatar:    s.avatarOf(m),
		Address:        m.Address,
		MainDepartment: main,
		Status:         1,
		QRCode:         s.qrCodeOf(m),
	}
	if restricted {
		reply.Mobile, reply.Gender, reply.Email, reply.BizMail = "", "0", "", ""
		reply.Avatar, reply.ThumbAvatar, reply.Address, reply.QRCode = "", "", "", ""
	}
	writeJSON(w, r, reply)
}

// genderOf is m's gender as WeCom writes it: a string, "0" when unknown.
func genderOf(m Member) string {
	if m.Gender == "" {
		return "0"
	}
	return m.Gender
}

// avatarOf is m's avatar URL: its own, or the emulator's.
func (s *Server) avatarOf(m Member) string {
	if m.Avatar != "" {
		return m.Avatar
	}
	return s.URL + pathAvatar + "wechattest/wecom/" + wecomDerived("avatar", m.UserID) + "/0"
}

// qrCodeOf is the URL of m's personal QR code (名片二维码), served by the
// emulator as a picture.
func (s *Server) qrCodeOf(m Member) string {
	return s.URL + pathWWUserQRCode + "?vcode=" + wecomDerived("vcode", m.UserID)
}
