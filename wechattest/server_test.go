package wechattest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathAuthorize = "/connect/oauth2/authorize"
	pathConfirm   = "/connect/oauth2/authorize/confirm"
	pathToken     = "/sns/oauth2/access_token"
	pathRefresh   = "/sns/oauth2/refresh_token"
	pathUserInfo  = "/sns/userinfo"
	pathAuth      = "/sns/auth"

	defaultOpenID = "oTestUser0000000000000000001"
	callback      = "https://app.example/wechat/callback"
)

// reply holds every field the /sns endpoints answer with. Typed fields make
// decoding fail if a number or array comes back as a string.
type reply struct {
	ErrCode        int      `json:"errcode"`
	ErrMsg         string   `json:"errmsg"`
	AccessToken    string   `json:"access_token"`
	ExpiresIn      int      `json:"expires_in"`
	RefreshToken   string   `json:"refresh_token"`
	OpenID         string   `json:"openid"`
	Scope          string   `json:"scope"`
	IsSnapshotUser int      `json:"is_snapshotuser"`
	UnionID        string   `json:"unionid"`
	Nickname       string   `json:"nickname"`
	Sex            int      `json:"sex"`
	Province       *string  `json:"province"`
	HeadImgURL     string   `json:"headimgurl"`
	Privilege      []string `json:"privilege"`
	Ticket         string   `json:"ticket"`

	body        string
	contentType string
}

func newServer(t *testing.T) *wechattest.Server {
	t.Helper()
	s := wechattest.NewServer()
	t.Cleanup(s.Close)
	return s
}

// query encodes key, value pairs in the order given.
func query(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return strings.Join(parts, "&")
}

// call GETs an API path with the pairs as its query and decodes the reply.
func call(t *testing.T, s *wechattest.Server, path string, pairs ...string) reply {
	t.Helper()
	resp, err := s.Client().Get(s.URL + path + "?" + query(pairs...))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: got HTTP %d, want 200", path, resp.StatusCode)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: decoding %q: %v", path, body, err)
	}
	r.body, r.contentType = string(body), resp.Header.Get("Content-Type")
	return r
}

func exchange(t *testing.T, s *wechattest.Server, code string) reply {
	t.Helper()
	return call(t, s, pathToken, "appid", s.AppID, "secret", s.AppSecret, "code", code, "grant_type", "authorization_code")
}

func refresh(t *testing.T, s *wechattest.Server, token string) reply {
	t.Helper()
	return call(t, s, pathRefresh, "appid", s.AppID, "grant_type", "refresh_token", "refresh_token", token)
}

func userInfo(t *testing.T, s *wechattest.Server, token, openID string) reply {
	t.Helper()
	return call(t, s, pathUserInfo, "access_token", token, "openid", openID, "lang", "zh_CN")
}

func wantErrcode(t *testing.T, r reply, want int) {
	t.Helper()
	if r.ErrCode != want {
		t.Fatalf("errcode: got %d, want %d (body %q)", r.ErrCode, want, r.body)
	}
	if want != 0 && !strings.Contains(r.ErrMsg, "rid: ") {
		t.Errorf("errmsg: got %q, want a text ending in a rid", r.ErrMsg)
	}
}

// login exchanges a fresh code and fails the test on an error.
func login(t *testing.T, s *wechattest.Server, openID, scope string) reply {
	t.Helper()
	r := exchange(t, s, s.IssueCode(openID, scope))
	wantErrcode(t, r, 0)
	return r
}

// noRedirect returns a client for the emulator that stops at redirects.
func noRedirect(s *wechattest.Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// page is a response of the authorization page.
type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func doPage(t *testing.T, c *http.Client, req *http.Request) page {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading page: %v", err)
	}
	return page{resp.StatusCode, resp.Header.Get("Location"), string(body), resp.Header}
}

func authorize(t *testing.T, s *wechattest.Server, c *http.Client, rawQuery string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+pathAuthorize+"?"+rawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doPage(t, c, req)
}

func confirm(t *testing.T, s *wechattest.Server, c *http.Client, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+pathConfirm, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doPage(t, c, req)
}

