package wechattest_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathQueryAuth       = "/cgi-bin/component/api_query_auth"
	pathAuthorizerToken = "/cgi-bin/component/api_authorizer_token"

	authorizerA = "wx00000000000000a1"
	authorizerB = "wx00000000000000a2"
)

// platformToken gets a component_access_token the way a platform does:
// a pushed verify ticket, then api_component_token.
func platformToken(t *testing.T, s *wechattest.Server) string {
	t.Helper()
	pushURL, _ := pushReceiver(t, s)
	ticket, err := s.PushVerifyTicket(pushURL)
	if err != nil {
		t.Fatal(err)
	}
	code, tok, _ := componentToken(t, s, map[string]string{"component_appid": s.ComponentAppID, "component_appsecret": s.ComponentSecret, "component_verify_ticket": ticket})
	if code != 0 || tok == "" {
		t.Fatalf("api_component_token: errcode %d", code)
	}
	return tok
}

// componentReply holds the fields of the authorizer API's answers.
type componentReply struct {
	ErrCode      int    `json:"errcode"`
	ErrMsg       string `json:"errmsg"`
	AccessToken  string `json:"authorizer_access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"authorizer_refresh_token"`
	Info         *struct {
		AppID        string `json:"authorizer_appid"`
		AccessToken  string `json:"authorizer_access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"authorizer_refresh_token"`
		FuncInfo     []struct {
			Category struct {
				ID int `json:"id"`
			} `json:"funcscope_category"`
		} `json:"func_info"`
	} `json:"authorization_info"`
	body string
}

// postComponent POSTs body as JSON to path with rawQuery and decodes the
// answer.
func postComponent(t *testing.T, s *wechattest.Server, path, rawQuery string, body any) componentReply {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := s.Client().Post(s.URL+path+"?"+rawQuery, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r componentReply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: answer %q: %v", path, raw, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; encoding=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	r.body = string(raw)
	return r
}

func wantComponentErrcode(t *testing.T, r componentReply, want int) {
	t.Helper()
	if r.ErrCode != want {
		t.Fatalf("errcode: got %d, want %d (body %q)", r.ErrCode, want, r.body)
	}
	if want != 0 && !strings.Contains(r.ErrMsg, " rid: ") {
		t.Errorf("errmsg %q: want a text ending in a rid", r.ErrMsg)
	}
}

// queryAuth redeems an authorization code with the component token.
func queryAuth(t *testing.T, s *wechattest.Server, token, code string) componentReply {
	t.Helper()
	return postComponent(t, s, pathQueryAuth, "component_access_token="+token,
		map[string]string{"component_appid": s.ComponentAppID, "authorization_code": code})
}

// authorizerToken refreshes an authorizer's access token.
func authorizerToken(t *testing.T, s *wechattest.Server, token, appID, refresh string) componentReply {
	t.Helper()
	return postComponent(t, s, pathAuthorizerToken, "component_access_token="+token,
		map[string]string{"component_appid": s.ComponentAppID, "authorizer_appid": appID, "authorizer_refresh_token": refresh})
}

// authorize redeems a fresh authorization code of appID and returns the
// authorizer's access and refresh tokens.
func authorizeAccount(t *testing.T, s *wechattest.Server, token, appID string) (access, refresh string) {
	t.Helper()
	r := queryAuth(t, s, token, s.AuthorizationCode(appID))
	wantComponentErrcode(t, r, 0)
	return r.Info.AccessToken, r.Info.RefreshToken
}

func TestAuthorizersDefaultsAddRevoke(t *testing.T) {
	s := newServer(t)
	if got := s.Authorizers(); !slices.Equal(got, []string{authorizerA, authorizerB}) {
		t.Fatalf("Authorizers: got %v, want the two defaults", got)
	}
	s.AddAuthorizer("wx00000000000000a3")
	s.AddAuthorizer(authorizerA) // again: no change
	s.RevokeAuthorizer(authorizerA)
	if got := s.Authorizers(); !slices.Equal(got, []string{authorizerB, "wx00000000000000a3"}) {
		t.Fatalf("after AddAuthorizer and RevokeAuthorizer: got %v", got)
	}
	s.AddAuthorizer(authorizerA)
	if got := s.Authorizers(); !slices.Equal(got, []string{authorizerA, authorizerB, "wx00000000000000a3"}) {
		t.Fatalf("after authorizing again: got %v", got)
	}

	a, b := s.AuthorizerOpenID(authorizerA, defaultOpenID), s.AuthorizerOpenID(authorizerB, defaultOpenID)
	if a == b || a == defaultOpenID || a != s.AuthorizerOpenID(authorizerA, defaultOpenID) || len(a) != 28 || a[0] != 'o' || !isURLSafe(a) {
		t.Errorf("AuthorizerOpenID: %q and %q for %q", a, b, defaultOpenID)
	}
	if a == s.AuthorizerOpenID(authorizerA, "oSomeoneElse") || a == s.WebsiteOpenID(defaultOpenID) {
		t.Errorf("AuthorizerOpenID %q is not one person's in one account", a)
	}

	for _, id := range []string{s.AppID, s.ComponentAppID, "wx bad", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddAuthorizer(%q) did not panic", id)
				}
			}()
			s.AddAuthorizer(id)
		}()
	}
}

