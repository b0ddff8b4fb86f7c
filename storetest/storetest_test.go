package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
)

// These tests run the checks on stores broken on purpose and show that the
// checks meant to catch each one fail, and the others do not. They run in
// a synctest bubble: a check that waits for a store to expire a key it
// never expires gives up at once, on the bubble's clock.

// recorder is a checker that records the outcome of a check instead of
// failing the test.
type recorder struct {
	mu      sync.Mutex
	failed  bool
	skipped bool
	log     []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

// Fatalf records a failure and ends the check's goroutine, as t.Fatalf does.
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// Skipf records a skip and ends the check's goroutine, as t.Skipf does.
func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.log = append(r.log, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

// outcomes runs every check on a store from newStore, each in a goroutine
// of its own, and gives each check's outcome, "pass", "fail" or "skip",
// with what it logged.
func outcomes[S any](checks []check[S], newStore func() S) (map[string]string, map[string][]string) {
	got, logs := map[string]string{}, map[string][]string{}
	for _, c := range checks {
		r := &recorder{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.run(r, newStore())
		}()
		<-done
		got[c.name] = "pass"
		switch {
		case r.failed:
			got[c.name] = "fail"
		case r.skipped:
			got[c.name] = "skip"
		}
		logs[c.name] = r.log
	}
	return got, logs
}

// brokenStore is a store broken on purpose and what the checks make of it:
// the outcome of each check that does not pass.
type brokenStore[S any] struct {
	name     string
	newStore func() S
	want     map[string]string
}

func testBrokenStores[S any](t *testing.T, checks []check[S], cases []brokenStore[S]) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got, logs := outcomes(checks, tc.newStore)
				for _, c := range checks {
					want := tc.want[c.name]
					if want == "" {
						want = "pass"
					}
					if got[c.name] != want {
						t.Errorf("check %q: %s, want %s; it logged:\n%s", c.name, got[c.name], want, strings.Join(logs[c.name], "\n"))
					} else if want == "fail" {
						t.Logf("check %q fails, as it should:\n%s", c.name, strings.Join(logs[c.name], "\n"))
					}
				}
				for name := range tc.want {
					if _, ok := got[name]; !ok {
						t.Errorf("no check named %q; there are %q", name, slices.Sorted(maps.Keys(got)))
					}
				}
			})
		})
	}
}

func TestUserChecksFailBrokenStores(t *testing.T) {
	testBrokenStores(t, userChecks, []brokenStore[wechatauth.UserStore]{
		{"MemoryStore", func() wechatauth.UserStore { return wechatauth.NewMemoryStore() }, nil},
		{"times in another location", func() wechatauth.UserStore { return localTimes{wechatauth.NewMemoryStore()} }, nil},
		{"not found is a zero user", func() wechatauth.UserStore { return zeroUser{wechatauth.NewMemoryStore()} },
			map[string]string{"user of an unknown openid is not found": "fail"}},
		{"drops UnionID", func() wechatauth.UserStore { return dropsUnionID{wechatauth.NewMemoryStore()} },
			map[string]string{"every user field round-trips": "fail", "user by unionid": "skip"}},
		{"keeps only the fields it knew of", func() wechatauth.UserStore { return oldFields{wechatauth.NewMemoryStore()} },
			map[string]string{"every user field round-trips": "fail", "user by unionid": "fail"}},
		{"unionid index never updated", func() wechatauth.UserStore { return newStaleIndex() },
			map[string]string{"user by unionid": "fail"}},
	})
}

func TestTokenChecksFailBrokenStores(t *testing.T) {
	testBrokenStores(t, tokenChecks, []brokenStore[wechatauth.TokenStore]{
		{"MemoryStore", func() wechatauth.TokenStore { return wechatauth.NewMemoryStore() }, nil},
		{"not found is another error", func() wechatauth.TokenStore { return otherNotFound{wechatauth.NewMemoryStore()} },
			map[string]string{"tokens of an unknown openid are not found": "fail"}},
		{"drops Scope", func() wechatauth.TokenStore { return dropsScope{wechatauth.NewMemoryStore()} },
			map[string]string{"every token field round-trips": "fail", "saving tokens replaces": "fail"}},
		{"keeps the first tokens", func() wechatauth.TokenStore { return keepsFirst{wechatauth.NewMemoryStore()} },
			map[string]string{"saving tokens replaces": "fail"}},
	})
}

