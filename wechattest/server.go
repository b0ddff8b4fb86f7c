package wechattest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/mp"
)

// Paths the emulator serves, as [Server.Calls] and [Server.FailNext] name them.
const (
	pathAuthorize = "/connect/oauth2/authorize"
	pathConfirm   = "/connect/oauth2/authorize/confirm"
	pathRelay     = "/connect/oauth2/authorize/relay"
	pathToken     = "/sns/oauth2/access_token"
	pathRefresh   = "/sns/oauth2/refresh_token"
	pathUserInfo  = "/sns/userinfo"
	pathAuth      = "/sns/auth"
	pathAvatar    = "/mmopen/"

	pathQRConnect = "/connect/qrconnect"
	pathQRConfirm = "/connect/qrconnect/confirm"

	pathGlobalToken = "/cgi-bin/token"
	pathStableToken = "/cgi-bin/stable_token"
	pathMenuCreate  = "/cgi-bin/menu/create"

	pathTicket   = "/cgi-bin/ticket/getticket"
	pathJWeixin  = "/open/js/jweixin-1.6.0.js"
	pathJSVerify = "/open/js/verify"
)

// Lifetimes WeChat documents for web authorization.
const (
	codeTTL    = 5 * time.Minute
	webCodeTTL = 10 * time.Minute // codes of website QR login
	accessTTL  = 7200 * time.Second
	refreshTTL = 30 * 24 * time.Hour
)

// Defaults of a new Server.
const (
	defaultAppID     = "wx0000000000000001"
	defaultAppSecret = "emulator-secret-0000000000000000"
	defaultWebAppID  = "wx0000000000000002"
	defaultWebSecret = "emulator-website-secret-00000000"
	defaultOpenID    = "oTestUser0000000000000000001"
	defaultNickname  = "测试用户"
)

