package component_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	queryAuthPath       = "/cgi-bin/component/api_query_auth"
	authorizerTokenPath = "/cgi-bin/component/api_authorizer_token"
	getTicketPath       = "/cgi-bin/ticket/getticket"
	authorizerA1        = "wx00000000000000a1"
	authorizerA2        = "wx00000000000000a2"
)

// readyPlatform is a Platform that has its verify ticket.
func readyPlatform(t *testing.T, wx *wechattest.Server, edit func(*component.Options)) platform {
	t.Helper()
	p := newPlatform(t, wx, edit)
	if _, err := wx.PushVerifyTicket(p.pushURL); err != nil {
		t.Fatal(err)
	}
	return p
}

// authorize redeems a new authorization code of appID on p.
func authorize(t *testing.T, wx *wechattest.Server, p platform, appID string) component.AuthorizerInfo {
	t.Helper()
	info, err := p.QueryAuth(context.Background(), wx.AuthorizationCode(appID))
	if err != nil {
		t.Fatalf("QueryAuth(%s): %v", appID, err)
	}
	return info
}

// offsetClock is a clock that tests move forward.
type offsetClock struct{ d atomic.Int64 }

func (c *offsetClock) now() time.Time          { return time.Now().Add(time.Duration(c.d.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.d.Add(int64(d)) }

// noSecrets fails the test when s shows one of secrets.
func noSecrets(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(s, secret) {
			t.Errorf("%s shows a secret: %q", what, s)
		}
	}
}

func TestQueryAuthStoresTheRefreshToken(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	store := component.NewMemoryAuthorizerStore()
	p := readyPlatform(t, wx, func(o *component.Options) { o.Authorizers = store })
	ctx := context.Background()

	info := authorize(t, wx, p, authorizerA1)
	if info.AppID != authorizerA1 || !slices.Contains(info.PermissionSets, 4) {
		t.Errorf("QueryAuth = %+v, want %s with permission set 4 (web services)", info, authorizerA1)
	}
	rt, err := store.LoadRefreshToken(ctx, authorizerA1)
	if err != nil || rt == "" || rt != wx.AuthorizerRefreshToken(authorizerA1) {
		t.Fatalf("stored refresh token %q, %v; want the emulator's current one", rt, err)
	}
	// The access token of api_query_auth's reply is cached.
	if tok, err := p.AuthorizerTokens(authorizerA1).Token(ctx); err != nil || tok == "" || wx.Calls(authorizerTokenPath) != 0 {
		t.Errorf("Token after QueryAuth: %q, %v after %d api_authorizer_token calls; want the token of the reply, no call",
			tok, err, wx.Calls(authorizerTokenPath))
	}

	// A stale component token is dropped and the call made again.
	wx.FailNext(queryAuthPath, 40001)
	before := wx.Calls(tokenPath)
	if info := authorize(t, wx, p, authorizerA2); info.AppID != authorizerA2 {
		t.Errorf("QueryAuth after 40001: %+v", info)
	}
	if n := wx.Calls(tokenPath) - before; n != 1 {
		t.Errorf("%d api_component_token calls after a 40001, want 1", n)
	}

	// A spent code is WeChat's refusal, without the code.
	code := wx.AuthorizationCode(authorizerA1)
	if _, err := p.QueryAuth(ctx, code); err != nil {
		t.Fatal(err)
	}
	_, err = p.QueryAuth(ctx, code)
	var ce *component.Error
	if !errors.As(err, &ce) || ce.Code != component.CodeAuthorizationCodeExpired {
		t.Errorf("QueryAuth of a spent code: %v, want *component.Error 61010", err)
	}
	noSecrets(t, "QueryAuth's error", fmt.Sprint(err), code)
}

// sharedCaches is an AuthorizerCredentials whose caches outlive a
// Platform's own memory, as a shared cache does.
func sharedCaches() func(mp.CredentialKind, string) mp.CredentialCache {
	var mu sync.Mutex
	caches := map[string]mp.CredentialCache{}
	return func(kind mp.CredentialKind, appID string) mp.CredentialCache {
		mu.Lock()
		defer mu.Unlock()
		c, ok := caches[string(kind)+":"+appID]
		if !ok {
			c = mp.NewMemoryCache()
			caches[string(kind)+":"+appID] = c
		}
		return c
	}
}

func TestPushHandlerKeepsTheRefreshTokens(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*component.Options)
	}{
		{"default caches on an injected clock", func(o *component.Options) { o.Now = func() time.Time { return time.Now() } }},
		{"shared caches", func(o *component.Options) { o.AuthorizerCredentials = sharedCaches() }},
	} {
		t.Run(tc.name, func(t *testing.T) { testPushHandlerKeepsTheRefreshTokens(t, tc.edit) })
	}
}

