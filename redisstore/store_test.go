package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/storetest"
)

// newStore starts a redis-server and returns it with a Store on its pool.
func newStore(t *testing.T) (*redistest.Server, *redisstore.Store) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, redisstore.New(srv.Pool())
}

// do runs one command on srv, for looking at the keys a Store wrote.
func do(t *testing.T, srv *redistest.Server, cmd string, args ...any) any {
	t.Helper()
	c := srv.Pool().Get()
	defer c.Close()
	reply, err := c.Do(cmd, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", cmd, args, err)
	}
	return reply
}

// pttl is the time to live of key: -1 when it has none, -2 when it does
// not exist.
func pttl(t *testing.T, srv *redistest.Server, key string) time.Duration {
	t.Helper()
	ms, err := redis.Int64(do(t, srv, "PTTL", key), nil)
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	if ms < 0 {
		return time.Duration(ms)
	}
	return time.Duration(ms) * time.Millisecond
}

// wantTTL checks that key expires in (want-slack, want].
func wantTTL(t *testing.T, srv *redistest.Server, key string, want time.Duration) {
	t.Helper()
	const slack = time.Minute
	if got := pttl(t, srv, key); got > want || got <= want-min(slack, want/2) {
		t.Errorf("PTTL %s: got %v, want about %v", key, got, want)
	}
}

// allKeys lists every key in srv with SCAN.
func allKeys(t *testing.T, srv *redistest.Server) []string {
	t.Helper()
	var keys []string
	cursor := "0"
	for {
		reply, err := redis.Values(do(t, srv, "SCAN", cursor, "COUNT", 100), nil)
		if err != nil || len(reply) != 2 {
			t.Fatalf("SCAN: %v, %v", reply, err)
		}
		cursor, _ = redis.String(reply[0], nil)
		batch, _ := redis.Strings(reply[1], nil)
		keys = append(keys, batch...)
		if cursor == "0" {
			break
		}
	}
	slices.Sort(keys)
	return keys
}

// The store contract (found, not found, replacing, unionid lookup, atomic
// claims, expiry) is TestStoreContract's; the tests here check what Redis
// adds: keys, their expiry and Redis failures.

func TestUsersHaveNoExpiry(t *testing.T) {
	srv, store := newStore(t)
	if err := store.SaveUser(context.Background(), wechatauth.User{OpenID: "oAlice", UnionID: "uAlice"}); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	// Users are a table: no expiry unless asked.
	for _, key := range []string{"wechatauth:user:oAlice", "wechatauth:unionid:uAlice"} {
		if got := pttl(t, srv, key); got != -1 {
			t.Errorf("PTTL of %s: got %v, want -1 (none)", key, got)
		}
	}
}

func TestTokensExpireWithTheRefreshToken(t *testing.T) {
	srv, store := newStore(t)
	if err := store.SaveToken(context.Background(), mp.Token{OpenID: "oAlice", AccessToken: "a", RefreshToken: "r"}); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	// Kept for the refresh token's life, then gone.
	wantTTL(t, srv, "wechatauth:token:oAlice", 30*24*time.Hour)
}

func TestUserTTL(t *testing.T) {
	srv, store := newStore(t)
	store.UserTTL = 90 * 24 * time.Hour
	ctx := context.Background()
	if err := store.SaveUser(ctx, wechatauth.User{OpenID: "oBob"}); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	key := "wechatauth:user:oBob"
	wantTTL(t, srv, key, store.UserTTL)

	// Reading a user renews it: a user who keeps logging in is kept.
	do(t, srv, "PEXPIRE", key, 5000)
	if _, err := store.User(ctx, "oBob"); err != nil {
		t.Fatalf("User: %v", err)
	}
	wantTTL(t, srv, key, store.UserTTL)
}

