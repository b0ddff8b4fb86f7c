package wechattest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/work"
)

// WeCom (企业微信): the emulated corp, its self-built apps and the people
// who can open their links. Facts from WeCom's documentation are cited in
// the comments; what the emulator picks where the documentation is silent
// is marked "Assumption".

// Paths of WeCom's pages and API, as [Server.Calls] and [Server.FailNext]
// name them.
const (
	pathWWConfirm     = "/connect/oauth2/authorize/wecom/confirm" // the emulator's own consent form
	pathWWLogin       = "/wwlogin/sso/login"
	pathWWLoginForm   = "/wwlogin/sso/login/confirm" // the emulator's own confirm form
	pathWWQRConnect   = "/wwopen/sso/qrConnect"
	pathWWURIConfirm  = "/wwopen/uriconfirm"
	pathWWUserQRCode  = "/wwopen/userQRCode"
	pathWWGetToken    = "/cgi-bin/gettoken"
	pathWWUserInfo    = "/cgi-bin/auth/getuserinfo"
	pathWWUserDetail  = "/cgi-bin/auth/getuserdetail"
	pathWWLegacyInfo  = "/cgi-bin/user/getuserinfo"
	pathWWUserGet     = "/cgi-bin/user/get"
	wecomScopeBase    = "snsapi_base"
	wecomScopePrivate = "snsapi_privateinfo"
	wecomScopeWeb     = "CorpApp" // IssueWeComCode's name for a Web-login code
)

// Lifetimes WeCom documents.
const (
	wecomCodeTTL   = 5 * time.Minute    // codes: single use, 5 minutes [96442]
	wecomTicketTTL = 1800 * time.Second // user_ticket [96442]
	wecomTokenTTL  = 7200 * time.Second // the app's access_token [91039]
	wecomTokenLen  = 96                 // random bytes of a token: 128 characters
	wecomCodeLen   = 32                 // 43 characters; WeCom allows 512
	wecomTicketLen = 48                 // 64 characters; WeCom allows 512
	wecomMaxID     = 64                 // userid and openid: at most 64 bytes
	wecomCookie    = "wechattest_wecom" // the WeCom user a browser picked
)

// Defaults of a new Server's corp.
const (
	defaultCorpID     = "ww0000000000000001"
	defaultAgentID    = "1000002"
	defaultCorpSecret = "emulator-corpsecret-0000000000000"
	defaultMemberID   = "zhangsan"
	defaultLinkedCorp = "ww0000000000000002"
	defaultGuestID    = "oWeComGuest0000000000000000001"
)

// Member is a person of the emulated corp, or of a linked corp (互联企业)
// when UserID is "CorpId/userid". The zero value is not usable: UserID is
// required.
type Member struct {
	// UserID is the member's userid: 1 to 64 characters of
	// [A-Za-z0-9_.@-], or "CorpId/userid" for a member of a linked corp,
	// who gets no user_ticket and is unknown to user/get.
	UserID string
	// Name is given by user/get only; getuserdetail has no name [96443].
	Name string
	// Department lists the member's department ids; MainDepartment is
	// the main one, Department[0] when zero.
	Department     []int64
	MainDepartment int64
	Position       string
	// Gender is "0" (undefined), "1" (male) or "2" (female), a string as
	// in WeCom's answers; empty means "0".
	Gender string
	// Avatar is the avatar URL; empty gives the emulator's own.
	Avatar  string
	Mobile  string
	Email   string
	BizMail string // the corp mailbox
	Address string
	// OutOfRange puts the member outside the app's visible range (可见范围):
	// the code exchange still gives the userid, but no user_ticket, and
	// user/get answers 60011.
	OutOfRange bool
}

// NonMember is someone outside the corp who opened an app's link, in
// personal WeChat say: WeCom knows them by an openid of the corp's, and,
// when they are a customer of the corp (客户), by an external_userid.
type NonMember struct {
	OpenID         string // 1 to 64 characters of [A-Za-z0-9_-]
	ExternalUserID string // empty for someone who is not a customer
	Name           string // shown on the emulator's pages only; WeCom gives none
}

// WeComApp is a self-built app (自建应用) of the emulated corp besides the
// one of [Server.AgentID] and [Server.CorpSecret], for tests of two apps:
// a code built for one app and exchanged with the other's token gets
// 50001.
type WeComApp struct {
	AgentID string // required, and not the main app's
	Secret  string // required; gettoken with it gives this app's token
	// TrustedDomain is the app's trusted domain (可信域名), as
	// [Server.SetWeComTrustedDomain] sets the main app's; empty accepts
	// any host.
	TrustedDomain string
	// TrustedIPs is the app's trusted IP list (企业可信IP), as
	// [Server.SetWeComTrustedIPs] sets the main app's; empty accepts any
	// caller.
	TrustedIPs []string
	// CreatedAfter20220620 makes user/get withhold the sensitive fields
	// from this app, as [Server.SetWeComCreatedAfter20220620] does for the
	// main app.
	CreatedAfter20220620 bool
	// Forbidden lists API paths this app lacks the permission for: 48002.
	Forbidden []string
}