func testPushHandlerKeepsTheRefreshTokens(t *testing.T, edit func(*component.Options)) {
	wx := wechattest.NewServer()
	defer wx.Close()
	store := component.NewMemoryAuthorizerStore()
	var mu sync.Mutex
	var events []component.Authorization
	p := readyPlatform(t, wx, func(o *component.Options) {
		edit(o)
		o.Authorizers = store
		o.OnAuthorization = func(_ context.Context, a component.Authorization) error {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, a)
			return nil
		}
	})
	ctx := context.Background()

	// A platform that only mounts the handler keeps every authorizer.
	if err := wx.PushAuthorization(p.pushURL, component.InfoAuthorized, authorizerA1); err != nil {
		t.Fatal(err)
	}
	if rt, err := store.LoadRefreshToken(ctx, authorizerA1); err != nil || rt != wx.AuthorizerRefreshToken(authorizerA1) {
		t.Fatalf("after the authorized push the store has %q, %v; want the emulator's refresh token", rt, err)
	}
	mu.Lock()
	if len(events) != 1 || !slices.Contains(events[0].PermissionSets, 4) {
		t.Errorf("the hook got %+v, want one event with the permission sets", events)
	}
	mu.Unlock()
	tok, err := p.AuthorizerTokens(authorizerA1).Token(ctx)
	if err != nil || tok == "" {
		t.Fatalf("Token after the push: %q, %v", tok, err)
	}
	if _, err := p.JSAPITickets(authorizerA1).Ticket(ctx); err != nil {
		t.Fatalf("Ticket after the push: %v", err)
	}
	if err := wx.PushAuthorization(p.pushURL, component.InfoUpdateAuthorized, authorizerA1); err != nil {
		t.Errorf("updateauthorized: %v", err)
	}

	// Unauthorized: the refresh token and the cached credentials go.
	if err := wx.PushAuthorization(p.pushURL, component.InfoUnauthorized, authorizerA1); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadRefreshToken(ctx, authorizerA1); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("after the unauthorized push the refresh token is still there: %v", err)
	}
	if tok, err := p.AuthorizerTokens(authorizerA1).Token(ctx); !errors.Is(err, component.ErrNotAuthorized) {
		t.Errorf("Token after the unauthorized push: %q, %v; want ErrNotAuthorized, not the cached token", tok, err)
	}
	if _, err := p.JSAPITickets(authorizerA1).Ticket(ctx); !errors.Is(err, component.ErrNotAuthorized) {
		t.Errorf("Ticket after the unauthorized push: %v; want ErrNotAuthorized, not the cached ticket", err)
	}
	mu.Lock()
	if len(events) != 3 || events[2].InfoType != component.InfoUnauthorized {
		t.Errorf("the hook got %d events, want 3 ending with unauthorized", len(events))
	}
	mu.Unlock()
}

// failingSaves is an AuthorizerStore whose saves fail.
type failingSaves struct{ component.AuthorizerStore }

func (failingSaves) SaveRefreshToken(context.Context, string, string) error {
	return errors.New("database down")
}

func TestPushHandlerFailuresAre500WithoutTheCode(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.Authorizers = failingSaves{component.NewMemoryAuthorizerStore()}
	})
	err := wx.PushAuthorization(p.pushURL, component.InfoAuthorized, authorizerA1)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("push with the store down answered %v, want HTTP 500 so that WeChat pushes again", err)
	}
	if log := p.log.String(); !strings.Contains(log, "database down") || !strings.Contains(log, authorizerA1) || strings.Contains(log, "queryauthcode@@@") {
		t.Errorf("log %q: want the reason and the appid, never the code", log)
	}
}

// authorizedXML is an authorized event of appID with code, created now.
func authorizedXML(componentAppID, appID, code string) string {
	return fmt.Sprintf("<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>authorized</InfoType><AuthorizerAppid>%s</AuthorizerAppid><AuthorizationCode>%s</AuthorizationCode><AuthorizationCodeExpiredTime>%d</AuthorizationCodeExpiredTime></xml>",
		componentAppID, time.Now().Unix(), appID, code, time.Now().Add(time.Hour).Unix())
}