// Server is a WeChat emulator on one listener: the authorization and QR
// login pages, the /sns API of web authorization, the cgi-bin API of the
// account (access_token, stable_token, menu, and the JS-SDK's
// ticket/getticket), with WeChat's daily quotas where a test needs them
// ([Server.SetTokenQuota], [Server.SetTicketQuota]), and a stand-in for
// the JS-SDK script, jweixin, that checks wx.config signatures in a
// browser. Create it with [NewServer] (loopback, started) or
// [NewUnstartedServer] (an address of your choice), point an
// [mp.Client] or a [github.com/wechatauth/wechatauth.Options] at
// [Server.Endpoints] and [Server.Client] (or, from another process, at
// [EndpointsFor] its URL), and stop it with [Server.Close]. Its methods
// are safe for concurrent use.
type Server struct {
	// URL is the base URL of the emulator, such as "http://127.0.0.1:PORT", without a
	// trailing slash.
	URL string
	// AppID is the only appid the emulator accepts. Default "wx0000000000000001".
	// Change it, if at all, before the first request.
	AppID string
	// AppSecret is the secret the token exchange requires. Default
	// "emulator-secret-0000000000000000". The emulator never writes it into a
	// reply. Change it, if at all, before the first request.
	AppSecret string
	// WebsiteAppID is the appid of the one Open Platform website app the
	// emulator hosts, for website QR login (/connect/qrconnect, scope
	// snsapi_login). Default "wx0000000000000002". Change it, if at all,
	// before the first request.
	WebsiteAppID string
	// WebsiteAppSecret is the website app's secret, which its code exchange
	// requires. Default "emulator-website-secret-00000000". Change it, if at
	// all, before the first request.
	WebsiteAppSecret string

	// CorpID is the emulated WeCom corp's CorpID (企业ID). An authorize
	// link whose appid is the CorpID is WeCom's; any other stays the
	// Official Account's. Default "ww0000000000000001". Change it, if at
	// all, before the first request.
	CorpID string
	// AgentID is the AgentID of the corp's main self-built app. Default
	// "1000002". Change it, if at all, before the first request;
	// [Server.AddWeComApp] adds more apps.
	AgentID string
	// CorpSecret is the main app's secret, which gettoken requires.
	// Default "emulator-corpsecret-0000000000000". The emulator never
	// writes it into a reply or a log. Change it, if at all, before the
	// first request.
	CorpSecret string

	// ComponentAppID is the emulated third-party platform's component
	// appid. Default "wx00000000000000c1". ComponentSecret is its
	// appsecret, ComponentToken its message-check Token and
	// ComponentAESKey its 43-character EncodingAESKey, which the pushes
	// of [Server.PushVerifyTicket] are signed and encrypted with. Change
	// them, if at all, before the first request.
	ComponentAppID  string
	ComponentSecret string // default "emulator-component-secret-000000"
	ComponentToken  string // default "emulatortoken"
	ComponentAESKey string // default "emulatorComponentAESKey00000000000000000000"

	ts    *httptest.Server
	pages *template.Template
	done  chan struct{} // closed by Close: ends latency waits
	once  sync.Once

	mu      sync.Mutex
	offset  time.Duration // added to the wall clock by Advance
	users   map[string]User
	order   []string // OpenIDs in the order they were first added
	visitor string
	mode    Mode
	codes   map[string]*grant
	access  map[string]*accessToken
	refresh map[string]*session
	calls   map[string]int
	faults  map[string][]fault
	latency time.Duration
	domain  string          // SetCallbackDomain; "" accepts any host
	scopes  map[string]bool // SetScopes
	retry   time.Duration   // SetCallbackRetry; 0 is off
	logger  *slog.Logger    // SetLogger; nil logs nothing

	// The account's global access_token (accesstoken.go) and menu (menu.go).
	globals     map[string]*globalToken
	plainToken  string // the newest token of /cgi-bin/token
	stableToken string // the current token of /cgi-bin/stable_token
	tokenQuota  quota  // SetTokenQuota: /cgi-bin/token fetches a day
	forced      quota  // stable_token's force_refresh renewals a day
	lastForce   time.Time
	menu        []byte // the last menu created, as received

	// The JS-SDK's jsapi_tickets (jssdk.go).
	tickets     ticketChain
	ticketQuota quota // SetTicketQuota: getticket answers a day

	// WeCom: the corp, its apps, people, codes and tokens (wecom.go).
	wecom wecomState

	// The Open Platform third-party platform (component.go).
	component componentState
}

// fault is one queued failure of [Server.FailNext] or [Server.DropNext].
type fault struct {
	errcode int
	drop    bool
}

// User is a WeChat user the emulator knows. The zero value is not usable:
// OpenID is required.
type User struct {
	OpenID     string // the user's openid for the emulated account; [A-Za-z0-9_-]
	UnionID    string // empty means the account is not bound to an Open Platform account
	Nickname   string
	HeadImgURL string // avatar URL, given as is by /sns/userinfo
	// Snapshot marks a snapshot-page (快照页) user: snsapi_userinfo
	// authorizations give token replies with is_snapshotuser=1 and a virtual
	// openid and unionid. snsapi_base is unaffected, as in WeChat.
	Snapshot bool
}

// Mode is how the emulated authorization page answers a browser.
type Mode int

const (
	// AutoApprove redirects at once with a code for the visitor, as WeChat
	// does for a follower or a snsapi_base request. It is the default.
	AutoApprove Mode = iota
	// ConsentPage shows an HTML page where a person picks the user and allows
	// or refuses, as a desktop browser running the example app needs. For
	// snsapi_userinfo it also offers to open the app as a snapshot-page user.
	// snsapi_base passes silently once the browser has picked a user.
	ConsentPage
	// Refuse redirects at once with state and no code, as when the user
	// refuses consent.
	Refuse
)

// grant is an authorization code and what it stands for. A code of scope
// snsapi_login belongs to the website app, every other one to the
// Official Account.
type grant struct {
	user     string // the real OpenID
	scope    string
	snapshot bool
	issued   time.Time
	used     bool
	// authorizer is, for a code of component mode, the appid of the
	// authorizer it was issued for; "" for the Official Account's own.
	authorizer string
}

