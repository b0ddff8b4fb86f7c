package wechattest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathGlobalToken = "/cgi-bin/token"
	pathStableToken = "/cgi-bin/stable_token"
	pathMenuCreate  = "/cgi-bin/menu/create"

	simpleMenu = `{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"}]}`
)

// post sends body to an API path with the pairs as its query and decodes
// the reply.
func post(t *testing.T, s *wechattest.Server, path, body string, pairs ...string) reply {
	t.Helper()
	u := s.URL + path
	if len(pairs) > 0 {
		u += "?" + query(pairs...)
	}
	resp, err := s.Client().Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return decodeReply(t, path, resp)
}

// decodeReply reads an API reply, which must be HTTP 200 JSON.
func decodeReply(t *testing.T, path string, resp *http.Response) reply {
	t.Helper()
	r, err := readReply(resp)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// readReply reads an API reply without failing a test, for goroutines.
func readReply(resp *http.Response) (reply, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return reply{}, fmt.Errorf("got HTTP %d, want 200", resp.StatusCode)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		return reply{}, fmt.Errorf("decoding %q: %v", body, err)
	}
	r.body, r.contentType = string(body), resp.Header.Get("Content-Type")
	return r, nil
}

// globalToken fetches a token from /cgi-bin/token and fails the test on
// an error.
func globalToken(t *testing.T, s *wechattest.Server) string {
	t.Helper()
	r := call(t, s, pathGlobalToken, "grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret)
	wantErrcode(t, r, 0)
	return r.AccessToken
}

// stableToken calls /cgi-bin/stable_token.
func stableToken(t *testing.T, s *wechattest.Server, force bool) reply {
	t.Helper()
	body := `{"grant_type":"client_credential","appid":"` + s.AppID + `","secret":"` + s.AppSecret + `","force_refresh":false}`
	if force {
		body = strings.Replace(body, `"force_refresh":false`, `"force_refresh":true`, 1)
	}
	return post(t, s, pathStableToken, body)
}

// createMenu posts simpleMenu with token and returns the errcode.
func createMenu(t *testing.T, s *wechattest.Server, token string) int {
	t.Helper()
	return post(t, s, pathMenuCreate, simpleMenu, "access_token", token).ErrCode
}

// checkTokenShape checks what clients rely on in a global token reply.
func checkTokenShape(t *testing.T, s *wechattest.Server, r reply) {
	t.Helper()
	if len(r.AccessToken) < 64 || !isURLSafe(r.AccessToken) {
		t.Errorf("access_token: got %q, want at least 64 characters of [A-Za-z0-9_-]", r.AccessToken)
	}
	if strings.Contains(r.body, s.AppSecret) {
		t.Errorf("reply %q echoes the secret", r.body)
	}
}

func TestGlobalTokenErrors(t *testing.T) {
	tests := []struct {
		name  string
		pairs func(s *wechattest.Server) []string
		want  int
	}{
		{"ok", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret}
		}, 0},
		{"missing appid", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "secret", s.AppSecret}
		}, 41002},
		{"unknown appid", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "appid", "wx9999999999999999", "secret", s.AppSecret}
		}, 40013},
		{"website app has no global token", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "appid", s.WebsiteAppID, "secret", s.WebsiteAppSecret}
		}, 40013},
		{"missing secret", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "appid", s.AppID}
		}, 41004},
		{"wrong secret", func(s *wechattest.Server) []string {
			return []string{"grant_type", "client_credential", "appid", s.AppID, "secret", "not-the-secret"}
		}, 40125},
		{"wrong grant_type", func(s *wechattest.Server) []string {
			return []string{"grant_type", "authorization_code", "appid", s.AppID, "secret", s.AppSecret}
		}, 40002},
		{"missing grant_type", func(s *wechattest.Server) []string {
			return []string{"appid", s.AppID, "secret", s.AppSecret}
		}, 40002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			r := call(t, s, pathGlobalToken, tt.pairs(s)...)
			wantErrcode(t, r, tt.want)
			if strings.Contains(r.body, s.AppSecret) {
				t.Errorf("reply %q echoes the secret", r.body)
			}
			if tt.want != 0 {
				return
			}
			checkTokenShape(t, s, r)
			if r.ExpiresIn != 7200 {
				t.Errorf("expires_in: got %d, want 7200", r.ExpiresIn)
			}
		})
	}
}