func authQuery(s *wechattest.Server, scope, state string, extra ...string) string {
	return query(append([]string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", scope, "state", state}, extra...)...)
}

// redirectParams checks that loc goes to want and returns its query.
func redirectParams(t *testing.T, loc, want string) url.Values {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	q := u.Query()
	u.RawQuery = ""
	if got := u.String(); got != want {
		t.Fatalf("redirect target: got %q, want %q", got, want)
	}
	return q
}

func isURLSafe(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

func TestDefaults(t *testing.T) {
	s := newServer(t)
	if !strings.HasPrefix(s.AppID, "wx") {
		t.Errorf("AppID: got %q, want a wx… appid", s.AppID)
	}
	if s.AppSecret == "" {
		t.Errorf("AppSecret: got %q, want a value", s.AppSecret)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL: got %q, want a loopback URL", s.URL)
	}
	e := s.Endpoints()
	if want := s.URL + pathAuthorize; e.Authorize != want {
		t.Errorf("Endpoints().Authorize: got %q, want %q", e.Authorize, want)
	}
	if e.API != s.URL {
		t.Errorf("Endpoints().API: got %q, want %q", e.API, s.URL)
	}
	tok := login(t, s, "", "snsapi_userinfo")
	if tok.OpenID != defaultOpenID || len(tok.OpenID) != 28 {
		t.Errorf("visitor openid: got %q, want %q", tok.OpenID, defaultOpenID)
	}
	info := userInfo(t, s, tok.AccessToken, tok.OpenID)
	if info.Nickname != "测试用户" {
		t.Errorf("nickname: got %q, want %q", info.Nickname, "测试用户")
	}
	if info.UnionID != "" {
		t.Errorf("unionid: got %q, want none", info.UnionID)
	}
	if !strings.HasPrefix(info.HeadImgURL, s.URL+"/") {
		t.Errorf("headimgurl: got %q, want one under %q", info.HeadImgURL, s.URL)
	}
	resp, err := s.Client().Get(info.HeadImgURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get("Content-Type"), "image/svg+xml"; resp.StatusCode != http.StatusOK || got != want {
		t.Errorf("avatar: got HTTP %d %q, want 200 %q", resp.StatusCode, got, want)
	}
}

func TestExchangeErrors(t *testing.T) {
	tests := []struct {
		name  string
		pairs func(s *wechattest.Server, code string) []string
		want  int
	}{
		{"ok", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret, "code", code, "grant_type", "authorization_code"}
		}, 0},
		{"unknown appid", func(s *wechattest.Server, code string) []string {
			return []string{"appid", "wx9999999999999999", "secret", s.AppSecret, "code", code, "grant_type", "authorization_code"}
		}, 40013},
		{"missing appid", func(s *wechattest.Server, code string) []string {
			return []string{"secret", s.AppSecret, "code", code, "grant_type", "authorization_code"}
		}, 41002},
		{"wrong secret", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", "not-the-secret", "code", code, "grant_type", "authorization_code"}
		}, 40125},
		{"missing secret", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "code", code, "grant_type", "authorization_code"}
		}, 41004},
		{"wrong grant_type", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret, "code", code, "grant_type", "client_credential"}
		}, 40002},
		{"missing grant_type", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret, "code", code}
		}, 40002},
		{"missing code", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret, "grant_type", "authorization_code"}
		}, 41008},
		{"unknown code", func(s *wechattest.Server, code string) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret, "code", "0" + code, "grant_type", "authorization_code"}
		}, 40029},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			code := s.IssueCode("", "snsapi_base")
			r := call(t, s, pathToken, tt.pairs(s, code)...)
			wantErrcode(t, r, tt.want)
			if got, want := r.contentType, "text/plain"; got != want {
				t.Errorf("Content-Type: got %q, want %q", got, want)
			}
			for _, secret := range []string{s.AppSecret, code, "not-the-secret"} {
				if strings.Contains(r.ErrMsg, secret) {
					t.Errorf("errmsg %q echoes %q", r.ErrMsg, secret)
				}
			}
		})
	}
}