// WeChat pushes an event again when the handler answered 500 after
// QueryAuth spent the code: the event then reaches the hook.
func TestPushedAgainAfterTheHookFailed(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	fail, calls := true, 0
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.OnAuthorization = func(context.Context, component.Authorization) error {
			calls++
			if fail {
				return errors.New("database down")
			}
			return nil
		}
	})
	msg := authorizedXML(wx.ComponentAppID, authorizerA1, wx.AuthorizationCode(authorizerA1))
	if st := pushRaw(t, p, p.Crypto(), msg); st != http.StatusInternalServerError {
		t.Fatalf("hook failing: HTTP %d, want 500", st)
	}
	fail = false
	if st := pushRaw(t, p, p.Crypto(), msg); st != http.StatusOK || calls != 2 {
		t.Errorf("the same event again: HTTP %d, hook called %d times; want 200 and a second call", st, calls)
	}
	if _, err := p.AuthorizerTokens(authorizerA1).Token(context.Background()); err != nil {
		t.Errorf("Token: %v", err)
	}
}

// Two instances on one Redis: one api_authorizer_token call however many
// goroutines of both ask, and each authorizer has its own token.
func TestAuthorizerTokenFetchedOnceAcrossInstances(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	srv := redistest.Start(t)
	clock := &offsetClock{}
	shared := func(o *component.Options) {
		store := redisstore.New(srv.Pool())
		o.Now = clock.now
		o.Tickets = store.ComponentTickets(o.AppID)
		o.Credentials.Cache = store.CredentialCache(component.AccessTokenCredential, o.AppID)
		o.Authorizers = store.Authorizers(o.AppID)
		o.AuthorizerCredentials = store.CredentialCache
	}
	p1 := readyPlatform(t, wx, shared)
	p2 := newPlatform(t, wx, shared)
	authorize(t, wx, p1, authorizerA1)
	authorize(t, wx, p1, authorizerA2)
	ctx := context.Background()
	first, err := p2.AuthorizerTokens(authorizerA1).Token(ctx)
	if err != nil || wx.Calls(authorizerTokenPath) != 0 {
		t.Fatalf("the other instance's Token: %q, %v after %d calls; want the token QueryAuth cached", first, err, wx.Calls(authorizerTokenPath))
	}

	clock.advance(3 * time.Hour) // every cached token is past its expiry
	const n = 40
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := p1
			if i%2 == 1 {
				p = p2
			}
			tok, err := p.AuthorizerTokens(authorizerA1).Token(ctx)
			if err != nil {
				t.Errorf("Token: %v", err)
			}
			tokens[i] = tok
		}()
	}
	wg.Wait()
	if calls := wx.Calls(authorizerTokenPath); calls != 1 {
		t.Errorf("%d concurrent Token calls on 2 instances made %d api_authorizer_token calls, want 1", n, calls)
	}
	for _, tok := range tokens {
		if tok != tokens[0] || tok == first {
			t.Fatalf("tokens differ or are the expired one: %q vs %q", tok, tokens[0])
		}
	}
	other, err := p2.AuthorizerTokens(authorizerA2).Token(ctx)
	if err != nil || other == "" || other == tokens[0] {
		t.Errorf("%s's token %q, %v; want its own", authorizerA2, other, err)
	}
}

func TestNoRefreshTokenIsNotAuthorized(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := readyPlatform(t, wx, nil)
	_, err := p.AuthorizerTokens(authorizerA2).Token(context.Background())
	if !errors.Is(err, component.ErrNotAuthorized) || !strings.Contains(err.Error(), authorizerA2) || !strings.Contains(err.Error(), "QueryAuth") {
		t.Errorf("Token of an account that never authorized: %v; want ErrNotAuthorized naming the appid and QueryAuth", err)
	}
	_, err = p.JSAPITickets(authorizerA2).Ticket(context.Background())
	if !errors.Is(err, component.ErrNotAuthorized) {
		t.Errorf("Ticket of an account that never authorized: %v; want ErrNotAuthorized", err)
	}
	for _, path := range []string{tokenPath, authorizerTokenPath, getTicketPath} {
		if n := wx.Calls(path); n != 0 {
			t.Errorf("%d calls to %s", n, path)
		}
	}
}

func TestRevokedAuthorizationIsNamed(t *testing.T) {
	t.Run("process-own caches", func(t *testing.T) { testRevoked(t, nil) })
	t.Run("shared caches", func(t *testing.T) { testRevoked(t, sharedCaches()) })
}

