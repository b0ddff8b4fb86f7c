package wechattest_test

import (
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/wechattest"
)

// freshConnections returns a client for s that opens a new connection for
// every request, so that a dropped connection reaches the caller instead of
// being retried by http.Transport.
func freshConnections(s *wechattest.Server) *http.Client {
	tr := s.Client().Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	return &http.Client{Transport: tr}
}

func TestDropNext(t *testing.T) {
	s := newServer(t)
	c := freshConnections(s)
	code := s.IssueCode("", "snsapi_base")
	s.DropNext(pathToken)

	get := s.URL + pathToken + "?" + query("appid", s.AppID, "secret", s.AppSecret, "code", code, "grant_type", "authorization_code")
	resp, err := c.Get(get)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped exchange: got HTTP %d, want a connection error", resp.StatusCode)
	}
	if got := s.Calls(pathToken); got != 1 {
		t.Errorf("Calls: got %d, want 1", got)
	}
	// The emulator acted on the request before dropping it: the code is spent.
	wantErrcode(t, exchange(t, s, code), 40163)
	// One drop per call.
	wantErrcode(t, exchange(t, s, s.IssueCode("", "snsapi_base")), 0)
}

func TestDropNextClosesWithoutAnswer(t *testing.T) {
	s := newServer(t)
	s.DropNext(pathAuth)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testclock.Patience(time.Minute)))
	if _, err := io.WriteString(conn, "GET "+pathAuth+"?access_token=x&openid=y HTTP/1.1\r\nHost: wechattest\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("answer: got %q, want the connection closed without a byte", got)
	}
}

func TestFaultsShareOneQueue(t *testing.T) {
	s := newServer(t)
	c := freshConnections(s)
	s.FailNext(pathAuth, -1)
	s.DropNext(pathAuth)
	s.FailNext(pathAuth, 40001)

	get := s.URL + pathAuth + "?access_token=x&openid=y"
	errcode := func() int {
		t.Helper()
		resp, err := c.Get(get)
		if err != nil {
			return 1 // dropped
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		switch {
		case strings.Contains(string(body), `"errcode":-1`):
			return -1
		case strings.Contains(string(body), `"errcode":40001`):
			return 40001
		}
		t.Fatalf("unexpected body %q", body)
		return 0
	}
	for i, want := range []int{-1, 1, 40001, 40001} {
		if got := errcode(); got != want {
			t.Errorf("request %d: got %d, want %d (1 = dropped)", i+1, got, want)
		}
	}
}

func TestCallbackDomain(t *testing.T) {
	tests := []struct {
		domain, redirectURI string
		ok                  bool
	}{
		{"", "https://anything.example/cb", true},
		{"app.example", "https://app.example/wechat/callback", true},
		{"app.example", "http://app.example:8080/cb", true},
		{"APP.example", "https://app.EXAMPLE/cb", true},
		{"app.example", "https://pay.app.example/cb", false},
		{"www.example.com", "https://pay.example.com/cb", false},
		{"www.example.com", "https://example.com/cb", false},
		{"app.example", "https://app.example.evil/cb", false},
		{"app.example", "https://evil.example/cb?app.example", false},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/cb", true},
		{"127.0.0.1:8080", "http://127.0.0.1:9090/cb", false},
		{"[::1]", "http://[::1]:8080/cb", true},
	}
	for _, tt := range tests {
		t.Run(tt.domain+" "+tt.redirectURI, func(t *testing.T) {
			s := newServer(t)
			s.SetCallbackDomain(tt.domain)
			raw := query("appid", s.AppID, "redirect_uri", tt.redirectURI, "response_type", "code", "scope", "snsapi_base", "state", "s1")
			p := authorize(t, s, noRedirect(s), raw)
			if tt.ok {
				if p.status != http.StatusFound || !strings.HasPrefix(p.location, tt.redirectURI) {
					t.Errorf("got HTTP %d Location %q, want 302 to %q", p.status, p.location, tt.redirectURI)
				}
				return
			}
			if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, "10003") {
				t.Errorf("got HTTP %d Location %q, want the 10003 page: %q", p.status, p.location, p.body)
			}
			// The consent form is held to the same domain.
			form := url.Values{"appid": {s.AppID}, "redirect_uri": {tt.redirectURI}, "scope": {"snsapi_base"}, "state": {"s1"}, "openid": {defaultOpenID}, "decision": {"allow"}}
			if p := confirm(t, s, noRedirect(s), form); p.location != "" || !strings.Contains(p.body, "10003") {
				t.Errorf("confirm: got HTTP %d Location %q, want the 10003 page", p.status, p.location)
			}
		})
	}
}

func TestSetCallbackDomainPanics(t *testing.T) {
	s := newServer(t)
	for _, bad := range []string{"https://app.example", "app.example/cb", "app example"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SetCallbackDomain(%q): got no panic, want one", bad)
				}
			}()
			s.SetCallbackDomain(bad)
		}()
	}
}

