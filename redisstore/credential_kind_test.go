package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
)

// TestCredentialCacheOfAnotherKind: a kind that mp does not name, as
// another package's credential would be, gets the same four keys after
// its own name, and the cache is a BackoffCache and a RenewLimiter.
func TestCredentialCacheOfAnotherKind(t *testing.T) {
	srv := redistest.Start(t)
	const kind mp.CredentialKind = "corp_access_token"
	const account = "ww0123456789abcdef/1000002"
	cache := redisstore.New(srv.Pool()).CredentialCache(kind, account)
	ctx := context.Background()
	if err := cache.Save(ctx, mp.Credential{Value: "C1", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unlock, err := cache.TryLock(ctx, time.Minute)
	if unlock == nil || err != nil {
		t.Fatalf("TryLock: got the lock %v, error %v", unlock != nil, err)
	}
	defer unlock(ctx)
	b, ok := cache.(mp.BackoffCache)
	if !ok {
		t.Fatalf("%T is not an mp.BackoffCache", cache)
	}
	if err := b.SaveFailure(ctx, mp.Failure{Code: mp.CodeBusy, Count: 1, Until: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	l, ok := cache.(mp.RenewLimiter)
	if !ok {
		t.Fatalf("%T is not an mp.RenewLimiter", cache)
	}
	if allowed, err := l.AllowRenew(ctx, time.Minute); !allowed || err != nil {
		t.Fatalf("AllowRenew: got %v, %v; want true, nil", allowed, err)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	for _, key := range []string{
		"wechatauth:corp_access_token:" + account,
		"wechatauth:corp_access_token_lock:" + account,
		"wechatauth:corp_access_token_backoff:" + account,
		"wechatauth:corp_access_token_renew:" + account,
	} {
		if n, err := conn.Do("EXISTS", key); err != nil || n.(int64) != 1 {
			t.Errorf("key %q: EXISTS got %v, %v; want 1", key, n, err)
		}
	}
	// Errors name the credential by its kind.
	if _, err := conn.Do("SET", "wechatauth:corp_access_token:"+account, "garbage"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Load(ctx); err == nil || !strings.Contains(err.Error(), "corp access token") {
		t.Errorf("Load of a malformed value: got %v, want an error naming the corp access token", err)
	}
}

// TestCredentialCacheKindsOfMP: mp's two kinds keep the keys of v0.1.0,
// and credentials of different kinds or accounts do not meet.
func TestCredentialCacheKindsOfMP(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	ctx := context.Background()
	conn := srv.Pool().Get()
	defer conn.Close()
	for _, tc := range []struct {
		kind mp.CredentialKind
		key  string
	}{
		{mp.AccessTokenCredential, "wechatauth:access_token:wxApp"},
		{mp.JSAPITicketCredential, "wechatauth:jsapi_ticket:wxApp"},
	} {
		value := "V-" + string(tc.kind)
		if err := store.CredentialCache(tc.kind, "wxApp").Save(ctx, mp.Credential{Value: value, Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		v, err := conn.Do("GET", tc.key)
		if s, _ := v.([]byte); err != nil || !strings.HasSuffix(string(s), " "+value) {
			t.Errorf("%s: %q holds %q, %v; want the credential %q", tc.kind, tc.key, v, err, value)
		}
	}
	if _, err := store.CredentialCache(mp.AccessTokenCredential, "wxOther").Load(ctx); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("another account's access_token: got %v, want ErrNotFound", err)
	}
}

// TestCredentialCacheRefusesKinds: a kind that could meet the store's own
// keys or another kind's panics, naming the method.
func TestCredentialCacheRefusesKinds(t *testing.T) {
	store := redisstore.New(nil)
	for _, kind := range []mp.CredentialKind{"", "Access_Token", "access token", "a:b", "user", "token", "unionid", "login", "access_token_lock", "jsapi_ticket_backoff", "x_renew"} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "redisstore: Store.CredentialCache: ") {
					t.Errorf("kind %q: recovered %v, want a panic naming Store.CredentialCache", kind, r)
				}
			}()
			store.CredentialCache(kind, "wxApp")
		}()
	}
	for _, kind := range []mp.CredentialKind{mp.AccessTokenCredential, mp.JSAPITicketCredential, "component_access_token", "agent_config_ticket2"} {
		store.CredentialCache(kind, "wxApp") // no panic
	}
}
