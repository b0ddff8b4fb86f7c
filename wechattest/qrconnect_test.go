package wechattest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathQRConnect = "/connect/qrconnect"
	pathQRConfirm = "/connect/qrconnect/confirm"
)

// qrQuery is a qrconnect link's query, parameters in WeChat's order.
func qrQuery(s *wechattest.Server, state string) string {
	return query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", state)
}

func qrconnect(t *testing.T, s *wechattest.Server, c *http.Client, rawQuery string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+pathQRConnect+"?"+rawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doPage(t, c, req)
}

func qrConfirm(t *testing.T, s *wechattest.Server, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+pathQRConfirm, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return doPage(t, noRedirect(s), req)
}

// webExchange exchanges code with the website app's credentials.
func webExchange(t *testing.T, s *wechattest.Server, code string) reply {
	t.Helper()
	return call(t, s, pathToken, "appid", s.WebsiteAppID, "secret", s.WebsiteAppSecret, "code", code, "grant_type", "authorization_code")
}

// withAlice adds a user bound to the Open Platform and makes her the visitor.
func withAlice(s *wechattest.Server) {
	s.AddUser(wechattest.User{OpenID: "oAlice", UnionID: "uAlice", Nickname: "Alice"})
	s.SetVisitor("oAlice")
}

func TestWebsiteOpenID(t *testing.T) {
	s := newServer(t)
	id := s.WebsiteOpenID(defaultOpenID)
	if id == defaultOpenID || len(id) != 28 || !strings.HasPrefix(id, "o") || !isURLSafe(id) {
		t.Errorf("WebsiteOpenID: got %q, want 28 URL-safe characters starting with o, not the openid", id)
	}
	if again := s.WebsiteOpenID(defaultOpenID); again != id {
		t.Errorf("WebsiteOpenID is not stable: %q, then %q", id, again)
	}
	if other := s.WebsiteOpenID("oAlice"); other == id {
		t.Errorf("WebsiteOpenID: two users share %q", id)
	}
}

func TestQRConnectLogin(t *testing.T) {
	s := newServer(t)
	withAlice(s)
	p := qrconnect(t, s, noRedirect(s), qrQuery(s, "st1")+"#wechat_redirect")
	if p.status != http.StatusFound {
		t.Fatalf("qrconnect: got HTTP %d %q, want 302", p.status, p.body)
	}
	q := redirectParams(t, p.location, callback)
	if q.Get("state") != "st1" || q.Get("code") == "" {
		t.Fatalf("redirect query: got %v, want a code and state st1", q)
	}

	tok := webExchange(t, s, q.Get("code"))
	wantErrcode(t, tok, 0)
	if want := s.WebsiteOpenID("oAlice"); tok.OpenID != want {
		t.Errorf("openid: got %q, want the website app's %q", tok.OpenID, want)
	}
	if tok.Scope != "snsapi_login" || tok.UnionID != "uAlice" || tok.RefreshToken == "" || tok.ExpiresIn != 7200 {
		t.Errorf("token reply: got scope %q unionid %q refresh_token %q expires_in %d, want snsapi_login, uAlice, one, 7200",
			tok.Scope, tok.UnionID, tok.RefreshToken, tok.ExpiresIn)
	}
	if strings.Contains(tok.body, s.WebsiteAppSecret) {
		t.Errorf("reply %q echoes the secret", tok.body)
	}

	info := userInfo(t, s, tok.AccessToken, tok.OpenID)
	wantErrcode(t, info, 0)
	if info.OpenID != tok.OpenID || info.UnionID != "uAlice" || info.Nickname != "Alice" {
		t.Errorf("userinfo: got openid %q unionid %q nickname %q, want %q uAlice Alice", info.OpenID, info.UnionID, info.Nickname, tok.OpenID)
	}
	// The Official Account's openid is not this token's.
	wantErrcode(t, userInfo(t, s, tok.AccessToken, "oAlice"), 40003)
	wantErrcode(t, call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID), 0)

	// Refresh works with the website app's appid only.
	wantErrcode(t, refresh(t, s, tok.RefreshToken), 40030)
	r := call(t, s, pathRefresh, "appid", s.WebsiteAppID, "grant_type", "refresh_token", "refresh_token", tok.RefreshToken)
	wantErrcode(t, r, 0)
	if r.OpenID != tok.OpenID || r.Scope != "snsapi_login" {
		t.Errorf("refresh: got openid %q scope %q, want %q snsapi_login", r.OpenID, r.Scope, tok.OpenID)
	}

	// The same person through the Official Account: another openid, the same unionid.
	oa := login(t, s, "oAlice", "snsapi_userinfo")
	if oa.OpenID != "oAlice" || oa.UnionID != tok.UnionID {
		t.Errorf("Official Account login: got openid %q unionid %q, want oAlice %q", oa.OpenID, oa.UnionID, tok.UnionID)
	}
	if got := s.Calls(pathQRConnect); got != 1 {
		t.Errorf("Calls(%q): got %d, want 1", pathQRConnect, got)
	}
}