func TestGlobalTokenReplacedAfterFiveMinutes(t *testing.T) {
	tests := []struct {
		after time.Duration
		want  int
	}{
		{0, 0},
		{4*time.Minute + 59*time.Second, 0},
		{5*time.Minute + 1*time.Second, 40001},
		{3 * time.Hour, 40001}, // replaced first, expired later: still "not latest"
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			s := newServer(t)
			old := globalToken(t, s)
			s.Advance(time.Minute)
			fresh := globalToken(t, s) // a second, uncoordinated fetcher
			if fresh == old {
				t.Fatalf("second fetch gave the same token")
			}
			s.Advance(tt.after)
			if got := createMenu(t, s, old); got != tt.want {
				t.Errorf("old token %v after the new one: got errcode %d, want %d", tt.after, got, tt.want)
			}
			wantFresh := 0
			if tt.after >= 2*time.Hour {
				wantFresh = 42001
			}
			if got := createMenu(t, s, fresh); got != wantFresh {
				t.Errorf("new token: got errcode %d, want %d", got, wantFresh)
			}
		})
	}
}

func TestGlobalTokenExpiry(t *testing.T) {
	s := newServer(t)
	tok := globalToken(t, s)
	s.Advance(7199 * time.Second)
	if got := createMenu(t, s, tok); got != 0 {
		t.Fatalf("at 7199 s: got errcode %d, want 0", got)
	}
	s.Advance(time.Second)
	if got := createMenu(t, s, tok); got != 42001 {
		t.Errorf("at 7200 s: got errcode %d, want 42001", got)
	}
}

