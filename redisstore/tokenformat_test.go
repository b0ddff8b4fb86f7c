package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// Tokens saved by v0.1.0, as JSON with long keys, are still read; new
// ones are saved in fewer bytes.
func TestTokensOfTheFirstReleaseAreRead(t *testing.T) {
	srv, store := newStore(t)
	ctx := context.Background()
	do(t, srv, "SET", "wechatauth:token:oAlice", `{"access_token":"ACCESS","refresh_token":"REFRESH","expiry":"2026-12-06T10:00:00Z","openid":"oAlice","unionid":"uAlice","scope":"snsapi_userinfo","appid":"wx0000000000000001"}`)
	want := mp.Token{AccessToken: "ACCESS", RefreshToken: "REFRESH", Expiry: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC),
		OpenID: "oAlice", UnionID: "uAlice", Scope: "snsapi_userinfo", AppID: "wx0000000000000001"}
	got, err := store.Token(ctx, "oAlice")
	if err != nil || got != want {
		t.Fatalf("Token of a v0.1.0 record: got %+v, %v; want %+v", got, err, want)
	}
	old := len(do(t, srv, "GET", "wechatauth:token:oAlice").([]byte))
	if err := store.SaveToken(ctx, want); err != nil {
		t.Fatal(err)
	}
	now := len(do(t, srv, "GET", "wechatauth:token:oAlice").([]byte))
	if got, err := store.Token(ctx, "oAlice"); err != nil || got != want {
		t.Errorf("Token after SaveToken: got %+v, %v; want %+v", got, err, want)
	}
	t.Logf("a token record: %d bytes, %d in v0.1.0's format", now, old)
	if now >= old {
		t.Errorf("a token record: %d bytes, %d in v0.1.0's format; want fewer", now, old)
	}
}
