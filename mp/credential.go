package mp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Credential is an account-wide credential with its expiry: the
// access_token of the cgi-bin APIs, or the jsapi_ticket of the JS-SDK. It
// is not a user's web-auth Token.
type Credential struct {
	Value  string
	Expiry time.Time
}

// CredentialCache keeps one account-wide credential where every instance
// of an application finds it, with a lock so that one of them at a time
// fetches a new one. NewMemoryCache serves one process; package redisstore
// shares it through Redis.
type CredentialCache interface {
	// Load returns the cached credential. When there is none the error
	// wraps ErrNotFound.
	Load(ctx context.Context) (Credential, error)
	// Save caches c until c.Expiry.
	Save(ctx context.Context, c Credential) error
	// Delete drops the cached credential if its Value is still value.
	Delete(ctx context.Context, value string) error
	// TryLock takes the refresh lock for at most ttl. It returns nil unlock
	// when another holder has it; unlock releases the lock only if it is
	// still the caller's.
	TryLock(ctx context.Context, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// cacheError wraps a failure of the cache of what.
func cacheError(what string, err error) error {
	return fmt.Errorf("mp: %s cache: %w", what, err)
}

// shared is an account-wide credential, cached and shared: the one
// mechanism behind the access_token and the jsapi_ticket sources. However
// many goroutines and instances ask when it expires, one fetch goes
// upstream: goroutines of a process share one flight, and instances take
// the cache's lock, while the others keep using the old credential, still
// valid, or wait for the new one.
type shared struct {
	what         string // "access token", "jsapi ticket": for errors
	cache        CredentialCache
	refreshAhead time.Duration
	lockTTL      time.Duration
	now          func() time.Time
	// fetch gets a new credential upstream; it never returns an empty one.
	fetch  func(ctx context.Context) (Credential, error)
	flight singleflight.Group
}

func newShared(what string, cache CredentialCache, refreshAhead, lockTTL time.Duration, now func() time.Time, fetch func(context.Context) (Credential, error)) *shared {
	if cache == nil {
		cache = &memoryCache{now: now}
	}
	if refreshAhead <= 0 {
		refreshAhead = 5 * time.Minute
	}
	if lockTTL <= 0 {
		lockTTL = 10 * time.Second
	}
	return &shared{what: what, cache: cache, refreshAhead: refreshAhead, lockTTL: lockTTL, now: now, fetch: fetch}
}

// fresh reports whether c is cached and not yet due for renewal.
func (s *shared) fresh(c Credential, err error) bool {
	return err == nil && s.now().Before(c.Expiry.Add(-s.refreshAhead))
}

// get returns a credential that is valid now, fetching one when needed.
func (s *shared) get(ctx context.Context) (string, error) {
	c, err := s.cache.Load(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", cacheError(s.what, err)
	}
	if s.fresh(c, err) {
		return c.Value, nil
	}
	ch := s.flight.DoChan("", func() (any, error) {
		// Room to wait out a dead holder's lock, then fetch under our own.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*s.lockTTL)
		defer cancel()
		return s.refresh(ctx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		// The flight goes on for the others; this caller stops waiting.
		return "", fmt.Errorf("mp: waiting for the %s: %w", s.what, ctx.Err())
	}
}

// refresh returns a credential that is fresh, or still valid while another
// instance fetches, fetching it itself when it holds the lock.
func (s *shared) refresh(ctx context.Context) (string, error) {
	wait := 10 * time.Millisecond
	for {
		c, err := s.cache.Load(ctx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", cacheError(s.what, err)
		}
		if s.fresh(c, err) {
			return c.Value, nil
		}
		cached := err == nil
		unlock, err := s.cache.TryLock(ctx, s.lockTTL)
		if err != nil {
			return "", cacheError(s.what, err)
		}
		if unlock != nil {
			return s.fetchLocked(ctx, unlock)
		}
		if cached && s.now().Before(c.Expiry) {
			return c.Value, nil // another instance is fetching; this one still works
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", fmt.Errorf("mp: waiting for another instance to fetch the %s: %w", s.what, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// fetchLocked gets a new credential upstream under the lock, unless one
// arrived meanwhile, and caches it. When the fetch fails, a cached
// credential that still works is better than an error.
func (s *shared) fetchLocked(ctx context.Context, unlock func(context.Context) error) (string, error) {
	defer unlock(context.WithoutCancel(ctx))
	cached, cerr := s.cache.Load(ctx)
	if s.fresh(cached, cerr) {
		return cached.Value, nil
	}
	// The fetch must end while the lock is still ours, or another instance
	// would fetch too.
	fctx, cancel := context.WithTimeout(ctx, s.lockTTL)
	defer cancel()
	c, err := s.fetch(fctx)
	if err == nil && c.Value == "" {
		err = fmt.Errorf("mp: an empty %s: %w", s.what, ErrUpstream)
	}
	if err != nil {
		if cerr == nil && s.now().Before(cached.Expiry) {
			return cached.Value, nil
		}
		return "", err
	}
	if err := s.cache.Save(ctx, c); err != nil {
		return "", cacheError(s.what, err)
	}
	return c.Value, nil
}

// invalidate drops value from the cache, so that the next get fetches
// anew unless a newer credential is already there.
func (s *shared) invalidate(ctx context.Context, value string) error {
	if err := s.cache.Delete(ctx, value); err != nil {
		return cacheError(s.what, err)
	}
	return nil
}

// memoryCache is a CredentialCache for one process.
type memoryCache struct {
	now      func() time.Time
	mu       sync.Mutex
	cred     Credential
	lockedAt time.Time
	lockTTL  time.Duration
	lockID   uint64
}

// NewMemoryCache returns a CredentialCache that serves one process.
func NewMemoryCache() CredentialCache { return &memoryCache{now: time.Now} }

func (m *memoryCache) Load(context.Context) (Credential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cred.Value == "" || !m.now().Before(m.cred.Expiry) {
		return Credential{}, ErrNotFound
	}
	return m.cred, nil
}

func (m *memoryCache) Save(_ context.Context, c Credential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cred = c
	return nil
}

func (m *memoryCache) Delete(_ context.Context, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cred.Value == value {
		m.cred = Credential{}
	}
	return nil
}

// TryLock measures the lock's life on the wall clock, as Redis does.
func (m *memoryCache) TryLock(_ context.Context, ttl time.Duration) (func(context.Context) error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.lockedAt.IsZero() && time.Since(m.lockedAt) < m.lockTTL {
		return nil, nil
	}
	m.lockedAt, m.lockTTL = time.Now(), ttl
	m.lockID++
	id := m.lockID
	return func(context.Context) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.lockID == id {
			m.lockedAt = time.Time{}
		}
		return nil
	}, nil
}