func TestQueryAuth(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	code := s.AuthorizationCode(authorizerA)
	r := queryAuth(t, s, tok, code)
	wantComponentErrcode(t, r, 0)
	info := r.Info
	if info == nil || info.AppID != authorizerA || info.AccessToken == "" || info.RefreshToken == "" || info.ExpiresIn != 7200 {
		t.Fatalf("authorization_info: %s", r.body)
	}
	var ids []int
	for _, f := range info.FuncInfo {
		ids = append(ids, f.Category.ID)
	}
	if !slices.Contains(ids, 4) {
		t.Errorf("func_info %v lacks 4, web services", ids)
	}
	if !strings.Contains(r.body, `"func_info":[{"funcscope_category":{"id":1}}`) {
		t.Errorf("func_info shape: %s", r.body)
	}

	t.Run("used code", func(t *testing.T) { wantComponentErrcode(t, queryAuth(t, s, tok, code), 61010) })
	t.Run("unknown code", func(t *testing.T) { wantComponentErrcode(t, queryAuth(t, s, tok, "queryauthcode@@@nope"), 61010) })
	t.Run("expired code", func(t *testing.T) {
		c := s.AuthorizationCode(authorizerB)
		s.Advance(time.Hour)
		fresh := platformToken(t, s)
		wantComponentErrcode(t, queryAuth(t, s, fresh, c), 61010)
	})
	tok = platformToken(t, s)
	t.Run("code of a revoked account", func(t *testing.T) {
		c := s.AuthorizationCode(authorizerB)
		s.RevokeAuthorizer(authorizerB)
		wantComponentErrcode(t, queryAuth(t, s, tok, c), 61010)
	})
	t.Run("access_token as the query name", func(t *testing.T) {
		r := postComponent(t, s, pathQueryAuth, "access_token="+tok,
			map[string]string{"component_appid": s.ComponentAppID, "authorization_code": s.AuthorizationCode(authorizerA)})
		wantComponentErrcode(t, r, 0)
	})
	t.Run("token errors", func(t *testing.T) {
		body := func() map[string]string {
			return map[string]string{"component_appid": s.ComponentAppID, "authorization_code": s.AuthorizationCode(authorizerA)}
		}
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, "", body()), 41001)
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, "component_access_token="+strings.Repeat("A", 128), body()), 40001)
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, "component_access_token="+s.ComponentToken, body()), 40001) // easywechat#2049
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, "component_access_token="+globalToken(t, s), body()), 40001)
		access, _ := authorizeAccount(t, s, tok, authorizerA)
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, "component_access_token="+access, body()), 48001)
	})
	t.Run("body errors", func(t *testing.T) {
		q := "component_access_token=" + tok
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, q, map[string]string{"authorization_code": s.AuthorizationCode(authorizerA)}), 41018)
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, q, map[string]string{"component_appid": "wx00000000000000c9", "authorization_code": s.AuthorizationCode(authorizerA)}), 61011)
		wantComponentErrcode(t, postComponent(t, s, pathQueryAuth, q, "not an object"), 47001)
		resp, err := s.Client().Get(s.URL + pathQueryAuth + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), `"errcode":43002`) {
			t.Errorf("GET: %s", raw)
		}
	})
}

