package wechatauth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// UserStore keeps users by openid, and finds them by unionid, the identity
// shared by every app bound to one Open Platform account. Implementations
// must be safe for concurrent use.
type UserStore interface {
	// User returns the user stored under openID. When there is none the
	// error wraps ErrNotFound; any other error is a failure of the store.
	User(ctx context.Context, openID string) (User, error)
	// SaveUser stores u under u.OpenID, replacing what was there. In
	// component mode (Options.Component) the Auth saves a user under its
	// Key, "AppID/OpenID", as the OpenID, with AppID empty: a store need
	// not know AppID.
	SaveUser(ctx context.Context, u User) error
	// UserByUnionID returns the user last saved with unionID. When there is
	// none the error wraps ErrNotFound. A store that keeps no unionids
	// always answers ErrNotFound.
	UserByUnionID(ctx context.Context, unionID string) (User, error)
}

// TokenStore keeps each user's web-auth tokens server-side, by openid.
// Implementations must be safe for concurrent use.
type TokenStore interface {
	// Token returns the tokens stored for openID. When there are none the
	// error wraps ErrNotFound; any other error is a failure of the store.
	Token(ctx context.Context, openID string) (mp.Token, error)
	// SaveToken stores t under t.OpenID, replacing what was there. It may
	// forget t once its refresh token has expired (30 days).
	SaveToken(ctx context.Context, t mp.Token) error
}

// CallbackStore remembers for a few minutes how each login was completed,
// so that a callback delivered twice, to one instance or to two, causes one
// code exchange and ends logged in both times. Keys are opaque and URL-safe.
// Implementations must be safe for concurrent use, and Claim must be atomic
// across every instance that shares the store.
type CallbackStore interface {
	// Claim reserves key for ttl. It reports true when the caller now holds
	// the claim and must call Finish, false when the key is held or finished.
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Record returns what Finish stored under key. While the key is claimed
	// but unfinished it returns a nil record and a nil error; when the key is
	// neither, the error wraps ErrNotFound.
	Record(ctx context.Context, key string) ([]byte, error)
	// Finish ends the caller's claim on key: a non-empty record is kept for
	// ttl; an empty one drops the claim so that the next Claim succeeds.
	Finish(ctx context.Context, key string, record []byte, ttl time.Duration) error
}

// refreshTokenLife is how long WeChat honours a refresh token.
const refreshTokenLife = 30 * 24 * time.Hour

// MemoryStore keeps users, tokens and callbacks in the memory of one
// process. It is the default for each; use it for a single instance and for
// tests. Expired entries are dropped when met and by an occasional sweep, so
// it needs no goroutine of its own. The zero value is not usable: call
// NewMemoryStore.
type MemoryStore struct {
	users     expiringMap[User]
	unionIDs  expiringMap[string] // unionid → openid
	tokens    expiringMap[mp.Token]
	callbacks expiringMap[[]byte]
	now       func() time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{now: time.Now}
}

// User implements UserStore.
func (s *MemoryStore) User(_ context.Context, openID string) (User, error) {
	u, ok := s.users.get(openID, s.now())
	if !ok {
		return User{}, fmt.Errorf("wechatauth: user %q: %w", openID, ErrNotFound)
	}
	return u, nil
}

// SaveUser implements UserStore.
func (s *MemoryStore) SaveUser(_ context.Context, u User) error {
	now := s.now()
	s.users.set(u.OpenID, u, time.Time{}, now)
	if u.UnionID != "" {
		s.unionIDs.set(u.UnionID, u.OpenID, time.Time{}, now)
	}
	return nil
}

// UserByUnionID implements UserStore.
func (s *MemoryStore) UserByUnionID(ctx context.Context, unionID string) (User, error) {
	openID, ok := s.unionIDs.get(unionID, s.now())
	if ok {
		if u, err := s.User(ctx, openID); err == nil && u.UnionID == unionID {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("wechatauth: user with unionid %q: %w", unionID, ErrNotFound)
}

// Token implements TokenStore.
func (s *MemoryStore) Token(_ context.Context, openID string) (mp.Token, error) {
	t, ok := s.tokens.get(openID, s.now())
	if !ok {
		return mp.Token{}, fmt.Errorf("wechatauth: tokens of %q: %w", openID, ErrNotFound)
	}
	return t, nil
}

// SaveToken implements TokenStore.
func (s *MemoryStore) SaveToken(_ context.Context, t mp.Token) error {
	now := s.now()
	s.tokens.set(t.OpenID, t, now.Add(refreshTokenLife), now)
	return nil
}

// Claim implements CallbackStore.
func (s *MemoryStore) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	now := s.now()
	return s.callbacks.setIfAbsent(key, nil, now.Add(ttl), now), nil
}

// Record implements CallbackStore.
func (s *MemoryStore) Record(_ context.Context, key string) ([]byte, error) {
	rec, ok := s.callbacks.get(key, s.now())
	if !ok {
		return nil, fmt.Errorf("wechatauth: callback record: %w", ErrNotFound)
	}
	return rec, nil
}

// Finish implements CallbackStore.
func (s *MemoryStore) Finish(_ context.Context, key string, record []byte, ttl time.Duration) error {
	now := s.now()
	if len(record) == 0 {
		s.callbacks.delete(key)
		return nil
	}
	s.callbacks.set(key, record, now.Add(ttl), now)
	return nil
}

// expiringMap is a mutex-guarded map whose entries may carry an expiry.
// Expired entries read as absent; a sweep at most once a minute drops them.
type expiringMap[V any] struct {
	mu        sync.Mutex
	m         map[string]expiringEntry[V]
	lastSweep time.Time
}

type expiringEntry[V any] struct {
	v   V
	exp time.Time // zero: never
}

func (e expiringEntry[V]) live(now time.Time) bool {
	return e.exp.IsZero() || now.Before(e.exp)
}

func (m *expiringMap[V]) get(k string, now time.Time) (V, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[k]
	if !ok || !e.live(now) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (m *expiringMap[V]) set(k string, v V, exp, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.setLocked(k, v, exp, now)
}

// setIfAbsent stores v under k unless a live entry is there, and reports
// whether it stored.
func (m *expiringMap[V]) setIfAbsent(k string, v V, exp, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.m[k]; ok && e.live(now) {
		return false
	}
	m.setLocked(k, v, exp, now)
	return true
}

func (m *expiringMap[V]) setLocked(k string, v V, exp, now time.Time) {
	if m.m == nil {
		m.m = make(map[string]expiringEntry[V])
	}
	if now.Sub(m.lastSweep) > time.Minute {
		for key, e := range m.m {
			if !e.live(now) {
				delete(m.m, key)
			}
		}
		m.lastSweep = now
	}
	m.m[k] = expiringEntry[V]{v: v, exp: exp}
}

func (m *expiringMap[V]) delete(k string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, k)
}