func TestSetScopes(t *testing.T) {
	s := newServer(t)
	s.SetScopes("snsapi_base")
	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "s1"))
	if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, "10005") {
		t.Fatalf("snsapi_userinfo without permission: got HTTP %d Location %q, want the 10005 page: %q", p.status, p.location, p.body)
	}
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s2")); p.status != http.StatusFound {
		t.Errorf("snsapi_base: got HTTP %d, want 302", p.status)
	}
	form := url.Values{"appid": {s.AppID}, "redirect_uri": {callback}, "scope": {"snsapi_userinfo"}, "state": {"s3"}, "openid": {defaultOpenID}, "decision": {"allow"}}
	if p := confirm(t, s, noRedirect(s), form); p.location != "" || !strings.Contains(p.body, "10005") {
		t.Errorf("confirm: got HTTP %d Location %q, want the 10005 page", p.status, p.location)
	}

	s.SetScopes()
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "s4")); !strings.Contains(p.body, "10005") {
		t.Errorf("no web authorization: got HTTP %d Location %q, want the 10005 page", p.status, p.location)
	}
	s.SetScopes("snsapi_base", "snsapi_userinfo")
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "s5")); p.status != http.StatusFound {
		t.Errorf("both scopes again: got HTTP %d, want 302", p.status)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("SetScopes(snsapi_login): got no panic, want one")
		}
	}()
	s.SetScopes("snsapi_login")
}

var relayLink = regexp.MustCompile(`<a id="callback" href="([^"]+)"`)

// relay follows a Location to the relay page and returns the callback URL
// it delivers.
func relay(t *testing.T, s *wechattest.Server, loc string) (target string, body string) {
	t.Helper()
	if !strings.HasPrefix(loc, s.URL+"/connect/oauth2/authorize/relay?") {
		t.Fatalf("Location: got %q, want the emulator's relay page", loc)
	}
	req, err := http.NewRequest(http.MethodGet, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := doPage(t, noRedirect(s), req)
	if p.status != http.StatusOK {
		t.Fatalf("relay page: got HTTP %d, want 200: %q", p.status, p.body)
	}
	m := relayLink.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("relay page: no callback link in %q", p.body)
	}
	return html.UnescapeString(m[1]), p.body
}

func TestCallbackRetry(t *testing.T) {
	s := newServer(t)
	s.SetCallbackRetry(1500 * time.Millisecond)

	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "St4te"))
	if p.status != http.StatusFound {
		t.Fatalf("authorize: got HTTP %d, want 302", p.status)
	}
	target, body := relay(t, s, p.location)
	q := redirectParams(t, target, callback)
	if q.Get("state") != "St4te" || q.Get("code") == "" {
		t.Fatalf("relayed callback: got %q, want code and state St4te", target)
	}
	for _, want := range []string{`location\.replace\(to\);[\s\S]+setTimeout\(function \(\) \{ location\.assign\(to\); \},\s*1500\s*\)`, `within 1\.5s`} {
		if !regexp.MustCompile(want).MatchString(body) {
			t.Errorf("relay page: want it to match %q; got %q", want, body)
		}
	}
	// Both deliveries carry the one code: it is exchanged once.
	wantErrcode(t, exchange(t, s, q.Get("code")), 0)
	wantErrcode(t, exchange(t, s, q.Get("code")), 40163)

	// Refusals and consent-page answers are relayed too.
	s.SetMode(wechattest.Refuse)
	p = authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "R1"))
	if target, _ := relay(t, s, p.location); target != callback+"?state=R1" {
		t.Errorf("relayed refusal: got %q, want %q", target, callback+"?state=R1")
	}
	form := url.Values{"appid": {s.AppID}, "redirect_uri": {callback}, "scope": {"snsapi_userinfo"}, "state": {"C1"}, "openid": {defaultOpenID}, "decision": {"allow"}}
	p = confirm(t, s, noRedirect(s), form)
	target, _ = relay(t, s, p.location)
	if code := redirectParams(t, target, callback).Get("code"); code == "" {
		t.Errorf("relayed consent: got %q, want a code", target)
	}

	// Off again: straight back to the app.
	s.SetCallbackRetry(0)
	s.SetMode(wechattest.AutoApprove)
	p = authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "S2"))
	redirectParams(t, p.location, callback)
}

func TestRelayRefusesOtherTargets(t *testing.T) {
	s := newServer(t)
	s.SetCallbackRetry(time.Second)
	s.SetCallbackDomain("app.example")
	for _, to := range []string{"javascript:alert(1)", "/relative", "https://evil.example/cb?code=x&state=y"} {
		req, err := http.NewRequest(http.MethodGet, s.URL+"/connect/oauth2/authorize/relay?to="+url.QueryEscape(to), nil)
		if err != nil {
			t.Fatal(err)
		}
		p := doPage(t, noRedirect(s), req)
		if p.status != http.StatusBadRequest || strings.Contains(p.body, "location.replace") {
			t.Errorf("relay to %q: got HTTP %d, want the 400 page without a redirect", to, p.status)
		}
	}
}