func TestCallbackLifecycle(t *testing.T) {
	srv, store := newStore(t)
	ctx := context.Background()
	const key, ttl = "login:0123abcd", 10 * time.Minute
	redisKey := "wechatauth:login:" + key

	if _, err := store.Record(ctx, key); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Record before any claim: got %v, want an error wrapping ErrNotFound", err)
	}

	if ok, err := store.Claim(ctx, key, ttl); !ok || err != nil {
		t.Fatalf("first Claim: got %v, %v; want true", ok, err)
	}
	wantTTL(t, srv, redisKey, ttl)
	if rec, err := store.Record(ctx, key); rec != nil || err != nil {
		t.Errorf("Record while claimed: got %q, %v; want nil, nil", rec, err)
	}
	if ok, err := store.Claim(ctx, key, ttl); ok || err != nil {
		t.Errorf("Claim while claimed: got %v, %v; want false", ok, err)
	}

	// An empty record lets go: the key is gone and the next Claim wins.
	if err := store.Finish(ctx, key, nil, ttl); err != nil {
		t.Fatalf("Finish with no record: %v", err)
	}
	if got := pttl(t, srv, redisKey); got != -2 {
		t.Errorf("PTTL after letting go: got %v, want -2 (no key)", got)
	}
	if _, err := store.Record(ctx, key); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Record after letting go: got %v, want an error wrapping ErrNotFound", err)
	}
	if ok, err := store.Claim(ctx, key, ttl); !ok || err != nil {
		t.Fatalf("Claim after letting go: got %v, %v; want true", ok, err)
	}

	// A record is kept for its ttl and ends every later claim.
	record := []byte(`{"u":{"OpenID":"oAlice"},"r":"/account/"}`)
	if err := store.Finish(ctx, key, record, 2*time.Minute); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	wantTTL(t, srv, redisKey, 2*time.Minute)
	if rec, err := store.Record(ctx, key); string(rec) != string(record) || err != nil {
		t.Errorf("Record after Finish: got %q, %v; want %q", rec, err, record)
	}
	if ok, err := store.Claim(ctx, key, ttl); ok || err != nil {
		t.Errorf("Claim after Finish: got %v, %v; want false", ok, err)
	}
}

func TestClaimRefusesNonPositiveTTL(t *testing.T) {
	srv, store := newStore(t)
	for _, ttl := range []time.Duration{0, -time.Second} {
		ok, err := store.Claim(context.Background(), "login:k", ttl)
		if ok || err == nil {
			t.Errorf("Claim with ttl %v: got %v, %v; want false and an error", ttl, ok, err)
		}
	}
	if keys := allKeys(t, srv); len(keys) != 0 {
		t.Errorf("keys after refused claims: got %q, want none (a claim without expiry would never end)", keys)
	}
}