func TestTokenQuota(t *testing.T) {
	s := newServer(t)
	s.SetTokenQuota(2)
	globalToken(t, s)
	tok := globalToken(t, s)
	pairs := []string{"grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret}
	wantErrcode(t, call(t, s, pathGlobalToken, pairs...), 45009)
	// The refused fetch replaced nothing.
	s.Advance(10 * time.Minute)
	if got := createMenu(t, s, tok); got != 0 {
		t.Errorf("last token after a refused fetch: got errcode %d, want 0", got)
	}
	// stable_token has its own quota.
	wantErrcode(t, stableToken(t, s, false), 0)
	// A new day (Beijing time) starts a new quota.
	s.Advance(24 * time.Hour)
	wantErrcode(t, call(t, s, pathGlobalToken, pairs...), 0)

	s.SetTokenQuota(0)
	wantErrcode(t, call(t, s, pathGlobalToken, pairs...), 45009)
	defer func() {
		if recover() == nil {
			t.Errorf("SetTokenQuota(-1): got no panic, want one")
		}
	}()
	s.SetTokenQuota(-1)
}

func TestTokenQuotaDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("2000 requests")
	}
	s := newServer(t)
	u := s.URL + pathGlobalToken + "?" + query("grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret)
	for i := range 2000 {
		resp, err := s.Client().Get(u)
		if err != nil {
			t.Fatalf("fetch %d: %v", i+1, err)
		}
		if r := decodeReply(t, pathGlobalToken, resp); r.ErrCode != 0 {
			t.Fatalf("fetch %d: got errcode %d, want 0", i+1, r.ErrCode)
		}
	}
	wantErrcode(t, call(t, s, pathGlobalToken, "grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret), 45009)
}

func TestStableTokenSameUntilFiveMinutesLeft(t *testing.T) {
	s := newServer(t)
	first := stableToken(t, s, false)
	wantErrcode(t, first, 0)
	checkTokenShape(t, s, first)
	if first.ExpiresIn != 7200 {
		t.Errorf("first expires_in: got %d, want 7200", first.ExpiresIn)
	}

	steps := []struct {
		advance   time.Duration
		same      bool
		expiresIn int
	}{
		{time.Hour, true, 3600},
		{time.Hour - 5*time.Minute - time.Second, true, 301},
		{2 * time.Second, false, 7200}, // 299 s left: a new token
	}
	for _, st := range steps {
		s.Advance(st.advance)
		r := stableToken(t, s, false)
		wantErrcode(t, r, 0)
		// The emulator's clock runs with the wall clock: allow a second.
		if (r.AccessToken == first.AccessToken) != st.same || r.ExpiresIn < st.expiresIn-1 || r.ExpiresIn > st.expiresIn {
			t.Fatalf("after %v more: got same=%v expires_in %d, want same=%v expires_in %d",
				st.advance, r.AccessToken == first.AccessToken, r.ExpiresIn, st.same, st.expiresIn)
		}
		if r.ExpiresIn < 300 {
			t.Errorf("expires_in %d < 300", r.ExpiresIn)
		}
	}
	// The old token works until its own expiry, 299 s on, not a moment longer.
	if got := createMenu(t, s, first.AccessToken); got != 0 {
		t.Errorf("old stable token before its expiry: got errcode %d, want 0", got)
	}
	s.Advance(299 * time.Second)
	if got := createMenu(t, s, first.AccessToken); got != 42001 {
		t.Errorf("old stable token at its expiry: got errcode %d, want 42001", got)
	}
}

func TestStableTokenApartFromToken(t *testing.T) {
	s := newServer(t)
	stable := stableToken(t, s, false).AccessToken
	plain := globalToken(t, s)
	if plain == stable {
		t.Fatalf("/cgi-bin/token gave the stable token")
	}
	globalToken(t, s)
	globalToken(t, s)
	s.Advance(6 * time.Minute)
	if got := createMenu(t, s, plain); got != 40001 {
		t.Errorf("replaced /cgi-bin/token token: got errcode %d, want 40001", got)
	}
	if got := createMenu(t, s, stable); got != 0 {
		t.Errorf("stable token after /cgi-bin/token fetches: got errcode %d, want 0", got)
	}
	if r := stableToken(t, s, false); r.AccessToken != stable {
		t.Errorf("stable_token after /cgi-bin/token fetches: got a new token, want the same")
	}
	// A forced refresh leaves /cgi-bin/token's tokens alone.
	latest := globalToken(t, s)
	wantErrcode(t, stableToken(t, s, true), 0)
	if got := createMenu(t, s, latest); got != 0 {
		t.Errorf("/cgi-bin/token token after force_refresh: got errcode %d, want 0", got)
	}
}

func TestStableTokenForceRefresh(t *testing.T) {
	s := newServer(t)
	first := stableToken(t, s, false).AccessToken
	forced := stableToken(t, s, true)
	wantErrcode(t, forced, 0)
	if forced.AccessToken == first || forced.ExpiresIn != 7200 {
		t.Fatalf("force_refresh: got same=%v expires_in %d, want a new token for 7200 s", forced.AccessToken == first, forced.ExpiresIn)
	}
	if got := createMenu(t, s, first); got != 40001 {
		t.Errorf("token replaced by force_refresh: got errcode %d, want 40001 at once", got)
	}
	if r := stableToken(t, s, false); r.AccessToken != forced.AccessToken {
		t.Errorf("normal mode after force_refresh: got another token, want the forced one")
	}

	s.Advance(29 * time.Second)
	wantErrcode(t, stableToken(t, s, true), 45011)
	if got := createMenu(t, s, forced.AccessToken); got != 0 {
		t.Errorf("token after a refused force_refresh: got errcode %d, want 0", got)
	}
	s.Advance(time.Second)
	wantErrcode(t, stableToken(t, s, true), 0) // 2 of 20 today

	for i := 3; i <= 20; i++ {
		s.Advance(30 * time.Second)
		wantErrcode(t, stableToken(t, s, true), 0)
	}
	s.Advance(time.Minute)
	wantErrcode(t, stableToken(t, s, true), 45009)
	wantErrcode(t, stableToken(t, s, false), 0) // normal mode goes on
	s.Advance(24 * time.Hour)
	wantErrcode(t, stableToken(t, s, true), 0)
}

func TestStableTokenErrors(t *testing.T) {
	s := newServer(t)
	body := func(appID, secret, grantType string) string {
		return `{"grant_type":"` + grantType + `","appid":"` + appID + `","secret":"` + secret + `"}`
	}
	tests := []struct {
		name, body string
		want       int
	}{
		{"ok", body(s.AppID, s.AppSecret, "client_credential"), 0},
		{"not JSON", "grant_type=client_credential", 47001},
		{"empty body", "", 47001},
		{"force_refresh as a string", `{"grant_type":"client_credential","appid":"` + s.AppID + `","secret":"` + s.AppSecret + `","force_refresh":"true"}`, 47001},
		{"missing appid", `{"grant_type":"client_credential","secret":"` + s.AppSecret + `"}`, 41002},
		{"unknown appid", body("wx9999999999999999", s.AppSecret, "client_credential"), 40013},
		{"missing secret", `{"grant_type":"client_credential","appid":"` + s.AppID + `"}`, 41004},
		{"wrong secret", body(s.AppID, "not-the-secret", "client_credential"), 40125},
		{"wrong grant_type", body(s.AppID, s.AppSecret, "refresh_token"), 40002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s, pathStableToken, tt.body)
			wantErrcode(t, r, tt.want)
			if strings.Contains(r.body, s.AppSecret) {
				t.Errorf("reply %q echoes the secret", r.body)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		wantErrcode(t, call(t, s, pathStableToken, "grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret), 43002)
	})
}

func TestMenuCreateTokenErrors(t *testing.T) {
	s := newServer(t)
	web := login(t, s, "", "snsapi_userinfo").AccessToken
	tests := []struct {
		name, token string
		want        int
	}{
		{"ok", globalToken(t, s), 0},
		{"missing", "", 41001},
		{"unknown", strings.Repeat("A", 128), 40001},
		{"a user's web-auth token", web, 40001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs := []string{"access_token", tt.token}
			if tt.token == "" {
				pairs = nil
			}
			r := post(t, s, pathMenuCreate, simpleMenu, pairs...)
			wantErrcode(t, r, tt.want)
			if tt.token != "" && strings.Contains(r.body, tt.token) {
				t.Errorf("reply %q echoes the token", r.body)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		wantErrcode(t, call(t, s, pathMenuCreate, "access_token", globalToken(t, s)), 43002)
	})
}

func TestGlobalTokenFaults(t *testing.T) {
	s := newServer(t)
	s.FailNext(pathGlobalToken, -1)
	s.FailNext(pathStableToken, 45011)
	s.FailNext(pathMenuCreate, 40001)
	wantErrcode(t, call(t, s, pathGlobalToken, "grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret), -1)
	wantErrcode(t, stableToken(t, s, false), 45011)
	tok := globalToken(t, s)
	if got := createMenu(t, s, tok); got != 40001 {
		t.Errorf("menu/create after FailNext: got errcode %d, want 40001", got)
	}
	if got := createMenu(t, s, tok); got != 0 {
		t.Errorf("menu/create after the failure: got errcode %d, want 0", got)
	}

	// A dropped fetch still issues a token, which replaces the previous one.
	s.DropNext(pathGlobalToken)
	if resp, err := freshConnections(s).Get(s.URL + pathGlobalToken + "?" + query("grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret)); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped fetch: got HTTP %d, want a connection error", resp.StatusCode)
	}
	s.Advance(6 * time.Minute)
	if got := createMenu(t, s, tok); got != 40001 {
		t.Errorf("token before a dropped fetch: got errcode %d, want 40001", got)
	}

	s.SetLatency(time.Hour)
	c := *s.Client()
	c.Timeout = 50 * time.Millisecond
	if resp, err := c.Post(s.URL+pathStableToken, "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
		t.Errorf("stable_token with an hour of latency: got HTTP %d, want a timeout", resp.StatusCode)
	}
	s.SetLatency(0)

	for path, want := range map[string]int{pathGlobalToken: 3, pathStableToken: 2, pathMenuCreate: 3} {
		if got := s.Calls(path); got != want {
			t.Errorf("Calls(%q): got %d, want %d", path, got, want)
		}
	}
}

func TestGlobalTokenConcurrent(t *testing.T) {
	s := newServer(t)
	s.SetTokenQuota(40)
	const n = 32
	do := func(method, path, body string) reply {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return reply{}
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Error(err)
			return reply{}
		}
		r, err := readReply(resp)
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
		return r
	}
	stableBody := `{"grant_type":"client_credential","appid":"` + s.AppID + `","secret":"` + s.AppSecret + `"}`
	tokenPath := pathGlobalToken + "?" + query("grant_type", "client_credential", "appid", s.AppID, "secret", s.AppSecret)
	var wg sync.WaitGroup
	stable := make(chan string, n)
	plain := make(chan int, n)
	for range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			stable <- do(http.MethodPost, pathStableToken, stableBody).AccessToken
		}()
		go func() {
			defer wg.Done()
			r := do(http.MethodGet, tokenPath, "")
			plain <- r.ErrCode
			if r.ErrCode == 0 {
				do(http.MethodPost, pathMenuCreate+"?access_token="+r.AccessToken, simpleMenu)
			}
		}()
		go func() {
			defer wg.Done()
			s.Menu()
			s.Calls(pathMenuCreate)
		}()
	}
	s.Advance(time.Second)
	wg.Wait()
	close(stable)
	close(plain)
	var first string
	for tok := range stable {
		if first == "" {
			first = tok
		}
		if tok != first || tok == "" {
			t.Fatalf("concurrent stable_token calls: got different tokens, want one")
		}
	}
	ok := 0
	for code := range plain {
		if code == 0 {
			ok++
		}
	}
	if ok != n {
		t.Errorf("/cgi-bin/token within the quota: got %d successes, want %d", ok, n)
	}
	if s.Menu() == nil {
		t.Errorf("Menu: got nil after concurrent creates")
	}
}

func TestEndpointsIncludeQRConnect(t *testing.T) {
	s := newServer(t)
	if got, want := s.Endpoints().QRConnect, s.URL+"/connect/qrconnect"; got != want {
		t.Errorf("Endpoints().QRConnect: got %q, want %q", got, want)
	}
	if s.WebsiteAppID == "" || s.WebsiteAppID == s.AppID || s.WebsiteAppSecret == "" || s.WebsiteAppSecret == s.AppSecret {
		t.Errorf("website app: got appid %q secret %q, want its own of each", s.WebsiteAppID, s.WebsiteAppSecret)
	}
}

// The emulator answers every API call with HTTP 200, including a GET on a
// POST-only endpoint.
func TestCGIAnswersHTTP200(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{pathStableToken, pathMenuCreate} {
		resp, err := s.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got HTTP %d, want 200", path, resp.StatusCode)
		}
	}
}