func TestExchange(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oBound", UnionID: "oUnion1", Nickname: "Bound"})
	tests := []struct {
		openID, scope, wantUnionID string
	}{
		{defaultOpenID, "snsapi_base", ""},
		{defaultOpenID, "snsapi_userinfo", ""},
		{"oBound", "snsapi_base", ""},
		{"oBound", "snsapi_userinfo", "oUnion1"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.openID+"/"+tt.scope, func(t *testing.T) {
			r := login(t, s, tt.openID, tt.scope)
			if r.OpenID != tt.openID {
				t.Errorf("openid: got %q, want %q", r.OpenID, tt.openID)
			}
			if r.Scope != tt.scope {
				t.Errorf("scope: got %q, want %q", r.Scope, tt.scope)
			}
			if r.UnionID != tt.wantUnionID {
				t.Errorf("unionid: got %q, want %q", r.UnionID, tt.wantUnionID)
			}
			if r.ExpiresIn != 7200 {
				t.Errorf("expires_in: got %d, want 7200", r.ExpiresIn)
			}
			if r.IsSnapshotUser != 0 || strings.Contains(r.body, "is_snapshotuser") {
				t.Errorf("body %q: want no is_snapshotuser", r.body)
			}
			for _, tok := range []string{r.AccessToken, r.RefreshToken} {
				if !isURLSafe(tok) || seen[tok] {
					t.Errorf("token %q: want a new URL-safe value", tok)
				}
				seen[tok] = true
			}
		})
	}
}

func TestCodesAreDistinctAndURLSafe(t *testing.T) {
	s := newServer(t)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		code := s.IssueCode("", "snsapi_base")
		if !isURLSafe(code) || seen[code] {
			t.Fatalf("code %q: want a new URL-safe value", code)
		}
		seen[code] = true
	}
}

func TestCodeSingleUse(t *testing.T) {
	s := newServer(t)
	code := s.IssueCode("", "snsapi_base")
	wantErrcode(t, exchange(t, s, code), 0)
	wantErrcode(t, exchange(t, s, code), 40163)
}

func TestCodeExpiry(t *testing.T) {
	s := newServer(t)
	fresh := s.IssueCode("", "snsapi_base")
	stale := s.IssueCode("", "snsapi_base")
	s.Advance(5*time.Minute - time.Second)
	wantErrcode(t, exchange(t, s, fresh), 0)
	s.Advance(2 * time.Second)
	wantErrcode(t, exchange(t, s, stale), 40029)
}

func TestRefresh(t *testing.T) {
	s := newServer(t)
	first := login(t, s, "", "snsapi_userinfo")

	s.Advance(3 * time.Hour)
	wantErrcode(t, userInfo(t, s, first.AccessToken, first.OpenID), 42001)
	r := refresh(t, s, first.RefreshToken)
	wantErrcode(t, r, 0)
	if r.AccessToken == first.AccessToken || !isURLSafe(r.AccessToken) {
		t.Errorf("access_token: got %q, want a new URL-safe token", r.AccessToken)
	}
	if r.RefreshToken != first.RefreshToken {
		t.Errorf("refresh_token: got %q, want %q", r.RefreshToken, first.RefreshToken)
	}
	if r.OpenID != first.OpenID || r.Scope != first.Scope || r.ExpiresIn != 7200 {
		t.Errorf("got openid %q scope %q expires_in %d, want %q %q 7200", r.OpenID, r.Scope, r.ExpiresIn, first.OpenID, first.Scope)
	}
	wantErrcode(t, userInfo(t, s, r.AccessToken, r.OpenID), 0)

	s.Advance(30 * 24 * time.Hour)
	wantErrcode(t, refresh(t, s, first.RefreshToken), 42002)
}