func testRevoked(t *testing.T, caches func(mp.CredentialKind, string) mp.CredentialCache) {
	wx := wechattest.NewServer()
	defer wx.Close()
	clock := &offsetClock{}
	store := component.NewMemoryAuthorizerStore()
	p := readyPlatform(t, wx, func(o *component.Options) {
		o.Now, o.Authorizers, o.AuthorizerCredentials = clock.now, store, caches
	})
	authorize(t, wx, p, authorizerA1)
	rt, _ := store.LoadRefreshToken(context.Background(), authorizerA1)
	wx.RevokeAuthorizer(authorizerA1)

	// The ticket's fetch meets the revoked token (40001), drops it, and
	// the new token's fetch is refused (61023).
	_, err := p.JSAPITickets(authorizerA1).Ticket(context.Background())
	if !errors.Is(err, component.ErrRevoked) || !strings.Contains(err.Error(), authorizerA1) ||
		!strings.Contains(err.Error(), "must authorize the platform again") {
		t.Errorf("Ticket after the revocation: %v; want ErrRevoked naming %s", err, authorizerA1)
	}
	var ce *component.Error
	if !errors.As(err, &ce) || ce.Code != component.CodeInvalidRefreshToken {
		t.Errorf("Ticket after the revocation: %v; want WeChat's 61023 within", err)
	}
	noSecrets(t, "the error", fmt.Sprint(err), rt)
	noSecrets(t, "the log", p.log.String(), rt)

	// Within the back-off the error is still ErrRevoked, without a call.
	calls := wx.Calls(authorizerTokenPath)
	clock.advance(3 * time.Hour)
	_, err = p.AuthorizerTokens(authorizerA1).Token(context.Background())
	if !errors.Is(err, component.ErrRevoked) || !strings.Contains(err.Error(), authorizerA1) {
		t.Errorf("Token after the revocation: %v; want ErrRevoked naming %s", err, authorizerA1)
	}
	_, err = p.AuthorizerTokens(authorizerA1).Token(context.Background())
	var be *mp.BackoffError
	if !errors.Is(err, component.ErrRevoked) || !errors.As(err, &be) || wx.Calls(authorizerTokenPath) != calls+1 {
		t.Errorf("Token again at once: %v after %d more calls; want ErrRevoked from the back-off, one call in all",
			err, wx.Calls(authorizerTokenPath)-calls)
	}

	if _, err := p.JSAPITickets(authorizerA1).Ticket(context.Background()); !errors.Is(err, component.ErrRevoked) {
		t.Errorf("Ticket after the revocation: %v; want ErrRevoked", err)
	}

	// The account authorizes again: its tokens work at once, back-off
	// or not.
	authorize(t, wx, p, authorizerA1)
	if _, err := p.AuthorizerTokens(authorizerA1).Token(context.Background()); err != nil {
		t.Errorf("Token after a new authorization: %v", err)
	}
	if _, err := p.JSAPITickets(authorizerA1).Ticket(context.Background()); err != nil {
		t.Errorf("Ticket after a new authorization: %v", err)
	}
}

// A refresh token that comes back new replaces the stored one.
func TestNewRefreshTokenIsStored(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	clock := &offsetClock{}
	store := component.NewMemoryAuthorizerStore()
	p := readyPlatform(t, wx, func(o *component.Options) { o.Now = clock.now; o.Authorizers = store })
	authorize(t, wx, p, authorizerA1)
	old, _ := store.LoadRefreshToken(context.Background(), authorizerA1)
	wx.RotateAuthorizerRefreshTokens(true)
	clock.advance(3 * time.Hour)
	if _, err := p.AuthorizerTokens(authorizerA1).Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	rt, err := store.LoadRefreshToken(context.Background(), authorizerA1)
	if err != nil || rt == old || rt != wx.AuthorizerRefreshToken(authorizerA1) {
		t.Errorf("stored refresh token after a rotation: changed %v, current %v, %v", rt != old, rt == wx.AuthorizerRefreshToken(authorizerA1), err)
	}
}

// verify asks the emulator's jweixin stand-in whether c signs pageURL.
func verify(t *testing.T, wx *wechattest.Server, c jssdk.Config, pageURL string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"appId": c.AppID, "timestamp": c.Timestamp, "nonceStr": c.NonceStr,
		"signature": c.Signature, "url": pageURL})
	resp, err := wx.Client().Post(wx.URL+"/open/js/verify", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct{ ErrMsg string }
	json.NewDecoder(resp.Body).Decode(&res)
	return res.ErrMsg
}

