package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/component"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
)

// testAuthorizerStore checks what every component.AuthorizerStore does.
func testAuthorizerStore(t *testing.T, s component.AuthorizerStore) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.LoadRefreshToken(ctx, "wx00000000000000a1"); !errors.Is(err, mp.ErrNotFound) {
		t.Fatalf("LoadRefreshToken of none: %v, want mp.ErrNotFound", err)
	}
	for _, kv := range [][2]string{{"wx00000000000000a1", "refreshtoken@@@1"}, {"wx00000000000000a2", "refreshtoken@@@2"}, {"wx00000000000000a1", "refreshtoken@@@1b"}} {
		if err := s.SaveRefreshToken(ctx, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	for appID, want := range map[string]string{"wx00000000000000a1": "refreshtoken@@@1b", "wx00000000000000a2": "refreshtoken@@@2"} {
		if got, err := s.LoadRefreshToken(ctx, appID); err != nil || got != want {
			t.Errorf("LoadRefreshToken(%s) = %q, %v; want %q", appID, got, err, want)
		}
	}
	if err := s.SaveRefreshToken(ctx, "wx00000000000000a3", ""); err == nil {
		t.Error("an empty refresh token was saved")
	}
	if err := s.DeleteRefreshToken(ctx, "wx00000000000000a1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadRefreshToken(ctx, "wx00000000000000a1"); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("LoadRefreshToken after delete: %v, want mp.ErrNotFound", err)
	}
	if err := s.DeleteRefreshToken(ctx, "wx00000000000000a1"); err != nil {
		t.Errorf("deleting a missing refresh token: %v", err)
	}
	if got, err := s.LoadRefreshToken(ctx, "wx00000000000000a2"); err != nil || got != "refreshtoken@@@2" {
		t.Errorf("the other authorizer's refresh token: %q, %v", got, err)
	}
}

func TestMemoryAuthorizerStore(t *testing.T) {
	testAuthorizerStore(t, component.NewMemoryAuthorizerStore())
}

// TestAuthorizers: refresh tokens are shared under the prefix and the
// component appid, kept with no expiry, and never in an error.
func TestAuthorizers(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	store := redisstore.New(srv.Pool())
	store.Prefix = "app1:"
	testAuthorizerStore(t, store.Authorizers("wx00000000000000c1"))

	// Another instance on the same Redis finds them; another platform or
	// prefix does not.
	again := redisstore.New(srv.Pool())
	again.Prefix = "app1:"
	if got, err := again.Authorizers("wx00000000000000c1").LoadRefreshToken(ctx, "wx00000000000000a2"); err != nil || got != "refreshtoken@@@2" {
		t.Errorf("another instance reads %q, %v", got, err)
	}
	if _, err := again.Authorizers("wx00000000000000c2").LoadRefreshToken(ctx, "wx00000000000000a2"); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("another platform reads the refresh token: %v", err)
	}
	if _, err := redisstore.New(srv.Pool()).Authorizers("wx00000000000000c1").LoadRefreshToken(ctx, "wx00000000000000a2"); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("a store of another prefix reads the refresh token: %v", err)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	key := "app1:authorizer_refresh_token:wx00000000000000c1:wx00000000000000a2"
	if ttl, err := redis.Int64(conn.Do("PTTL", key)); err != nil || ttl != -1 {
		t.Errorf("PTTL of %s = %d, %v; want -1 (no expiry)", key, ttl, err)
	}

	// Redis down: the error says what failed, and not the token.
	srv.Kill()
	err := store.Authorizers("wx00000000000000c1").SaveRefreshToken(ctx, "wx00000000000000a2", "refreshtoken@@@secret")
	if err == nil || errors.Is(err, mp.ErrNotFound) || strings.Contains(err.Error(), "refreshtoken@@@secret") {
		t.Errorf("save with Redis down: %v", err)
	}
	if _, err := store.Authorizers("wx00000000000000c1").LoadRefreshToken(ctx, "wx00000000000000a2"); err == nil || errors.Is(err, mp.ErrNotFound) {
		t.Errorf("load with Redis down: %v, want a failure that is not ErrNotFound", err)
	}
}