// session is one authorization as the token endpoints see it: the refresh
// token and the access tokens minted from it share it. Scope snsapi_login
// marks a session of the website app.
type session struct {
	user          string // the real OpenID
	scope         string
	snapshot      bool
	refreshToken  string
	refreshExpiry time.Time
	authorizer    string // component mode: the authorizer's appid
}

// accessToken is a web-authorization access token.
type accessToken struct {
	sess   *session
	expiry time.Time
}

// NewServer starts an emulator on a loopback port and returns it ready for
// requests. It knows one user, OpenID "oTestUser0000000000000000001" and
// nickname "测试用户", who is the visitor; the mode is [AutoApprove]. Call
// [Server.Close] when done.
func NewServer() *Server {
	s, err := NewUnstartedServer("127.0.0.1:0")
	if err != nil {
		if s, err = NewUnstartedServer("[::1]:0"); err != nil {
			panic("wechattest: NewServer: listening on a loopback port: " + err.Error())
		}
	}
	s.Start()
	return s
}

// NewUnstartedServer listens on addr, such as "127.0.0.1:9000", and returns an
// emulator that does not answer yet, so that AppID, AppSecret, users and modes
// can be set before the first request; call [Server.Start] next, and
// [Server.Close] when done. URL is set already. On an unspecified address such
// as ":9000" the emulator answers on every interface and URL names 127.0.0.1.
// The defaults are those of [NewServer].
func NewUnstartedServer(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("wechattest: listening on %s: %w", addr, err)
	}
	s := &Server{
		AppID:            defaultAppID,
		AppSecret:        defaultAppSecret,
		WebsiteAppID:     defaultWebAppID,
		WebsiteAppSecret: defaultWebSecret,
		done:             make(chan struct{}),
		users:            make(map[string]User),
		codes:            make(map[string]*grant),
		access:           make(map[string]*accessToken),
		refresh:          make(map[string]*session),
		calls:            make(map[string]int),
		faults:           make(map[string][]fault),
		scopes:           map[string]bool{scopeBase: true, scopeUserInfo: true},
		pages:            template.Must(template.New("pages").Parse(pageTemplates + qrTemplates + wecomTemplates)),
		globals:          make(map[string]*globalToken),
		tokenQuota:       quota{limit: defaultTokenQuota},
		forced:           quota{limit: forcePerDay},
		ticketQuota:      quota{limit: noLimit},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathAuthorize, s.handleAuthorize)
	mux.HandleFunc("POST "+pathConfirm, s.handleConfirm)
	mux.HandleFunc("GET "+pathRelay, s.handleRelay)
	mux.HandleFunc("GET "+pathToken, s.handleToken)
	mux.HandleFunc("GET "+pathRefresh, s.handleRefresh)
	mux.HandleFunc("GET "+pathUserInfo, s.handleUserInfo)
	mux.HandleFunc("GET "+pathAuth, s.handleAuth)
	mux.HandleFunc("GET "+pathAvatar, s.handleAvatar)
	mux.HandleFunc("GET "+pathQRConnect, s.handleQRConnect)
	mux.HandleFunc("POST "+pathQRConfirm, s.handleQRConfirm)
	mux.HandleFunc("GET "+pathGlobalToken, s.handleGlobalToken)
	// Any method: the handlers answer a GET with WeChat's 43002.
	mux.HandleFunc(pathStableToken, s.handleStableToken)
	mux.HandleFunc(pathMenuCreate, s.handleMenuCreate)
	mux.HandleFunc("GET "+pathMenuGet, s.handleMenuGet)
	mux.HandleFunc("POST "+pathAdvance, s.handleAdvance)
	mux.HandleFunc("GET "+pathTicket, s.handleTicket)
	mux.HandleFunc("GET "+pathJWeixin, s.handleJWeixin)
	mux.HandleFunc(pathJSVerify, s.handleJSVerify)
	s.routeWeCom(mux)
	s.routeComponent(mux)
	s.ts = &httptest.Server{
		Listener: ln,
		Config:   &http.Server{Handler: s.logRequests(s.front(mux)), ReadHeaderTimeout: 10 * time.Second},
	}
	s.URL = "http://" + publicAddr(ln.Addr())
	s.AddUser(User{
		OpenID:     defaultOpenID,
		Nickname:   defaultNickname,
		HeadImgURL: s.URL + pathAvatar + "wechattest/default/132",
	})
	s.SetVisitor(defaultOpenID)
	s.initWeCom()
	s.initComponent()
	return s, nil
}