func TestRefreshErrors(t *testing.T) {
	s := newServer(t)
	tok := login(t, s, "", "snsapi_base")
	tests := []struct {
		name  string
		pairs []string
		want  int
	}{
		{"unknown appid", []string{"appid", "wx9999999999999999", "grant_type", "refresh_token", "refresh_token", tok.RefreshToken}, 40013},
		{"wrong grant_type", []string{"appid", s.AppID, "grant_type", "authorization_code", "refresh_token", tok.RefreshToken}, 40002},
		{"missing refresh_token", []string{"appid", s.AppID, "grant_type", "refresh_token"}, 41003},
		{"unknown refresh_token", []string{"appid", s.AppID, "grant_type", "refresh_token", "refresh_token", "x" + tok.RefreshToken}, 40030},
		{"access token as refresh token", []string{"appid", s.AppID, "grant_type", "refresh_token", "refresh_token", tok.AccessToken}, 40030},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, pathRefresh, tt.pairs...)
			wantErrcode(t, r, tt.want)
			if strings.Contains(r.ErrMsg, tok.RefreshToken) {
				t.Errorf("errmsg %q echoes the refresh token", r.ErrMsg)
			}
		})
	}
}

func TestUserInfo(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oBound", UnionID: "oUnion1", Nickname: "Bound", HeadImgURL: "https://thirdwx.qlogo.cn/mmopen/x/132"})
	full := login(t, s, "oBound", "snsapi_userinfo")
	base := login(t, s, "oBound", "snsapi_base")

	r := userInfo(t, s, full.AccessToken, "oBound")
	wantErrcode(t, r, 0)
	if r.OpenID != "oBound" || r.Nickname != "Bound" || r.UnionID != "oUnion1" || r.HeadImgURL != "https://thirdwx.qlogo.cn/mmopen/x/132" {
		t.Errorf("profile: got %q", r.body)
	}
	for _, field := range []string{`"sex":0`, `"privilege":[]`, `"province":""`, `"city":""`, `"country":""`} {
		if !strings.Contains(r.body, field) {
			t.Errorf("body %q: want %s", r.body, field)
		}
	}

	tests := []struct {
		name  string
		pairs []string
		want  int
	}{
		{"lang en", []string{"access_token", full.AccessToken, "openid", "oBound", "lang", "en"}, 0},
		{"lang zh_TW", []string{"access_token", full.AccessToken, "openid", "oBound", "lang", "zh_TW"}, 0},
		{"no lang", []string{"access_token", full.AccessToken, "openid", "oBound"}, 0},
		{"unknown lang ignored", []string{"access_token", full.AccessToken, "openid", "oBound", "lang", "fr"}, 0},
		{"unknown access_token", []string{"access_token", "x" + full.AccessToken, "openid", "oBound", "lang", "zh_CN"}, 40001},
		{"missing access_token", []string{"openid", "oBound", "lang", "zh_CN"}, 41001},
		{"refresh token as access token", []string{"access_token", full.RefreshToken, "openid", "oBound"}, 40001},
		{"other openid", []string{"access_token", full.AccessToken, "openid", defaultOpenID, "lang", "zh_CN"}, 40003},
		{"missing openid", []string{"access_token", full.AccessToken, "lang", "zh_CN"}, 41009},
		{"base scope", []string{"access_token", base.AccessToken, "openid", "oBound", "lang", "zh_CN"}, 48001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, pathUserInfo, tt.pairs...)
			wantErrcode(t, r, tt.want)
			if strings.Contains(r.ErrMsg, full.AccessToken) {
				t.Errorf("errmsg %q echoes the token", r.ErrMsg)
			}
		})
	}

	s.Advance(7200 * time.Second)
	wantErrcode(t, userInfo(t, s, full.AccessToken, "oBound"), 42001)
}

func TestAuthCheck(t *testing.T) {
	s := newServer(t)
	tok := login(t, s, "", "snsapi_base")
	tests := []struct {
		name          string
		token, openID string
		want          int
	}{
		{"valid", tok.AccessToken, tok.OpenID, 0},
		{"unknown token", "x" + tok.AccessToken, tok.OpenID, 40001},
		{"other openid", tok.AccessToken, "oSomeoneElse", 40003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, pathAuth, "access_token", tt.token, "openid", tt.openID)
			wantErrcode(t, r, tt.want)
			if tt.want == 0 && (r.ErrMsg != "ok" || r.body != `{"errcode":0,"errmsg":"ok"}`) {
				t.Errorf("body: got %q, want %q", r.body, `{"errcode":0,"errmsg":"ok"}`)
			}
		})
	}
	s.Advance(2 * time.Hour)
	wantErrcode(t, call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID), 42001)
}