func TestQRConnectWithoutUnionID(t *testing.T) {
	s := newServer(t)
	tok := webExchange(t, s, s.IssueCode("", "snsapi_login"))
	wantErrcode(t, tok, 0)
	if tok.UnionID != "" || strings.Contains(tok.body, "unionid") {
		t.Errorf("a user without a unionid: got %q, want no unionid field", tok.body)
	}
}

func TestQRConnectSnapshotUserIsReal(t *testing.T) {
	// Snapshot pages exist inside WeChat only: a QR login is the real person.
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oSnap", UnionID: "uSnap", Snapshot: true})
	tok := webExchange(t, s, s.IssueCode("oSnap", "snsapi_login"))
	if tok.IsSnapshotUser != 0 || tok.UnionID != "uSnap" || tok.OpenID != s.WebsiteOpenID("oSnap") {
		t.Errorf("got %q, want the real identity", tok.body)
	}
}

func TestQRConnectCodeBelongsToItsApp(t *testing.T) {
	s := newServer(t)
	web := s.IssueCode("", "snsapi_login")
	wantErrcode(t, exchange(t, s, web), 40029) // the Official Account's credentials
	wantErrcode(t, webExchange(t, s, web), 0)  // still unspent for its own app
	wantErrcode(t, webExchange(t, s, web), 40163)

	oa := s.IssueCode("", "snsapi_userinfo")
	wantErrcode(t, webExchange(t, s, oa), 40029)
	wantErrcode(t, exchange(t, s, oa), 0)

	// The website app's own secret, not the account's.
	wantErrcode(t, call(t, s, pathToken, "appid", s.WebsiteAppID, "secret", s.AppSecret, "code", s.IssueCode("", "snsapi_login"), "grant_type", "authorization_code"), 40125)
}

func TestQRConnectCodeLivesTenMinutes(t *testing.T) {
	tests := []struct {
		after time.Duration
		want  int
	}{
		{9*time.Minute + 59*time.Second, 0},
		{10*time.Minute + time.Second, 40029},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			s := newServer(t)
			code := s.IssueCode("", "snsapi_login")
			s.Advance(tt.after)
			wantErrcode(t, webExchange(t, s, code), tt.want)
		})
	}
}