func TestCallbackChecksFailBrokenStores(t *testing.T) {
	testBrokenStores(t, callbackChecks, []brokenStore[wechatauth.CallbackStore]{
		{"MemoryStore", func() wechatauth.CallbackStore { return wechatauth.NewMemoryStore() }, nil},
		{"Claim not atomic", func() wechatauth.CallbackStore { return newRacyClaim() },
			map[string]string{"claim is atomic": "fail"}},
		{"a claim reads as an empty record", func() wechatauth.CallbackStore { return emptyWhileClaimed{wechatauth.NewMemoryStore()} },
			map[string]string{"callback lifecycle": "fail", "a claim reads as no record": "fail", "keys with colons are keys of their own": "fail"}},
		{"Finish with no record keeps the claim", func() wechatauth.CallbackStore { return keepsClaim{wechatauth.NewMemoryStore()} },
			map[string]string{"callback lifecycle": "fail", "keys with colons are keys of their own": "fail"}},
		{"keys cut at ':'", func() wechatauth.CallbackStore { return cutsKeys{wechatauth.NewMemoryStore()} },
			map[string]string{"keys with colons are keys of their own": "fail"}},
		{"never expires", func() wechatauth.CallbackStore { return neverExpires{wechatauth.NewMemoryStore()} },
			map[string]string{"claims and records expire with their ttl": "fail"}},
		{"a record keeps the claim's ttl", func() wechatauth.CallbackStore { return newClaimTTL() },
			map[string]string{"claims and records expire with their ttl": "fail"}},
	})
}

// localTimes gives times back in another location: the same instants, a
// store that keeps the contract.
type localTimes struct{ *wechatauth.MemoryStore }

func (s localTimes) User(ctx context.Context, openID string) (wechatauth.User, error) {
	u, err := s.MemoryStore.User(ctx, openID)
	u.UpdatedAt = u.UpdatedAt.In(time.FixedZone("CST", 8*60*60))
	return u, err
}

type zeroUser struct{ *wechatauth.MemoryStore }

func (s zeroUser) User(ctx context.Context, openID string) (wechatauth.User, error) {
	u, err := s.MemoryStore.User(ctx, openID)
	if errors.Is(err, wechatauth.ErrNotFound) {
		return wechatauth.User{}, nil
	}
	return u, err
}

type dropsUnionID struct{ *wechatauth.MemoryStore }

func (s dropsUnionID) SaveUser(ctx context.Context, u wechatauth.User) error {
	u.UnionID = ""
	return s.MemoryStore.SaveUser(ctx, u)
}

// oldFields stores the fields User had in its first version but one: a
// store that lists fields by hand, and was not told of a new one.
type oldFields struct{ *wechatauth.MemoryStore }

func (s oldFields) SaveUser(ctx context.Context, u wechatauth.User) error {
	return s.MemoryStore.SaveUser(ctx, wechatauth.User{
		OpenID: u.OpenID, UnionID: u.UnionID, Nickname: u.Nickname, HeadImgURL: u.HeadImgURL, UpdatedAt: u.UpdatedAt,
	})
}

// staleIndex keeps an index of unionids that a user's new unionid never
// updates.
type staleIndex struct {
	*wechatauth.MemoryStore
	mu    sync.Mutex
	index map[string]string // unionid → openid
}

func newStaleIndex() *staleIndex {
	return &staleIndex{MemoryStore: wechatauth.NewMemoryStore(), index: map[string]string{}}
}

func (s *staleIndex) SaveUser(ctx context.Context, u wechatauth.User) error {
	s.mu.Lock()
	if u.UnionID != "" {
		s.index[u.UnionID] = u.OpenID
	}
	s.mu.Unlock()
	return s.MemoryStore.SaveUser(ctx, u)
}

func (s *staleIndex) UserByUnionID(ctx context.Context, unionID string) (wechatauth.User, error) {
	s.mu.Lock()
	openID, ok := s.index[unionID]
	s.mu.Unlock()
	if !ok {
		return wechatauth.User{}, wechatauth.ErrNotFound
	}
	return s.User(ctx, openID)
}

type otherNotFound struct{ *wechatauth.MemoryStore }

func (s otherNotFound) Token(ctx context.Context, openID string) (mp.Token, error) {
	tok, err := s.MemoryStore.Token(ctx, openID)
	if errors.Is(err, wechatauth.ErrNotFound) {
		return tok, errors.New("no tokens")
	}
	return tok, err
}