// authPushReceiver is a platform's push URL that sends the authorization
// code of each authorization event on a channel.
func authPushReceiver(t *testing.T, s *wechattest.Server) (string, <-chan string) {
	got := make(chan string, 4)
	c := component.Crypto{Token: s.ComponentToken, EncodingAESKey: s.ComponentAESKey, AppID: s.ComponentAppID}
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct{ Encrypt string }
		body, _ := io.ReadAll(r.Body)
		q := r.URL.Query()
		xml.Unmarshal(body, &env)
		msg, err := c.Decrypt(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		var m struct{ AuthorizationCode string }
		xml.Unmarshal(msg, &m)
		got <- m.AuthorizationCode
		io.WriteString(w, "success")
	}))
	t.Cleanup(h.Close)
	return h.URL, got
}

func TestPushedAuthorizationCodesWork(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	pushURL, codes := authPushReceiver(t, s)
	const appID = "wx00000000000000a7"

	if err := s.PushAuthorization(pushURL, "authorized", appID); err != nil {
		t.Fatal(err)
	}
	r := queryAuth(t, s, tok, <-codes)
	wantComponentErrcode(t, r, 0)
	if r.Info.AppID != appID || !slices.Contains(s.Authorizers(), appID) {
		t.Fatalf("after an authorized push: %s, authorizers %v", r.body, s.Authorizers())
	}
	first := r.Info.RefreshToken

	if err := s.PushAuthorization(pushURL, "updateauthorized", appID); err != nil {
		t.Fatal(err)
	}
	r = queryAuth(t, s, tok, <-codes)
	wantComponentErrcode(t, r, 0)
	if r.Info.RefreshToken != first {
		t.Errorf("updateauthorized: refresh token changed")
	}

	if err := s.PushAuthorization(pushURL, "unauthorized", appID); err != nil {
		t.Fatal(err)
	}
	if c := <-codes; c != "" {
		t.Errorf("unauthorized push carried a code %q", c)
	}
	if slices.Contains(s.Authorizers(), appID) {
		t.Errorf("still an authorizer after the unauthorized push")
	}
	wantComponentErrcode(t, authorizerToken(t, s, tok, appID, first), 61023)
}

func TestAuthorizerToken(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	access, refresh := authorizeAccount(t, s, tok, authorizerA)

	r := authorizerToken(t, s, tok, authorizerA, refresh)
	wantComponentErrcode(t, r, 0)
	if r.RefreshToken != refresh || r.AccessToken == "" || r.AccessToken == access || r.ExpiresIn != 7200 {
		t.Fatalf("api_authorizer_token: %s", r.body)
	}
	if !strings.HasPrefix(r.body, `{"authorizer_access_token":`) {
		t.Errorf("reply shape: %s", r.body)
	}
	r = postComponent(t, s, pathAuthorizerToken, "access_token="+tok,
		map[string]string{"component_appid": s.ComponentAppID, "authorizer_appid": authorizerA, "authorizer_refresh_token": refresh})
	wantComponentErrcode(t, r, 0)

	_, refreshB := authorizeAccount(t, s, tok, authorizerB)
	for _, tt := range []struct {
		name           string
		appID, refresh string
	}{
		{"unknown refresh token", authorizerA, "refreshtoken@@@nope"},
		{"empty refresh token", authorizerA, ""},
		{"another authorizer's refresh token", authorizerA, refreshB},
		{"appid not an authorizer", "wx00000000000000ff", refresh},
	} {
		t.Run(tt.name, func(t *testing.T) { wantComponentErrcode(t, authorizerToken(t, s, tok, tt.appID, tt.refresh), 61023) })
	}
	t.Run("authorizer token as component token", func(t *testing.T) {
		wantComponentErrcode(t, authorizerToken(t, s, access, authorizerA, refresh), 48001)
	})
	t.Run("expired component token", func(t *testing.T) {
		s.Advance(7200 * time.Second)
		wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, refresh), 40001)
	})
	tok = platformToken(t, s)
	t.Run("revoked", func(t *testing.T) {
		r := authorizerToken(t, s, tok, authorizerB, refreshB)
		wantComponentErrcode(t, r, 0)
		s.RevokeAuthorizer(authorizerB)
		wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerB, refreshB), 61023)
		wantErrcode(t, call(t, s, pathTicket, "access_token", r.AccessToken, "type", "jsapi"), 40001)
		// Authorized again: the old refresh token stays dead.
		s.AddAuthorizer(authorizerB)
		wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerB, refreshB), 61023)
	})
	t.Run("re-authorization ends the old refresh token", func(t *testing.T) {
		_, newer := authorizeAccount(t, s, tok, authorizerA)
		if newer == refresh {
			t.Fatal("a new authorization gave the old refresh token")
		}
		wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, refresh), 61023)
		wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, newer), 0)
	})
	t.Run("AuthorizerRefreshToken", func(t *testing.T) {
		s.AddAuthorizer("wx00000000000000a5")
		rt := s.AuthorizerRefreshToken("wx00000000000000a5")
		if rt == "" || rt != s.AuthorizerRefreshToken("wx00000000000000a5") {
			t.Fatalf("AuthorizerRefreshToken: %q", rt)
		}
		wantComponentErrcode(t, authorizerToken(t, s, tok, "wx00000000000000a5", rt), 0)
	})
}