// Start starts answering requests on a server from [NewUnstartedServer]. It
// panics if the server was started already.
func (s *Server) Start() {
	s.ts.Start()
}

// publicAddr is addr as a browser can reach it: an unspecified IP becomes
// 127.0.0.1.
func publicAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// Close shuts the emulator down and waits for requests in progress, cutting
// short any [Server.SetLatency] wait.
func (s *Server) Close() {
	s.once.Do(func() { close(s.done) })
	s.ts.Close()
}

// Client returns an HTTP client that talks to the emulator, like
// [httptest.Server.Client]. It follows redirects. It is nil before
// [Server.Start].
func (s *Server) Client() *http.Client {
	return s.ts.Client()
}

// Endpoints returns the emulator's endpoints for wechatauth: its
// authorization page, its website QR login page, its API and its stand-in
// for the JS-SDK script. It is [EndpointsFor] of s.URL.
func (s *Server) Endpoints() mp.Endpoints {
	return EndpointsFor(s.URL)
}

// EndpointsFor returns the endpoints of an emulator whose base URL is baseURL,
// such as "http://127.0.0.1:9000" where cmd/wechatemu runs, for an app in
// another process: the authorization page, the website QR login page, the API
// and the stand-in for the JS-SDK script, as [Server.Endpoints] gives them for
// a [Server] of this process. A trailing slash on baseURL is ignored.
func EndpointsFor(baseURL string) mp.Endpoints {
	base := strings.TrimRight(baseURL, "/")
	return mp.Endpoints{Authorize: base + pathAuthorize, QRConnect: base + pathQRConnect, API: base, JSSDK: base + pathJWeixin}
}

// AddUser registers u, replacing any user with the same OpenID. It panics if
// u.OpenID is not 1 to 64 characters of [A-Za-z0-9_-].
func (s *Server) AddUser(u User) {
	mustValidUser("AddUser", u)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u)
}