func TestQRConnectErrorPages(t *testing.T) {
	s := newServer(t)
	s.SetCallbackDomain("app.example")
	tests := []struct {
		name, rawQuery, want string
	}{
		{"the Official Account's appid", query("appid", s.AppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", "s"), "website app"},
		{"unknown appid", query("appid", "wx9999999999999999", "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", "s"), "website app"},
		{"scope snsapi_userinfo", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_userinfo", "state", "s"), "snsapi_login"},
		{"scope snsapi_base", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s"), "snsapi_login"},
		{"sorted parameters", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "state", "s", "scope", "snsapi_login"), "order"},
		{"bad state", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", "a-b"), "state"},
		{"missing state", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login"), "10013"},
		{"other domain", query("appid", s.WebsiteAppID, "redirect_uri", "https://pay.example/cb", "response_type", "code", "scope", "snsapi_login", "state", "s"), "10003"},
		{"response_type token", query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "token", "scope", "snsapi_login", "state", "s"), "response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := qrconnect(t, s, noRedirect(s), tt.rawQuery)
			if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, tt.want) {
				t.Errorf("got HTTP %d Location %q, want 400 mentioning %q: %q", p.status, p.location, tt.want, p.body)
			}
		})
	}
	// The authorize page refuses the website app's appid.
	p := authorize(t, s, noRedirect(s), query("appid", s.WebsiteAppID, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_login", "state", "s"))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "10016") {
		t.Errorf("authorize with the website appid: got HTTP %d %q, want the 10016 page", p.status, p.body)
	}
}

func TestQRConnectRefuse(t *testing.T) {
	s := newServer(t)
	s.SetMode(wechattest.Refuse)
	p := qrconnect(t, s, noRedirect(s), qrQuery(s, "st9"))
	if want := callback + "?state=st9"; p.status != http.StatusFound || p.location != want {
		t.Errorf("got HTTP %d Location %q, want 302 %q", p.status, p.location, want)
	}
}

func TestQRConnectPage(t *testing.T) {
	s := newServer(t)
	withAlice(s)
	s.SetMode(wechattest.ConsentPage)
	p := qrconnect(t, s, noRedirect(s), qrQuery(s, "st1"))
	if p.status != http.StatusOK || p.location != "" {
		t.Fatalf("got HTTP %d Location %q, want the QR page", p.status, p.location)
	}
	for _, want := range []string{
		`<form method="post" action="/connect/qrconnect/confirm">`,
		`id="qrcode"`, `id="allow"`, `Scan and confirm (emulated)`, `id="refuse"`,
		`<option value="oAlice" selected>`, `<option value="` + defaultOpenID + `">`,
		s.WebsiteAppID, `name="viewport"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("QR page: want it to contain %q; got %q", want, p.body)
		}
	}
	if strings.Contains(p.body, "src=") || strings.Contains(p.body, "<link") || strings.Contains(p.body, "url(") {
		t.Errorf("QR page loads external assets: %q", p.body)
	}

	form := url.Values{"appid": {s.WebsiteAppID}, "redirect_uri": {callback}, "scope": {"snsapi_login"}, "state": {"st1"}, "openid": {defaultOpenID}}
	form.Set("decision", "refuse")
	if p := qrConfirm(t, s, form); p.status != http.StatusFound || p.location != callback+"?state=st1" {
		t.Errorf("refuse: got HTTP %d Location %q, want 302 with state only", p.status, p.location)
	}
	form.Set("decision", "allow")
	p = qrConfirm(t, s, form)
	if p.status != http.StatusFound {
		t.Fatalf("allow: got HTTP %d %q, want 302", p.status, p.body)
	}
	q := redirectParams(t, p.location, callback)
	if q.Get("state") != "st1" {
		t.Errorf("state: got %q, want st1", q.Get("state"))
	}
	if r := webExchange(t, s, q.Get("code")); r.OpenID != s.WebsiteOpenID(defaultOpenID) || r.Scope != "snsapi_login" {
		t.Errorf("exchange: got openid %q scope %q, want the chosen user's website openid, snsapi_login", r.OpenID, r.Scope)
	}
	// A scan is needed every time: the page shows again.
	if p := qrconnect(t, s, noRedirect(s), qrQuery(s, "st2")); p.status != http.StatusOK {
		t.Errorf("second QR login: got HTTP %d, want the page again", p.status)
	}
}

func TestQRConfirmRejectsBadForms(t *testing.T) {
	s := newServer(t)
	good := url.Values{"appid": {s.WebsiteAppID}, "redirect_uri": {callback}, "scope": {"snsapi_login"}, "state": {"s1"}, "openid": {defaultOpenID}, "decision": {"allow"}}
	tests := []struct {
		name, key, value, want string
	}{
		{"the Official Account's appid", "appid", s.AppID, "website app"},
		{"scope snsapi_userinfo", "scope", "snsapi_userinfo", "snsapi_login"},
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
			p := qrConfirm(t, s, form)
			if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, tt.want) {
				t.Errorf("got HTTP %d Location %q, want 400 mentioning %q: %q", p.status, p.location, tt.want, p.body)
			}
		})
	}
}

func TestQRConnectFailNext(t *testing.T) {
	s := newServer(t)
	s.FailNext(pathQRConnect, 10009)
	p := qrconnect(t, s, noRedirect(s), qrQuery(s, "s"))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "10009") {
		t.Errorf("got HTTP %d %q, want the 10009 page", p.status, p.body)
	}
	if p := qrconnect(t, s, noRedirect(s), qrQuery(s, "s")); p.status != http.StatusFound {
		t.Errorf("after the failure: got HTTP %d, want 302", p.status)
	}
	if got := s.Calls(pathQRConnect); got != 2 {
		t.Errorf("Calls: got %d, want 2", got)
	}
}