func TestSnapshotUser(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oSnap", UnionID: "oUnionSnap", Nickname: "Real Name", Snapshot: true})

	r := login(t, s, "oSnap", "snsapi_userinfo")
	if r.IsSnapshotUser != 1 {
		t.Errorf("is_snapshotuser: got %d, want 1", r.IsSnapshotUser)
	}
	if r.OpenID == "oSnap" || !isURLSafe(r.OpenID) {
		t.Errorf("openid: got %q, want a virtual URL-safe openid", r.OpenID)
	}
	if r.UnionID == "oUnionSnap" || r.UnionID == "" {
		t.Errorf("unionid: got %q, want a virtual unionid", r.UnionID)
	}
	again := login(t, s, "oSnap", "snsapi_userinfo")
	if again.OpenID != r.OpenID {
		t.Errorf("second snapshot openid: got %q, want %q", again.OpenID, r.OpenID)
	}
	info := userInfo(t, s, r.AccessToken, r.OpenID)
	wantErrcode(t, info, 0)
	if info.OpenID != r.OpenID || info.Nickname == "Real Name" || info.UnionID != r.UnionID {
		t.Errorf("snapshot profile: got %q, want virtual values", info.body)
	}
	wantErrcode(t, userInfo(t, s, r.AccessToken, "oSnap"), 40003)

	base := login(t, s, "oSnap", "snsapi_base")
	if base.OpenID != "oSnap" || base.IsSnapshotUser != 0 {
		t.Errorf("snsapi_base: got openid %q is_snapshotuser %d, want %q 0", base.OpenID, base.IsSnapshotUser, "oSnap")
	}
}

func TestForceSnapShot(t *testing.T) {
	s := newServer(t)
	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "abc", "forceSnapShot", "true"))
	code := redirectParams(t, p.location, callback).Get("code")
	r := exchange(t, s, code)
	wantErrcode(t, r, 0)
	if r.IsSnapshotUser != 1 || r.OpenID == defaultOpenID {
		t.Errorf("got is_snapshotuser %d openid %q, want 1 and a virtual openid", r.IsSnapshotUser, r.OpenID)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	s := newServer(t)
	long := strings.Repeat("a", 129)
	tests := []struct {
		name  string
		pairs []string
		want  string // text the error page must show
	}{
		{"missing appid", []string{"redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s"}, "10012"},
		{"empty appid", []string{"appid", "", "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s"}, "10012"},
		{"wrong appid", []string{"appid", "wx9999999999999999", "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s"}, "10016"},
		{"missing redirect_uri", []string{"appid", s.AppID, "response_type", "code", "scope", "snsapi_base", "state", "s"}, "10011"},
		{"relative redirect_uri", []string{"appid", s.AppID, "redirect_uri", "/cb", "response_type", "code", "scope", "snsapi_base", "state", "s"}, "10003"},
		{"missing scope", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "state", "s"}, "10010"},
		{"unknown scope", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", "s"}, "10005"},
		{"missing state", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base"}, "10013"},
		{"state with a dash", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "a-b"}, "state"},
		{"state too long", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", long}, "state"},
		{"response_type token", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "token", "scope", "snsapi_base", "state", "s"}, "response_type"},
		{"missing response_type", []string{"appid", s.AppID, "redirect_uri", callback, "scope", "snsapi_base", "state", "s"}, "response_type"},
		{"scope before response_type", []string{"appid", s.AppID, "redirect_uri", callback, "scope", "snsapi_base", "response_type", "code", "state", "s"}, "order"},
		{"state first", []string{"state", "s", "appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base"}, "order"},
		{"extra before state", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "forcePopup", "true", "state", "s"}, "order"},
		{"duplicate state", []string{"appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s", "state", "t"}, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := authorize(t, s, noRedirect(s), query(tt.pairs...))
			if p.status != http.StatusBadRequest || p.location != "" {
				t.Fatalf("got HTTP %d Location %q, want 400 and no redirect", p.status, p.location)
			}
			if !strings.Contains(p.body, tt.want) {
				t.Errorf("page: got %q, want it to mention %q", p.body, tt.want)
			}
		})
	}
	if got := s.Calls(pathToken); got != 0 {
		t.Errorf("Calls(%q): got %d, want 0", pathToken, got)
	}
}