// SetUsers replaces every user the emulator knows, the built-in one included,
// with users, and makes the first of them the visitor. A later user with the
// OpenID of an earlier one replaces it, as in [Server.AddUser]. Call it before
// the first request: codes and tokens issued already would name users that are
// gone. It panics if users is empty or an OpenID is not 1 to 64 characters of
// [A-Za-z0-9_-].
func (s *Server) SetUsers(users ...User) {
	if len(users) == 0 {
		panic("wechattest: SetUsers: no users; the emulator needs at least one, the visitor")
	}
	for _, u := range users {
		mustValidUser("SetUsers", u)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.order = make(map[string]User, len(users)), nil
	for _, u := range users {
		s.addUserLocked(u)
	}
	s.visitor = users[0].OpenID
}

// mustValidUser panics, naming the method, if u's OpenID is not valid.
func mustValidUser(method string, u User) {
	if !wxspec.Valid(u.OpenID, wxspec.MaxOpenID) {
		panic(fmt.Sprintf("wechattest: %s: OpenID %q must be 1 to 64 characters of [A-Za-z0-9_-]", method, u.OpenID))
	}
}

// addUserLocked registers u. The caller holds s.mu.
func (s *Server) addUserLocked(u User) {
	if _, ok := s.users[u.OpenID]; !ok {
		s.order = append(s.order, u.OpenID)
	}
	s.users[u.OpenID] = u
}

// SetVisitor makes the user with openID the one "holding the phone": the user
// [AutoApprove] authorizes and the consent page offers first. It panics if no
// such user was added.
func (s *Server) SetVisitor(openID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[openID]; !ok {
		panic(fmt.Sprintf("wechattest: SetVisitor: no user with OpenID %q; call AddUser first", openID))
	}
	s.visitor = openID
}

// SetMode sets how the authorization page answers from now on.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// IssueCode returns a fresh code, as if the user with openID had approved an
// authorization with scope ("snsapi_base" or "snsapi_userinfo"), for tests
// that call a callback directly. Scope "snsapi_login" gives a code of the
// website app, as if the user had scanned its QR login. An empty openID
// means the visitor. It panics on an unknown user or scope.
func (s *Server) IssueCode(openID, scope string) string {
	if scope != scopeBase && scope != scopeUserInfo && scope != scopeLogin {
		panic(fmt.Sprintf("wechattest: IssueCode: scope %q must be %q, %q or %q", scope, scopeBase, scopeUserInfo, scopeLogin))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if openID == "" {
		openID = s.visitor
	}
	if _, ok := s.users[openID]; !ok {
		panic(fmt.Sprintf("wechattest: IssueCode: no user with OpenID %q; call AddUser first", openID))
	}
	return s.mintCodeLocked(openID, scope, false)
}

// Calls reports how many requests the emulator has received on path, such as
// "/sns/oauth2/access_token", "/cgi-bin/token" or "/connect/qrconnect",
// whatever their outcome.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Advance moves the emulator's clock forward by d, so codes and tokens expire,
// replaced global access tokens stop working and daily quotas start anew
// without the test sleeping.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// FailNext makes the next request on path answer errcode: on the /sns and
// /cgi-bin API the JSON {"errcode":N,"errmsg":"…"} with HTTP 200, as WeChat
// does; on the authorization and QR login pages their error page. Each call
// queues one failure for one request; FailNext and [Server.DropNext] share
// the queue of a path. A queued -1 on "/sns/oauth2/access_token" still
// spends the request's code, so a retry with it gets 40163, as in WeChat.
func (s *Server) FailNext(path string, errcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], fault{errcode: errcode})
}

// DropNext makes the next request on path lose its answer: the emulator acts
// on the request as usual (a code in it is spent, a token minted) and then
// closes the connection without writing a byte, as when the network fails
// between WeChat and the client. Each call queues one drop for one request,
// in the queue [Server.FailNext] uses.
//
// Go's http.Transport resends a GET once, silently, when a reused keep-alive
// connection closes without an answer; a client that should see the failure
// needs keep-alives off, or two drops queued.
func (s *Server) DropNext(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], fault{drop: true})
}