func TestAuthorizerRefreshRotation(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	_, r1 := authorizeAccount(t, s, tok, authorizerA)
	s.RotateAuthorizerRefreshTokens(true)

	a := authorizerToken(t, s, tok, authorizerA, r1)
	wantComponentErrcode(t, a, 0)
	r2 := a.RefreshToken
	if r2 == r1 || r2 == "" {
		t.Fatalf("rotation on: got refresh token %q after %q", r2, r1)
	}
	s.Advance(4*time.Minute + 59*time.Second)
	b := authorizerToken(t, s, tok, authorizerA, r1) // within the 5 minutes
	wantComponentErrcode(t, b, 0)
	s.Advance(time.Second) // 5 minutes after r1 was rotated
	wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, r1), 61023)
	wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, r2), 0) // rotated 1 s ago
	s.Advance(5 * time.Minute)
	wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, r2), 61023)

	s.RotateAuthorizerRefreshTokens(false)
	tok = platformToken(t, s)
	_, cur := authorizeAccount(t, s, tok, authorizerA)
	for range 2 {
		r := authorizerToken(t, s, tok, authorizerA, cur)
		wantComponentErrcode(t, r, 0)
		if r.RefreshToken != cur {
			t.Fatalf("rotation off: refresh token changed")
		}
	}
	s.Advance(24 * time.Hour)
	wantComponentErrcode(t, authorizerToken(t, s, platformToken(t, s), authorizerA, cur), 0)
}