type dropsScope struct{ *wechatauth.MemoryStore }

func (s dropsScope) SaveToken(ctx context.Context, tok mp.Token) error {
	tok.Scope = ""
	return s.MemoryStore.SaveToken(ctx, tok)
}

type keepsFirst struct{ *wechatauth.MemoryStore }

func (s keepsFirst) SaveToken(ctx context.Context, tok mp.Token) error {
	if _, err := s.Token(ctx, tok.OpenID); err == nil {
		return nil
	}
	return s.MemoryStore.SaveToken(ctx, tok)
}

// racyClaim looks before it claims, and lets a second caller look too in
// between: the first two callers of Claim at once both win. A caller that
// no other follows goes on when the bubble's clock has moved a second,
// that is when every goroutine is blocked.
type racyClaim struct {
	*wechatauth.MemoryStore
	mu     sync.Mutex
	looked int
	second chan struct{}
}

func newRacyClaim() *racyClaim {
	return &racyClaim{MemoryStore: wechatauth.NewMemoryStore(), second: make(chan struct{})}
}

func (s *racyClaim) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if _, err := s.Record(ctx, key); !errors.Is(err, wechatauth.ErrNotFound) {
		return false, err
	}
	s.mu.Lock()
	s.looked++
	if s.looked == 2 {
		close(s.second)
	}
	s.mu.Unlock()
	select {
	case <-s.second:
	case <-time.After(time.Second):
	}
	_ = s.MemoryStore.Finish(ctx, key, nil, ttl) // drop what another caller claimed
	return s.MemoryStore.Claim(ctx, key, ttl)    // and claim anew
}

type emptyWhileClaimed struct{ *wechatauth.MemoryStore }

func (s emptyWhileClaimed) Record(ctx context.Context, key string) ([]byte, error) {
	rec, err := s.MemoryStore.Record(ctx, key)
	if rec == nil && err == nil {
		return []byte{}, nil
	}
	return rec, err
}

type keepsClaim struct{ *wechatauth.MemoryStore }

func (s keepsClaim) Finish(ctx context.Context, key string, record []byte, ttl time.Duration) error {
	if len(record) == 0 {
		return nil
	}
	return s.MemoryStore.Finish(ctx, key, record, ttl)
}

// cutsKeys keeps what follows a key's last ':', as a store that took ':'
// for its own separator might.
type cutsKeys struct{ *wechatauth.MemoryStore }

func cut(key string) string { return key[strings.LastIndex(key, ":")+1:] }

func (s cutsKeys) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.MemoryStore.Claim(ctx, cut(key), ttl)
}

func (s cutsKeys) Record(ctx context.Context, key string) ([]byte, error) {
	return s.MemoryStore.Record(ctx, cut(key))
}

func (s cutsKeys) Finish(ctx context.Context, key string, record []byte, ttl time.Duration) error {
	return s.MemoryStore.Finish(ctx, cut(key), record, ttl)
}

const forever = 100 * 365 * 24 * time.Hour

type neverExpires struct{ *wechatauth.MemoryStore }

func (s neverExpires) Claim(ctx context.Context, key string, _ time.Duration) (bool, error) {
	return s.MemoryStore.Claim(ctx, key, forever)
}

func (s neverExpires) Finish(ctx context.Context, key string, record []byte, _ time.Duration) error {
	return s.MemoryStore.Finish(ctx, key, record, forever)
}

// claimTTL keeps a record for the ttl of its claim, as a Redis store that
// finished with SET KEEPTTL would.
type claimTTL struct {
	*wechatauth.MemoryStore
	mu   sync.Mutex
	ttls map[string]time.Duration
}

func newClaimTTL() *claimTTL {
	return &claimTTL{MemoryStore: wechatauth.NewMemoryStore(), ttls: map[string]time.Duration{}}
}

func (s *claimTTL) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := s.MemoryStore.Claim(ctx, key, ttl)
	if ok {
		s.mu.Lock()
		s.ttls[key] = ttl
		s.mu.Unlock()
	}
	return ok, err
}

func (s *claimTTL) Finish(ctx context.Context, key string, record []byte, _ time.Duration) error {
	s.mu.Lock()
	ttl := s.ttls[key]
	s.mu.Unlock()
	return s.MemoryStore.Finish(ctx, key, record, ttl)
}