func TestKeysStayUnderPrefix(t *testing.T) {
	for _, prefix := range []string{redisstore.DefaultPrefix, "shop-7:"} {
		t.Run(fmt.Sprintf("prefix %q", prefix), func(t *testing.T) {
			srv, store := newStore(t)
			if store.Prefix != redisstore.DefaultPrefix {
				t.Fatalf("Prefix of New: got %q, want %q", store.Prefix, redisstore.DefaultPrefix)
			}
			store.Prefix = prefix
			ctx := context.Background()
			steps := []error{
				store.SaveUser(ctx, wechatauth.User{OpenID: "oAlice"}),
				store.SaveToken(ctx, mp.Token{OpenID: "oAlice", AccessToken: "a", RefreshToken: "r"}),
				store.Finish(ctx, "login:done", []byte("record"), time.Minute),
				store.Finish(ctx, "login:dropped", nil, time.Minute),
			}
			_, err := store.Claim(ctx, "login:held", time.Minute)
			steps = append(steps, err)
			for i, err := range steps {
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			want := []string{
				prefix + "login:login:done",
				prefix + "login:login:held",
				prefix + "token:oAlice",
				prefix + "user:oAlice",
			}
			if got := allKeys(t, srv); !slices.Equal(got, want) {
				t.Errorf("keys: got %q, want %q", got, want)
			}
		})
	}
}

func TestErrorsWhileRedisIsDown(t *testing.T) {
	srv, store := newStore(t)
	ctx := context.Background()
	secret := mp.Token{OpenID: "oAlice", AccessToken: "ACCESS-SECRET-1", RefreshToken: "REFRESH-SECRET-1"}
	if err := store.SaveToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	srv.Kill()

	calls := map[string]func() error{
		"User":      func() error { _, err := store.User(ctx, "oAlice"); return err },
		"SaveUser":  func() error { return store.SaveUser(ctx, wechatauth.User{OpenID: "oAlice"}) },
		"Token":     func() error { _, err := store.Token(ctx, "oAlice"); return err },
		"SaveToken": func() error { return store.SaveToken(ctx, secret) },
		"Claim": func() error {
			ok, err := store.Claim(ctx, "login:k", time.Minute)
			if ok {
				t.Errorf("Claim while Redis is down: got true, want false")
			}
			return err
		},
		"Record":       func() error { _, err := store.Record(ctx, "login:k"); return err },
		"Finish":       func() error { return store.Finish(ctx, "login:k", []byte("rec"), time.Minute) },
		"Finish empty": func() error { return store.Finish(ctx, "login:k", nil, time.Minute) },
	}
	for name, call := range calls {
		err := call()
		switch {
		case err == nil:
			t.Errorf("%s while Redis is down: got no error", name)
		case errors.Is(err, wechatauth.ErrNotFound):
			// The Auth would take the user for a new one, or the callback as
			// unknown, and overwrite or refuse.
			t.Errorf("%s while Redis is down: got %v, which wraps ErrNotFound; want a failure", name, err)
		case !strings.HasPrefix(err.Error(), "redisstore: "):
			t.Errorf("%s: got %q, want it to start with %q", name, err, "redisstore: ")
		case strings.Contains(err.Error(), "SECRET"):
			t.Errorf("%s: error %q holds a token", name, err)
		}
	}

	srv.Restart()
	if err := store.SaveToken(ctx, secret); err != nil {
		t.Fatalf("SaveToken after Restart: %v", err)
	}
	if got, err := store.Token(ctx, "oAlice"); err != nil || got.RefreshToken != secret.RefreshToken {
		t.Errorf("Token after Restart: got %q, %v; want %q", got.RefreshToken, err, secret.RefreshToken)
	}
}

func TestUnreadableValues(t *testing.T) {
	srv, store := newStore(t)
	ctx := context.Background()
	do(t, srv, "SET", "wechatauth:user:oAlice", "not json")
	do(t, srv, "SET", "wechatauth:token:oAlice", `{"access_token":"ACCESS-SECRET-2",`)
	if _, err := store.User(ctx, "oAlice"); err == nil || errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("User of an unreadable value: got %v, want a failure", err)
	}
	_, err := store.Token(ctx, "oAlice")
	if err == nil || errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Token of an unreadable value: got %v, want a failure", err)
	} else if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Token error %q holds a token", err)
	}
}

func TestCallsHonourTheContextDeadline(t *testing.T) {
	srv, store := newStore(t)
	// Hold every write for ten seconds, as an overloaded Redis would.
	do(t, srv, "CLIENT", "PAUSE", 10000, "WRITE")
	t.Cleanup(func() { do(t, srv, "CLIENT", "UNPAUSE") })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := store.Claim(ctx, "login:slow", time.Minute)
	// The pool's own read timeout is 5 s, and Redis holds the write for 10:
	// only the context ends it sooner, however busy the machine.
	if elapsed := time.Since(start); elapsed >= 5*time.Second {
		t.Errorf("Claim returned after %v, want about the context's 100ms", elapsed)
	}
	// Either way a timeout, which wechatauth.HTTPStatus answers with 504.
	var netErr net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &netErr) && netErr.Timeout()) {
		t.Errorf("Claim past the deadline: got %v, want a timeout", err)
	}
}

func TestStoreUsers(t *testing.T) {
	storetest.TestUserStore(t, func(t *testing.T) wechatauth.UserStore { _, s := newStore(t); return s })
}

func TestStoreTokens(t *testing.T) {
	storetest.TestTokenStore(t, func(t *testing.T) wechatauth.TokenStore { _, s := newStore(t); return s })
}

func TestStoreCallbacks(t *testing.T) {
	storetest.TestCallbackStore(t, func(t *testing.T) wechatauth.CallbackStore { _, s := newStore(t); return s })
}