// verifyAs asks the stand-in's verify whether a wx.config with appID,
// signed with ticket, passes.
func verifyAs(t *testing.T, s *wechattest.Server, appID, ticket string) string {
	t.Helper()
	const nonce, ts, page = "Wm3WZYTPz0wzccnW", int64(1414587457), "https://app.example/js"
	sum := sha1.Sum([]byte(fmt.Sprintf("jsapi_ticket=%s&noncestr=%s&timestamp=%d&url=%s", ticket, nonce, ts, page)))
	body, _ := json.Marshal(map[string]any{"appId": appID, "timestamp": ts, "nonceStr": nonce, "signature": hex.EncodeToString(sum[:]), "url": page})
	resp, err := s.Client().Post(s.URL+pathJSVerify, "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ ErrMsg string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.ErrMsg
}

func authorizerTicket(t *testing.T, s *wechattest.Server, access string) string {
	t.Helper()
	r := call(t, s, pathTicket, "access_token", access, "type", "jsapi")
	wantErrcode(t, r, 0)
	if r.Ticket == "" || r.ExpiresIn != 7200 {
		t.Fatalf("getticket: %s", r.body)
	}
	return r.Ticket
}

func TestAuthorizerTickets(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	accessA, _ := authorizeAccount(t, s, tok, authorizerA)
	accessB, _ := authorizeAccount(t, s, tok, authorizerB)
	ticketA, ticketB, ticketOA := authorizerTicket(t, s, accessA), authorizerTicket(t, s, accessB), jsapiTicket(t, s)
	if ticketA == ticketB || ticketA == ticketOA || ticketB == ticketOA {
		t.Fatalf("tickets shared: %q %q %q", ticketA, ticketB, ticketOA)
	}
	if again := authorizerTicket(t, s, accessA); again != ticketA {
		t.Errorf("getticket again within 7200 s: a new ticket")
	}

	for _, tt := range []struct {
		name, appID, ticket, want string
	}{
		{"A with A's ticket", authorizerA, ticketA, "config:ok"},
		{"B with B's ticket", authorizerB, ticketB, "config:ok"},
		{"A with B's ticket (silenceper#329)", authorizerA, ticketB, "config:invalid signature"},
		{"B with A's ticket", authorizerB, ticketA, "config:invalid signature"},
		{"A with the Official Account's ticket", authorizerA, ticketOA, "config:invalid signature"},
		{"the platform's appid with A's ticket", s.ComponentAppID, ticketA, "config:invalid signature"},
		{"the Official Account with A's ticket", s.AppID, ticketA, "config:invalid signature"},
	} {
		if got := verifyAs(t, s, tt.appID, tt.ticket); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}

	t.Run("component token", func(t *testing.T) {
		wantErrcode(t, call(t, s, pathTicket, "access_token", tok, "type", "jsapi"), 40001)
	})
	t.Run("other type", func(t *testing.T) {
		wantErrcode(t, call(t, s, pathTicket, "access_token", accessA, "type", "wx_card"), 40097)
	})
	t.Run("quota per account", func(t *testing.T) {
		s.SetTicketQuota(2) // answers spent above: two by A, one by B, one by the Official Account
		wantErrcode(t, call(t, s, pathTicket, "access_token", accessA, "type", "jsapi"), 45009)
		authorizerTicket(t, s, accessB)
		wantErrcode(t, call(t, s, pathTicket, "access_token", accessB, "type", "jsapi"), 45009)
		jsapiTicket(t, s)
		s.SetTicketQuota(math.MaxInt)
	})
	t.Run("StaleTickets", func(t *testing.T) {
		s.StaleTickets()
		if got := verifyAs(t, s, authorizerA, ticketA); got != "config:invalid signature" {
			t.Errorf("stale ticket: %q", got)
		}
		ticketA = authorizerTicket(t, s, accessA)
		if got := verifyAs(t, s, authorizerA, ticketA); got != "config:ok" {
			t.Errorf("fresh ticket after StaleTickets: %q", got)
		}
	})
	t.Run("expired authorizer token", func(t *testing.T) {
		s.Advance(7200 * time.Second)
		wantErrcode(t, call(t, s, pathTicket, "access_token", accessA, "type", "jsapi"), 42001)
	})
	t.Run("revoked", func(t *testing.T) {
		s.RevokeAuthorizer(authorizerB)
		if got := verifyAs(t, s, authorizerB, ticketB); got != "config:invalid signature" {
			t.Errorf("revoked authorizer's config: %q", got)
		}
	})
}

func TestAuthorizerPathsFailNextAndCalls(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	access, refresh := authorizeAccount(t, s, tok, authorizerA)
	s.FailNext(pathQueryAuth, 61004)
	wantComponentErrcode(t, queryAuth(t, s, tok, s.AuthorizationCode(authorizerA)), 61004)
	s.FailNext(pathAuthorizerToken, -1)
	wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, refresh), -1)
	wantComponentErrcode(t, authorizerToken(t, s, tok, authorizerA, refresh), 0)
	s.FailNext(pathTicket, 45009)
	wantErrcode(t, call(t, s, pathTicket, "access_token", access, "type", "jsapi"), 45009)
	if got := s.Calls(pathQueryAuth); got != 2 {
		t.Errorf("Calls(api_query_auth): %d, want 2", got)
	}
	if got := s.Calls(pathAuthorizerToken); got != 2 {
		t.Errorf("Calls(api_authorizer_token): %d, want 2", got)
	}
}