func TestAuthorizeAutoApprove(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oSecond", Nickname: "Second"})
	tests := []struct {
		name, redirectURI, extra, wantPrefix, wantSuffix string
	}{
		{"plain", "https://app.example/cb", "", "https://app.example/cb?code=", "&state=St4te"},
		{"with query", "https://app.example/cb?next=%2Fhome", "", "https://app.example/cb?next=%2Fhome&code=", "&state=St4te"},
		{"with fragment", "https://app.example/cb?a=1#/route", "", "https://app.example/cb?a=1&code=", "&state=St4te#/route"},
		{"with extras", "https://app.example/cb", "&forcePopup=true&connect_redirect=1", "https://app.example/cb?code=", "&state=St4te"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := query("appid", s.AppID, "redirect_uri", tt.redirectURI, "response_type", "code", "scope", "snsapi_base", "state", "St4te") + tt.extra
			p := authorize(t, s, noRedirect(s), raw)
			if p.status != http.StatusFound {
				t.Fatalf("status: got %d, want 302 (page %q)", p.status, p.body)
			}
			if !strings.HasPrefix(p.location, tt.wantPrefix) || !strings.HasSuffix(p.location, tt.wantSuffix) {
				t.Fatalf("Location: got %q, want %q…%q", p.location, tt.wantPrefix, tt.wantSuffix)
			}
			code := strings.TrimSuffix(strings.TrimPrefix(p.location, tt.wantPrefix), tt.wantSuffix)
			if r := exchange(t, s, code); r.OpenID != defaultOpenID || r.Scope != "snsapi_base" {
				t.Errorf("exchange: got openid %q scope %q, want %q snsapi_base", r.OpenID, r.Scope, defaultOpenID)
			}
		})
	}

	s.SetVisitor("oSecond")
	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "xyz"))
	code := redirectParams(t, p.location, callback).Get("code")
	if r := exchange(t, s, code); r.OpenID != "oSecond" || r.Scope != "snsapi_userinfo" {
		t.Errorf("exchange: got openid %q scope %q, want oSecond snsapi_userinfo", r.OpenID, r.Scope)
	}
}

func TestAuthorizeRefuse(t *testing.T) {
	s := newServer(t)
	s.SetMode(wechattest.Refuse)
	for _, scope := range []string{"snsapi_base", "snsapi_userinfo"} {
		p := authorize(t, s, noRedirect(s), authQuery(s, scope, "abc123"))
		if p.status != http.StatusFound {
			t.Fatalf("%s: status: got %d, want 302", scope, p.status)
		}
		if want := callback + "?state=abc123"; p.location != want {
			t.Errorf("%s: Location: got %q, want %q", scope, p.location, want)
		}
	}
}

