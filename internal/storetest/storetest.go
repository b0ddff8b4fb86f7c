// Package storetest checks a store against the contract of wechatauth's
// UserStore, TokenStore and CallbackStore: found and not found, replacing,
// lookup by unionid, atomic claims, records and their expiry. Each store
// (MemoryStore, redisstore.Store) runs it from its own tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
)

// Store is what the suite tests: all three of wechatauth's stores.
type Store interface {
	wechatauth.UserStore
	wechatauth.TokenStore
	wechatauth.CallbackStore
}

// Run runs the suite; newStore returns an empty store for each test.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"users", users},
		{"user by unionid", userByUnionID},
		{"tokens", tokens},
		{"claim is atomic", claimIsAtomic},
		{"callback lifecycle", callbackLifecycle},
		{"claim expires", claimExpires},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// Fill sets every field of the struct *v to a non-zero value, so that a
// round trip that drops a field, including one added later, shows.
func Fill(t testing.TB, v any) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, name := rv.Field(i), rv.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.String:
			f.SetString("v-" + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)))
		default:
			t.Fatalf("Fill: field %s of type %v: teach Fill about it", name, f.Type())
		}
	}
}

func users(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.User(ctx, "oNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("User of an unknown openid: got %v, want an error wrapping ErrNotFound", err)
	}
	var u wechatauth.User
	Fill(t, &u)
	u.OpenID = "oAlice"
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	got, err := s.User(ctx, "oAlice")
	if err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("User: got %+v, %v; want %+v", got, err, u)
	}
	u.Nickname, u.UnionID = "Alice 2", ""
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatalf("SaveUser again: %v", err)
	}
	if got, _ := s.User(ctx, "oAlice"); got.Nickname != "Alice 2" || got.UnionID != "" {
		t.Errorf("after replacing: got nickname %q unionid %q, want %q and none", got.Nickname, got.UnionID, "Alice 2")
	}
}

func userByUnionID(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.UserByUnionID(ctx, "uNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("unknown unionid: got %v, want an error wrapping ErrNotFound", err)
	}
	web := wechatauth.User{OpenID: "oWebCarol", UnionID: "uCarol", Nickname: "Carol"}
	oa := wechatauth.User{OpenID: "oCarol", UnionID: "uCarol", Nickname: "Carol"}
	for _, u := range []wechatauth.User{web, oa} {
		if err := s.SaveUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.UserByUnionID(ctx, "uCarol"); err != nil || got.OpenID != "oCarol" {
		t.Errorf("UserByUnionID: got %+v, %v; want the last saved, oCarol", got, err)
	}
	oa.UnionID = ""
	if err := s.SaveUser(ctx, oa); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByUnionID(ctx, "uCarol"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("after the unionid changed: got %v, want ErrNotFound", err)
	}
}

func tokens(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Token(ctx, "oNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Token of an unknown openid: got %v, want an error wrapping ErrNotFound", err)
	}
	var tok mp.Token
	Fill(t, &tok)
	tok.OpenID = "oAlice"
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	if got, err := s.Token(ctx, "oAlice"); err != nil || !reflect.DeepEqual(got, tok) {
		t.Errorf("Token: got %+v, %v; want %+v", got, err, tok)
	}
	tok.AccessToken, tok.RefreshToken = "access-2", "refresh-2"
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatalf("SaveToken again: %v", err)
	}
	if got, _ := s.Token(ctx, "oAlice"); got.AccessToken != "access-2" || got.RefreshToken != "refresh-2" {
		t.Errorf("after replacing: got %q/%q, want %q/%q", got.AccessToken, got.RefreshToken, "access-2", "refresh-2")
	}
}

func claimIsAtomic(t *testing.T, s Store) {
	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		won   int
		errs  []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := s.Claim(context.Background(), "race", time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				won++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Claim failed %d times, first: %v", len(errs), errs[0])
	}
	if won != 1 {
		t.Errorf("claims won by %d concurrent callers: got %d, want 1", n, won)
	}
}

func callbackLifecycle(t *testing.T, s Store) {
	ctx := context.Background()
	const key, ttl = "0123abcd", 10 * time.Minute
	if _, err := s.Record(ctx, key); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Record before any claim: got %v, want an error wrapping ErrNotFound", err)
	}
	if ok, err := s.Claim(ctx, key, ttl); !ok || err != nil {
		t.Fatalf("first Claim: got %v, %v; want true", ok, err)
	}
	if rec, err := s.Record(ctx, key); rec != nil || err != nil {
		t.Errorf("Record while claimed: got %q, %v; want nil, nil", rec, err)
	}
	if ok, err := s.Claim(ctx, key, ttl); ok || err != nil {
		t.Errorf("Claim while claimed: got %v, %v; want false", ok, err)
	}
	if err := s.Finish(ctx, key, nil, ttl); err != nil {
		t.Fatalf("Finish with no record: %v", err)
	}
	if _, err := s.Record(ctx, key); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Record after letting go: got %v, want an error wrapping ErrNotFound", err)
	}
	if ok, err := s.Claim(ctx, key, ttl); !ok || err != nil {
		t.Fatalf("Claim after letting go: got %v, %v; want true", ok, err)
	}
	record := []byte("r2 - - - - /account/\nu1")
	if err := s.Finish(ctx, key, record, 2*time.Minute); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if rec, err := s.Record(ctx, key); string(rec) != string(record) || err != nil {
		t.Errorf("Record after Finish: got %q, %v; want %q", rec, err, record)
	}
	if ok, err := s.Claim(ctx, key, ttl); ok || err != nil {
		t.Errorf("Claim after Finish: got %v, %v; want false", ok, err)
	}
}

// claimExpires checks that a claim and a record end with their ttl, on the
// wall clock: the suite polls until they are gone, for at most a generous
// cap past the ttl (testclock.Patience), so that a busy machine slows the
// check down rather than failing it.
func claimExpires(t *testing.T, s Store) {
	ctx := context.Background()
	const ttl = 50 * time.Millisecond
	for i, finish := range []bool{false, true} {
		key := fmt.Sprintf("short-%d", i)
		if ok, err := s.Claim(ctx, key, ttl); !ok || err != nil {
			t.Fatalf("Claim: got %v, %v; want true", ok, err)
		}
		if finish {
			if err := s.Finish(ctx, key, []byte("rec"), ttl); err != nil {
				t.Fatal(err)
			}
		}
		limit := testclock.Patience(30 * time.Second)
		deadline := time.Now().Add(ttl + limit)
		for {
			_, err := s.Record(ctx, key)
			if errors.Is(err, wechatauth.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("finished=%v: still there %v past its ttl (Record: %v); %s", finish, limit, err, testclock.RanOut("the store", ttl+limit, "expiring it"))
			}
			time.Sleep(5 * time.Millisecond)
		}
		if ok, err := s.Claim(ctx, key, ttl); !ok || err != nil {
			t.Errorf("finished=%v: Claim after expiry: got %v, %v; want true", finish, ok, err)
		}
	}
}