// SetLatency makes every /sns and /cgi-bin API answer wait d first. A wait
// ends early when the request's context ends or the server closes. Zero
// turns it off.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetCallbackDomain makes the authorization page accept only a redirect_uri
// on host, as the web authorization domain (网页授权域名) in an account's
// settings does: a full-host match, so "www.example.com" does not cover
// "pay.example.com" or "example.com"; others get WeChat's 10003 page. A host
// without a port accepts any port, "127.0.0.1:8080" only that one. The
// default, "", accepts any host. It panics if host holds a scheme or a path,
// which the settings page refuses too.
func (s *Server) SetCallbackDomain(host string) {
	if strings.ContainsAny(host, "/?#@ ") {
		panic(fmt.Sprintf("wechattest: SetCallbackDomain: %q must be a host such as \"www.example.com\", without scheme or path", host))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.domain = strings.ToLower(host)
}

// SetScopes sets the scopes the emulated account may ask for; the authorization
// page answers others with WeChat's 10005 page. The default is both,
// "snsapi_base" and "snsapi_userinfo"; SetScopes("snsapi_base") makes an
// account without the user-info permission, and SetScopes() one without web
// authorization at all. [Server.IssueCode] ignores it. It panics on another
// scope.
func (s *Server) SetScopes(scopes ...string) {
	allowed := make(map[string]bool, len(scopes))
	for _, sc := range scopes {
		if sc != scopeBase && sc != scopeUserInfo {
			panic(fmt.Sprintf("wechattest: SetScopes: scope %q must be %q or %q", sc, scopeBase, scopeUserInfo))
		}
		allowed[sc] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = allowed
}

// SetCallbackRetry makes every return to the app, with a code or a refusal,
// go through a relay page that delivers the callback again when the app has
// not answered within after, as the WeChat client repeats a slow callback
// (after about five seconds in WeChat). The browser's own cookies go with
// both deliveries, and both carry the same code and state; the first one's
// answer is never shown. The relay page is the emulator's, so a browser
// needs JavaScript for it; a client without, such as a Go test's, stops on
// it and finds the callback URL in its link with id "callback". Zero, the
// default, turns it off: the authorization page redirects to the app itself.
func (s *Server) SetCallbackRetry(after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retry = max(after, 0)
}

// front counts requests, applies latency and queued failures, then hands the
// request to the routes.
func (s *Server) front(routes http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		api := isAPI(path)
		s.mu.Lock()
		s.calls[path]++
		latency := s.latency
		s.mu.Unlock()

		if api && latency > 0 {
			select {
			case <-time.After(latency):
			case <-r.Context().Done():
				return // the client has gone: nobody reads an answer
			case <-s.done:
				return
			}
		}

		s.mu.Lock()
		f, faulty := fault{}, false
		if q := s.faults[path]; len(q) > 0 {
			f, faulty = q[0], true
			if len(q) == 1 {
				delete(s.faults, path)
			} else {
				s.faults[path] = q[1:]
			}
			if (path == pathToken || path == pathComponentOAuthToken) && !f.drop && f.errcode == -1 {
				// WeChat spends the code even when it answers "system error".
				if g, ok := s.codes[r.URL.Query().Get("code")]; ok {
					g.used = true
				}
			}
		}
		s.mu.Unlock()

		switch {
		case !faulty:
			routes.ServeHTTP(w, r)
		case f.drop:
			routes.ServeHTTP(httptest.NewRecorder(), r)
			dropConnection(w)
		case isWeComAPI(path):
			s.writeWeComError(w, r, f.errcode)
		case api:
			writeError(w, r, f.errcode)
		default:
			s.errorPage(w, f.errcode, "", "")
		}
	})
}

// dropConnection closes the connection of w without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// nowLocked is the emulator's clock. The caller holds s.mu.
func (s *Server) nowLocked() time.Time {
	return time.Now().Add(s.offset)
}

// mintCodeLocked records a new code. The caller holds s.mu and has checked
// that user exists.
func (s *Server) mintCodeLocked(user, scope string, forceSnapshot bool) string {
	snapshot := scope == scopeUserInfo && (forceSnapshot || s.users[user].Snapshot)
	code := uniqueToken(24, func(c string) bool { _, ok := s.codes[c]; return ok })
	s.codes[code] = &grant{user: user, scope: scope, snapshot: snapshot, issued: s.nowLocked()}
	return code
}

// randomToken returns n random bytes as URL-safe text ([A-Za-z0-9_-]).
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("wechattest: crypto/rand: " + err.Error()) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// uniqueToken returns a random token of n bytes for which taken is false.
func uniqueToken(n int, taken func(string) bool) string {
	for {
		if t := randomToken(n); !taken(t) {
			return t
		}
	}
}

// requestID mimics the "rid" WeChat appends to every errmsg.
func requestID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic("wechattest: crypto/rand: " + err.Error())
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:16] + "-" + h[16:]
}

// virtualID derives the stand-in identifier a snapshot-page user is shown
// under: stable for one user and kind, and never the real one.
func virtualID(kind, real string) string {
	sum := sha256.Sum256([]byte("wechattest snapshot " + kind + " " + real))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}