func TestClockExpiresEverything(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		use      func(t *testing.T, s *wechattest.Server, tok reply, code string) reply
		expired  int
	}{
		{"code", 5 * time.Minute, func(t *testing.T, s *wechattest.Server, _ reply, code string) reply {
			return exchange(t, s, code)
		}, 40029},
		{"access token on userinfo", 7200 * time.Second, func(t *testing.T, s *wechattest.Server, tok reply, _ string) reply {
			return userInfo(t, s, tok.AccessToken, tok.OpenID)
		}, 42001},
		{"access token on auth", 7200 * time.Second, func(t *testing.T, s *wechattest.Server, tok reply, _ string) reply {
			return call(t, s, pathAuth, "access_token", tok.AccessToken, "openid", tok.OpenID)
		}, 42001},
		{"refresh token", 30 * 24 * time.Hour, func(t *testing.T, s *wechattest.Server, tok reply, _ string) reply {
			return refresh(t, s, tok.RefreshToken)
		}, 42002},
	}
	for _, tt := range tests {
		for _, at := range []struct {
			name  string
			after time.Duration
			want  int
		}{{"just before", tt.lifetime - time.Second, 0}, {"at expiry", tt.lifetime, tt.expired}, {"long after", 10 * tt.lifetime, tt.expired}} {
			t.Run(tt.name+"/"+at.name, func(t *testing.T) {
				s := newServer(t)
				tok := login(t, s, "", "snsapi_userinfo")
				code := s.IssueCode("", "snsapi_userinfo")
				s.Advance(at.after)
				wantErrcode(t, tt.use(t, s, tok, code), at.want)
			})
		}
	}
}

func TestRefreshDoesNotExtendRefreshToken(t *testing.T) {
	s := newServer(t)
	tok := login(t, s, "", "snsapi_base")
	for i := 0; i < 29; i++ {
		s.Advance(24 * time.Hour)
		wantErrcode(t, refresh(t, s, tok.RefreshToken), 0)
	}
	s.Advance(24 * time.Hour)
	wantErrcode(t, refresh(t, s, tok.RefreshToken), 42002)
}

func TestNewUnstartedServer(t *testing.T) {
	s, err := wechattest.NewUnstartedServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, ":0") {
		t.Fatalf("URL before Start: got %q, want the bound loopback address", s.URL)
	}
	s.AppID, s.AppSecret = "wxOwnAppID000001", "own-secret"
	s.AddUser(wechattest.User{OpenID: "oOwn", Nickname: "Own"})
	s.SetVisitor("oOwn")
	s.Start()

	r := exchange(t, s, s.IssueCode("", "snsapi_base"))
	wantErrcode(t, r, 0)
	if r.OpenID != "oOwn" {
		t.Errorf("openid: got %q, want %q", r.OpenID, "oOwn")
	}
	wantErrcode(t, call(t, s, pathToken, "appid", "wx0000000000000001", "secret", "own-secret", "code", "x", "grant_type", "authorization_code"), 40013)

	// The address is taken now.
	if other, err := wechattest.NewUnstartedServer(strings.TrimPrefix(s.URL, "http://")); err == nil {
		other.Close()
		t.Errorf("second server on %s: got no error, want one", s.URL)
	}
}

func TestConsentPageSnapshotOption(t *testing.T) {
	s := newServer(t)
	s.AddUser(wechattest.User{OpenID: "oSnapUser", Nickname: "Snap", Snapshot: true})
	s.SetMode(wechattest.ConsentPage)

	p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "st1"))
	for _, want := range []string{`id="snapshot" name="forceSnapShot" value="true">`, `id="refuse"`, `Snap (oSnapUser) · 快照页 / snapshot`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page: want it to contain %q; got %q", want, p.body)
		}
	}
	p = authorize(t, s, noRedirect(s), authQuery(s, "snsapi_userinfo", "st2", "forceSnapShot", "true"))
	if !strings.Contains(p.body, `value="true" checked>`) {
		t.Errorf("forceSnapShot=true: want the snapshot option checked; got %q", p.body)
	}
	if p := authorize(t, s, noRedirect(s), authQuery(s, "snsapi_base", "st3")); strings.Contains(p.body, `id="snapshot"`) {
		t.Errorf("snsapi_base chooser: got a snapshot option, want none (snapshots are a snsapi_userinfo thing)")
	}

	form := url.Values{"appid": {s.AppID}, "redirect_uri": {callback}, "scope": {"snsapi_userinfo"}, "state": {"st1"}, "openid": {defaultOpenID}, "decision": {"allow"}}
	plain := exchange(t, s, redirectParams(t, confirm(t, s, noRedirect(s), form).location, callback).Get("code"))
	form.Set("forceSnapShot", "true")
	snap := exchange(t, s, redirectParams(t, confirm(t, s, noRedirect(s), form).location, callback).Get("code"))
	if plain.IsSnapshotUser != 0 || plain.OpenID != defaultOpenID {
		t.Errorf("without the option: got is_snapshotuser %d openid %q, want 0 %q", plain.IsSnapshotUser, plain.OpenID, defaultOpenID)
	}
	if snap.IsSnapshotUser != 1 || snap.OpenID == defaultOpenID {
		t.Errorf("with the option: got is_snapshotuser %d openid %q, want 1 and a virtual openid", snap.IsSnapshotUser, snap.OpenID)
	}
}