// wecomApp is the configuration of one app.
type wecomApp struct {
	secret     string // "" for the main app, whose secret is Server.CorpSecret
	domain     string // lower case; "" accepts any host
	ips        []netip.Prefix
	restricted bool // created after 2022-06-20
	forbidden  map[string]bool
}

// wecomState is everything WeCom the emulator keeps. s.mu guards it.
type wecomState struct {
	main    wecomApp
	apps    map[string]*wecomApp // other apps by agentid
	members map[string]Member
	guests  map[string]NonMember
	order   []string // userids and openids in the order first added
	visitor string
	codes   map[string]*wecomGrant
	tokens  map[string]*wecomToken
	current map[string]string // agentid → the token gettoken hands out
	tickets map[string]*wecomTicket

	// The JS-SDK's tickets (wecom_jssdk.go).
	corpTickets   wecomTicketKind
	agentTickets  wecomTicketKind
	ticketsPerApp int // SetWeComTicketQuota's perApp
}

// wecomGrant is a WeCom code and what it stands for.
type wecomGrant struct {
	who      string // userid or openid
	agentID  string // the app that built the link; "" when it named none
	host     string // the redirect_uri's host, for the trusted-domain check
	scope    string // snsapi_base, snsapi_privateinfo or CorpApp (Web login)
	inClient bool   // from the authorize page in the client, not a Web login
	issued   time.Time
	used     bool
}

// wecomToken is one app's access_token.
type wecomToken struct {
	agentID string
	expiry  time.Time
	stale   bool // InvalidateWeComTokens
}

// wecomTicket is a user_ticket.
type wecomTicket struct {
	userID  string
	agentID string
	expiry  time.Time
}

// initWeCom sets the corp's defaults: the main app's credentials, the
// default member, a linked-corp member and a non-member. The caller
// holds no lock; the server does not answer yet.
func (s *Server) initWeCom() {
	s.CorpID, s.AgentID, s.CorpSecret = defaultCorpID, defaultAgentID, defaultCorpSecret
	s.wecom = wecomState{
		apps:    make(map[string]*wecomApp),
		members: make(map[string]Member),
		guests:  make(map[string]NonMember),
		codes:   make(map[string]*wecomGrant),
		tokens:  make(map[string]*wecomToken),
		current: make(map[string]string),
		tickets: make(map[string]*wecomTicket),

		corpTickets:   newWeComTicketKind(),
		agentTickets:  newWeComTicketKind(),
		ticketsPerApp: wecomTicketsPerApp,
	}
	s.AddMember(Member{
		UserID:     defaultMemberID,
		Name:       "张三",
		Department: []int64{1},
		Position:   "产品经理",
		Gender:     "1",
		Mobile:     "13800000000",
		Email:      "zhangsan@example.com",
		BizMail:    "zhangsan@corp.example.com",
		Address:    "北京市海淀区",
	})
	s.AddMember(Member{UserID: defaultLinkedCorp + "/lisi", Name: "李四（互联企业）", Department: []int64{1}})
	s.AddNonMember(NonMember{OpenID: defaultGuestID, Name: "企业外访客"})
	s.wecom.visitor = defaultMemberID
}

// validUserID applies WeCom's userid rule: 1 to 64 characters of
// [A-Za-z0-9_.@-] [96255]; a linked-corp member's is "CorpId/userid".
func validUserID(id string) bool {
	parts := strings.Split(id, "/")
	if len(parts) > 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > wecomMaxID {
			return false
		}
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.@-", c) >= 0) {
				return false
			}
		}
	}
	return true
}

// AddMember registers m, replacing any member with the same UserID. It
// panics if m.UserID is not a valid userid, or is the OpenID of a
// [NonMember].
func (s *Server) AddMember(m Member) {
	if !validUserID(m.UserID) {
		panic(fmt.Sprintf("wechattest: AddMember: UserID %q must be 1 to 64 characters of [A-Za-z0-9_.@-], or CorpId/userid for a linked corp", m.UserID))
	}
	m.Department = slices.Clone(m.Department)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wecom.guests[m.UserID]; ok {
		panic(fmt.Sprintf("wechattest: AddMember: %q is a non-member's OpenID already", m.UserID))
	}
	if _, ok := s.wecom.members[m.UserID]; !ok {
		s.wecom.order = append(s.wecom.order, m.UserID)
	}
	s.wecom.members[m.UserID] = m
}