// Each authorizer's pages are signed with its own jsapi_ticket and
// appid, through one jssdk.Accounts handler.
func TestEachAuthorizerSignsWithItsOwnTicket(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	p := readyPlatform(t, wx, nil)
	authorize(t, wx, p, authorizerA1)
	authorize(t, wx, p, authorizerA2)
	ctx := context.Background()
	t1, err1 := p.JSAPITickets(authorizerA1).Ticket(ctx)
	t2, err2 := p.JSAPITickets(authorizerA2).Ticket(ctx)
	if err1 != nil || err2 != nil || t1 == t2 {
		t.Fatalf("tickets %q, %v and %q, %v; want one of each authorizer's own", t1, err1, t2, err2)
	}
	if n := wx.Calls(getTicketPath); n != 2 {
		t.Errorf("%d getticket calls for 2 authorizers, want 2", n)
	}

	hosts := map[string]string{"a1.example.com": authorizerA1, "a2.example.com": authorizerA2}
	accounts := &jssdk.Accounts{
		Account: func(r *http.Request) string { return hosts[r.Host] },
		New: func(appID string) (*jssdk.Signer, error) {
			return jssdk.New(jssdk.Options{AppID: appID, Tickets: p.JSAPITickets(appID),
				Origins: []string{"https://a1.example.com", "https://a2.example.com"}})
		},
	}
	configs := map[string]jssdk.Config{}
	for host, appID := range hosts {
		page := "https://" + host + "/article?id=1"
		w := httptest.NewRecorder()
		accounts.Handler().ServeHTTP(w, httptest.NewRequest("GET", "https://"+host+"/wechat/jssdk?url="+url.QueryEscape(page), nil))
		var c jssdk.Config
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != 200 {
			t.Fatalf("%s: HTTP %d %s", host, w.Code, w.Body)
		}
		if c.AppID != appID {
			t.Errorf("%s: appId %q, want the authorizer's %q", host, c.AppID, appID)
		}
		if got := verify(t, wx, c, page); got != "config:ok" {
			t.Errorf("%s: the emulator's jweixin says %q, want config:ok", host, got)
		}
		configs[appID] = c
	}
	// A config with the other authorizer's appid fails.
	swapped := configs[authorizerA1]
	swapped.AppID = authorizerA2
	if got := verify(t, wx, swapped, "https://a1.example.com/article?id=1"); got == "config:ok" {
		t.Error("a1's config verifies under a2's appid: the tickets are shared")
	}
	swapped.AppID = wx.ComponentAppID
	if got := verify(t, wx, swapped, "https://a1.example.com/article?id=1"); got == "config:ok" {
		t.Error("a1's config verifies under the platform's appid")
	}
}

// Each authorizer's jsapi_ticket is cached under its own appid in the
// shared cache (one ticket under the platform's appid for all of them
// breaks every account's signatures but the first's), and a second
// instance uses it without a call.
func TestAuthorizerTicketsCachedPerAuthorizer(t *testing.T) {
	wx := wechattest.NewServer()
	defer wx.Close()
	srv := redistest.Start(t)
	shared := func(o *component.Options) {
		store := redisstore.New(srv.Pool())
		o.Tickets = store.ComponentTickets(o.AppID)
		o.Credentials.Cache = store.CredentialCache(component.AccessTokenCredential, o.AppID)
		o.Authorizers = store.Authorizers(o.AppID)
		o.AuthorizerCredentials = store.CredentialCache
	}
	p1 := readyPlatform(t, wx, shared)
	p2 := newPlatform(t, wx, shared)
	authorize(t, wx, p1, authorizerA1)
	authorize(t, wx, p1, authorizerA2)
	ctx := context.Background()
	tickets := map[string]string{}
	for _, appID := range []string{authorizerA1, authorizerA2} {
		tk, err := p1.JSAPITickets(appID).Ticket(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tickets[appID] = tk
	}
	if tickets[authorizerA1] == tickets[authorizerA2] {
		t.Fatal("two authorizers got one jsapi_ticket")
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	for appID, tk := range tickets {
		v, err := redis.String(conn.Do("GET", "wechatauth:authorizer_jsapi_ticket:"+appID))
		if err != nil || !strings.HasSuffix(v, " "+tk) {
			t.Errorf("Redis key of %s's ticket: %v; want its own ticket", appID, err)
		}
		if got, err := p2.JSAPITickets(appID).Ticket(ctx); err != nil || got != tk {
			t.Errorf("the other instance's ticket of %s differs: %v", appID, err)
		}
	}
	if n := wx.Calls(getTicketPath); n != 2 {
		t.Errorf("%d getticket calls for 2 authorizers on 2 instances, want 2", n)
	}
}