func TestConsentPage(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oSecond", Nickname: "<Second & Co>"})
	s.SetMode(wechattest.ConsentPage)
	c := noRedirect(s)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar

	p := authorize(t, s, c, authQuery(s, "snsapi_userinfo", "st1"))
	if p.status != http.StatusOK || p.location != "" {
		t.Fatalf("got HTTP %d Location %q, want the consent page", p.status, p.location)
	}
	for _, want := range []string{
		`<form method="post" action="/connect/oauth2/authorize/confirm">`,
		`id="allow"`, `id="refuse"`, `允许`, `Allow`, s.AppID,
		`<option value="` + defaultOpenID + `" selected>`,
		`&lt;Second &amp; Co&gt;`,
		`name="viewport"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page: want it to contain %q; got %q", want, p.body)
		}
	}
	if strings.Contains(p.body, "src=") || strings.Contains(p.body, "<link") || strings.Contains(p.body, "url(") {
		t.Errorf("consent page loads external assets: %q", p.body)
	}

	form := url.Values{"appid": {s.AppID}, "redirect_uri": {callback}, "scope": {"snsapi_userinfo"}, "state": {"st1"}, "openid": {"oSecond"}}

	form.Set("decision", "refuse")
	p = confirm(t, s, c, form)
	if want := callback + "?state=st1"; p.status != http.StatusFound || p.location != want {
		t.Fatalf("refuse: got HTTP %d Location %q, want 302 %q", p.status, p.location, want)
	}

	// Before Allow, snsapi_base asks which user the browser stands for.
	p = authorize(t, s, c, authQuery(s, "snsapi_base", "st2"))
	if p.status != http.StatusOK || !strings.Contains(p.body, `id="allow"`) || strings.Contains(p.body, `id="refuse"`) {
		t.Fatalf("snsapi_base before a choice: got HTTP %d %q, want the chooser page", p.status, p.body)
	}

	form.Set("decision", "allow")
	p = confirm(t, s, c, form)
	if p.status != http.StatusFound {
		t.Fatalf("allow: got HTTP %d %q, want 302", p.status, p.body)
	}
	code := redirectParams(t, p.location, callback).Get("code")
	if r := exchange(t, s, code); r.OpenID != "oSecond" || r.Scope != "snsapi_userinfo" {
		t.Errorf("exchange: got openid %q scope %q, want oSecond snsapi_userinfo", r.OpenID, r.Scope)
	}
	cookie := p.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie: got %q, want %s", cookie, want)
		}
	}

	// Now snsapi_base passes silently for the chosen user.
	p = authorize(t, s, c, authQuery(s, "snsapi_base", "st3"))
	q := redirectParams(t, p.location, callback)
	if q.Get("state") != "st3" {
		t.Errorf("state: got %q, want %q", q.Get("state"), "st3")
	}
	if r := exchange(t, s, q.Get("code")); r.OpenID != "oSecond" || r.Scope != "snsapi_base" {
		t.Errorf("silent exchange: got openid %q scope %q, want oSecond snsapi_base", r.OpenID, r.Scope)
	}
	// snsapi_userinfo still asks.
	if p := authorize(t, s, c, authQuery(s, "snsapi_userinfo", "st4")); p.status != http.StatusOK || p.location != "" {
		t.Errorf("snsapi_userinfo after a choice: got HTTP %d Location %q, want the consent page", p.status, p.location)
	}
}

func TestConfirmRejectsBadForms(t *testing.T) {
	s := newServer(t)
	good := url.Values{"appid": {s.AppID}, "redirect_uri": {callback}, "scope": {"snsapi_base"}, "state": {"s1"}, "openid": {defaultOpenID}, "decision": {"allow"}}
	tests := []struct {
		name, key, value, want string
	}{
		{"wrong appid", "appid", "wx9999999999999999", "10016"},
		{"missing redirect_uri", "redirect_uri", "", "10011"},
		{"bad scope", "scope", "snsapi_login", "10005"},
		{"bad state", "state", "a b", "state"},
		{"unknown user", "openid", "oNobody", "unknown"},
		{"no decision", "decision", "", "decision"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tt.key, tt.value)
			p := confirm(t, s, noRedirect(s), form)
			if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, tt.want) {
				t.Errorf("got HTTP %d Location %q, want 400 mentioning %q: %q", p.status, p.location, tt.want, p.body)
			}
		})
	}
	resp, err := s.Client().Get(s.URL + pathConfirm)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET confirm: got HTTP %d, want 405", resp.StatusCode)
	}
}

func TestUnknownPath(t *testing.T) {
	s := newServer(t)
	resp, err := s.Client().Get(s.URL + "/cgi-bin/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("got HTTP %d, want 404", resp.StatusCode)
	}
}

func TestCalls(t *testing.T) {
	s := newServer(t)
	code := s.IssueCode("", "snsapi_base")
	exchange(t, s, code)
	exchange(t, s, code) // 40163, still counted
	s.FailNext(pathToken, -1)
	exchange(t, s, "whatever")
	authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s"))
	authorize(t, s, noRedirect(s), "bad")
	for path, want := range map[string]int{pathToken: 3, pathAuthorize: 2, pathUserInfo: 0, "/nope": 0} {
		if got := s.Calls(path); got != want {
			t.Errorf("Calls(%q): got %d, want %d", path, got, want)
		}
	}
}

func TestFailNext(t *testing.T) {
	s := newServer(t)
	code := s.IssueCode("", "snsapi_base")
	s.FailNext(pathToken, -1)
	s.FailNext(pathToken, 45011)

	r := exchange(t, s, code)
	wantErrcode(t, r, -1)
	if !strings.HasPrefix(r.ErrMsg, "system error") {
		t.Errorf("errmsg: got %q, want %q…", r.ErrMsg, "system error")
	}
	wantErrcode(t, exchange(t, s, code), 45011)
	// The -1 spent the code, as WeChat does.
	wantErrcode(t, exchange(t, s, code), 40163)
	wantErrcode(t, exchange(t, s, s.IssueCode("", "snsapi_base")), 0)

	// Failures are queued per path.
	tok := login(t, s, "", "snsapi_userinfo")
	s.FailNext(pathUserInfo, 40001)
	wantErrcode(t, call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID), 0)
	wantErrcode(t, userInfo(t, s, tok.AccessToken, tok.OpenID), 40001)
	wantErrcode(t, userInfo(t, s, tok.AccessToken, tok.OpenID), 0)

	s.FailNext(pathAuthorize, 10009)
	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s"))
	if p.location != "" || !strings.Contains(p.body, "10009") {
		t.Errorf("authorize: got Location %q page %q, want the 10009 page", p.location, p.body)
	}
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s")); p.status != http.StatusFound {
		t.Errorf("authorize after the failure: got HTTP %d, want 302", p.status)
	}
}

func TestSetLatency(t *testing.T) {
	s := newServer(t)
	s.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+pathAuth+"?access_token=x&openid=y", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want the context deadline to end the call", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error: got %v, want context.DeadlineExceeded", err)
	}
	if got := s.Calls(pathAuth); got != 1 {
		t.Errorf("Calls: got %d, want 1", got)
	}
	// The authorization page is not delayed.
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s")); p.status != http.StatusFound {
		t.Errorf("authorize: got HTTP %d, want 302", p.status)
	}
	s.SetLatency(0)
	wantErrcode(t, call(t, s, pathAuth, "access_token", "x", "openid", "y"), 40001)
}

func TestConcurrentExchange(t *testing.T) {
	s := newServer(t)
	code := s.IssueCode("", "snsapi_userinfo")
	const n = 32
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.Client().Get(s.URL + pathToken + "?" + query("appid", s.AppID, "secret", s.AppSecret, "code", code, "grant_type", "authorization_code"))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var r reply
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Error(err)
				return
			}
			codes <- r.ErrCode
		}()
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[0] != 1 || got[40163] != n-1 {
		t.Errorf("errcodes: got %v, want one 0 and %d × 40163", got, n-1)
	}
	if c := s.Calls(pathToken); c != n {
		t.Errorf("Calls: got %d, want %d", c, n)
	}
}

func TestAddUserAndSetVisitorPanic(t *testing.T) {
	s := newServer(t)
	tests := []struct {
		name string
		f    func()
	}{
		{"AddUser with a space", func() { s.AddUser(wechattest.User{OpenID: "o bad"}) }},
		{"AddUser without OpenID", func() { s.AddUser(wechattest.User{Nickname: "x"}) }},
		{"SetVisitor unknown", func() { s.SetVisitor("oNobody") }},
		{"IssueCode unknown user", func() { s.IssueCode("oNobody", "snsapi_base") }},
		{"IssueCode bad scope", func() { s.IssueCode("", "snsapi_privateinfo") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("got no panic, want one")
				}
			}()
			tt.f()
		})
	}
}

func TestAddUserReplaces(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: defaultOpenID, Nickname: "Renamed", UnionID: "oU"})
	tok := login(t, s, "", "snsapi_userinfo")
	info := userInfo(t, s, tok.AccessToken, tok.OpenID)
	if info.Nickname != "Renamed" || info.UnionID != "oU" {
		t.Errorf("got nickname %q unionid %q, want %q %q", info.Nickname, info.UnionID, "Renamed", "oU")
	}
}