// AddNonMember registers n, replacing any non-member with the same OpenID.
// It panics if n.OpenID is not 1 to 64 characters of [A-Za-z0-9_-], or is
// a member's UserID.
func (s *Server) AddNonMember(n NonMember) {
	mustValidUser("AddNonMember", User{OpenID: n.OpenID})
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wecom.members[n.OpenID]; ok {
		panic(fmt.Sprintf("wechattest: AddNonMember: %q is a member's UserID already", n.OpenID))
	}
	if _, ok := s.wecom.guests[n.OpenID]; !ok {
		s.wecom.order = append(s.wecom.order, n.OpenID)
	}
	s.wecom.guests[n.OpenID] = n
}

// SetWeComVisitor makes the member with userid id, or the non-member with
// openid id, the one "holding the phone" in WeCom: the person
// [AutoApprove] authorizes, and whom the WeCom pages offer first. The
// default is the member "zhangsan" (张三). It panics if no such member or
// non-member was added.
func (s *Server) SetWeComVisitor(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.knownWeComLocked(id) {
		panic(fmt.Sprintf("wechattest: SetWeComVisitor: no member or non-member %q; call AddMember or AddNonMember first", id))
	}
	s.wecom.visitor = id
}

// knownWeComLocked reports whether id is a member's userid or a
// non-member's openid. The caller holds s.mu.
func (s *Server) knownWeComLocked(id string) bool {
	_, member := s.wecom.members[id]
	_, guest := s.wecom.guests[id]
	return member || guest
}

// AddWeComApp adds a second (third…) self-built app to the corp. It
// panics if app has no AgentID or Secret, or if its AgentID is the main
// app's, or a trusted IP is not an IP address or CIDR prefix.
func (s *Server) AddWeComApp(app WeComApp) {
	if app.AgentID == "" || app.Secret == "" {
		panic("wechattest: AddWeComApp: AgentID and Secret are required")
	}
	if app.AgentID == s.AgentID {
		panic(fmt.Sprintf("wechattest: AddWeComApp: agentid %s is the main app's (Server.AgentID)", app.AgentID))
	}
	a := &wecomApp{
		secret:     app.Secret,
		domain:     mustTrustedDomain("AddWeComApp", app.TrustedDomain),
		ips:        mustPrefixes("AddWeComApp", app.TrustedIPs),
		restricted: app.CreatedAfter20220620,
		forbidden:  pathSet(app.Forbidden),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.apps[app.AgentID] = a
}

// SetWeComTrustedDomain sets the main app's trusted domain (可信域名, and
// the Web login's callback domain): the authorize page sends a
// redirect_uri on another host to WeCom's "redirect_uri需使用应用可信域名"
// page (/wwopen/uriconfirm), the Web login pages show an error, and a code
// whose link named no agentid is refused to this app's token with 50001.
// The match is on the whole host and its port, as WeCom's is [98173]:
// "app.example.com" matches neither "www.app.example.com" nor
// "app.example.com:8080", and an explicit default port (:80 on http,
// :443 on https) counts as none. The default, "", accepts any host. It
// panics if host holds a scheme or a path.
func (s *Server) SetWeComTrustedDomain(host string) {
	d := mustTrustedDomain("SetWeComTrustedDomain", host)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.main.domain = d
}

// SetWeComTrustedIPs sets the main app's trusted IP list (企业可信IP):
// every API call with the app's token from an address outside it gets
// 60020, "not allow to access from your ip, …, from ip: A.B.C.D, …", the
// address being the caller's as the emulator saw it (the TCP peer;
// X-Forwarded-For is ignored). gettoken is exempt, as in WeCom. An entry
// is an IP address ("203.0.113.7", "::1") or a CIDR prefix
// ("10.0.0.0/8"). None, the default, accepts every caller. It panics on
// an entry that is neither.
func (s *Server) SetWeComTrustedIPs(ips ...string) {
	p := mustPrefixes("SetWeComTrustedIPs", ips)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.main.ips = p
}

// SetWeComCreatedAfter20220620 marks the main app as created after
// 2022-06-20 20:00: user/get then gives it empty avatar, thumb_avatar,
// mobile, email, biz_mail, qr_code and address, and gender "0", as WeCom
// does for such apps [96255]; only getuserdetail, after the member's
// consent (snsapi_privateinfo), gives them. The default is an older app.
func (s *Server) SetWeComCreatedAfter20220620(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.main.restricted = on
}

// SetWeComForbidden makes the main app lack the permission for the API
// paths given, such as "/cgi-bin/user/get": calls with its token get
// 48002 "api forbidden". "/cgi-bin/gettoken" may be listed too: users
// have seen 48002 there. SetWeComForbidden() clears the list.
func (s *Server) SetWeComForbidden(paths ...string) {
	set := pathSet(paths)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wecom.main.forbidden = set
}

// InvalidateWeComTokens ends every WeCom access_token issued so far before
// its time, as WeCom may [91039]: the next API call with one gets 40014
// "invalid access_token", and gettoken hands out a new token. A token
// that reaches its 7200 s on the emulator's clock gets 42001 instead.
func (s *Server) InvalidateWeComTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.wecom.tokens {
		t.stale = true
	}
	clear(s.wecom.current)
}

// IssueWeComCode returns a fresh code of the main app (Server.AgentID),
// as if id (a member's userid or a non-member's openid; empty means the
// WeCom visitor) had gone through a login: scope "snsapi_base" or
// "snsapi_privateinfo" for the authorize page inside WeCom, "CorpApp" for
// the Web login (a code that never gives a user_ticket). It is for tests
// that call a callback directly. It panics on an unknown id or scope.
func (s *Server) IssueWeComCode(id, scope string) string {
	if scope != wecomScopeBase && scope != wecomScopePrivate && scope != wecomScopeWeb {
		panic(fmt.Sprintf("wechattest: IssueWeComCode: scope %q must be %q, %q or %q", scope, wecomScopeBase, wecomScopePrivate, wecomScopeWeb))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = s.wecom.visitor
	}
	if !s.knownWeComLocked(id) {
		panic(fmt.Sprintf("wechattest: IssueWeComCode: no member or non-member %q; call AddMember or AddNonMember first", id))
	}
	return s.mintWeComCodeLocked(id, s.AgentID, "", scope, scope != wecomScopeWeb)
}

// mintWeComCodeLocked records a new code. The caller holds s.mu.
func (s *Server) mintWeComCodeLocked(who, agentID, host, scope string, inClient bool) string {
	code := uniqueToken(wecomCodeLen, func(c string) bool { _, ok := s.wecom.codes[c]; return ok })
	s.wecom.codes[code] = &wecomGrant{who: who, agentID: agentID, host: host, scope: scope, inClient: inClient, issued: s.nowLocked()}
	return code
}

// appLocked finds the app of agentID: the main one or one of AddWeComApp.
// The caller holds s.mu.
func (s *Server) appLocked(agentID string) (*wecomApp, bool) {
	if agentID == s.AgentID {
		return &s.wecom.main, true
	}
	a, ok := s.wecom.apps[agentID]
	return a, ok
}

// mustTrustedDomain checks a trusted domain setting and lowers its case.
func mustTrustedDomain(method, host string) string {
	if strings.ContainsAny(host, "/?#@ ") {
		panic(fmt.Sprintf("wechattest: %s: %q must be a host such as \"app.example.com\" or \"app.example.com:8443\", without scheme or path", method, host))
	}
	return strings.ToLower(host)
}

// mustPrefixes parses a trusted IP list.
func mustPrefixes(method string, ips []string) []netip.Prefix {
	var out []netip.Prefix
	for _, ip := range ips {
		if p, err := netip.ParsePrefix(ip); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			panic(fmt.Sprintf("wechattest: %s: %q is neither an IP address nor a CIDR prefix", method, ip))
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// pathSet is paths as a set; nil when empty.
func pathSet(paths []string) map[string]bool {
	if len(paths) == 0 {
		return nil
	}
	set := make(map[string]bool, len(paths))
	for _, p := range paths {
		set[p] = true
	}
	return set
}

// redirectHost is the host and port of u as a trusted domain names
// them: lower case, an explicit default port (:80 on http, :443 on https)
// dropped.
func redirectHost(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch u.Scheme {
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	}
	return host
}

// trustedHost reports whether host, from redirectHost, is on the trusted
// domain domain: the same host and port. An empty domain trusts all.
func trustedHost(domain, host string) bool {
	return domain == "" || host == domain
}

// wecomDerived derives a stable identifier of kind for id, for fields the
// emulator makes up (DeviceId, the QR code's vcode).
func wecomDerived(kind, id string) string {
	sum := sha256.Sum256([]byte("wechattest wecom " + kind + " " + id))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:24]
}

// WeComEndpoints returns the emulator's WeCom endpoints, in the place of
// open.weixin.qq.com, login.work.weixin.qq.com and qyapi.weixin.qq.com:
// [work.EndpointsAt] of s.URL, which gives them for an emulator in another
// process too. The old QR login page is at s.URL + "/wwopen/sso/qrConnect".
func (s *Server) WeComEndpoints() work.Endpoints {
	return work.EndpointsAt(s.URL)
}
