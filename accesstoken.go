package wechatauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// AccessToken is the account's global access_token, the credential of the
// cgi-bin APIs such as the menu. It is not a user's web-auth token.
type AccessToken struct {
	Token  string
	Expiry time.Time
}

// TokenSource gives the account's global access_token.
type TokenSource interface {
	// Token returns an access token that is valid now, fetching a new one
	// when needed.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that WeChat refused token (CodeInvalidCredential,
	// CodeInvalidAccessToken, CodeAccessTokenExpired), so that the next
	// Token fetches anew unless a newer token is already there.
	Invalidate(ctx context.Context, token string) error
}

// AccessTokenCache keeps the global access_token where every instance of an
// application finds it, with a lock so that one of them at a time fetches
// a new one. NewMemoryAccessTokenCache serves one process; package
// redisstore shares it through Redis.
type AccessTokenCache interface {
	// Load returns the cached token. When there is none the error wraps
	// ErrNotFound.
	Load(ctx context.Context) (AccessToken, error)
	// Save caches t until t.Expiry.
	Save(ctx context.Context, t AccessToken) error
	// Delete drops the cached token if it is still token.
	Delete(ctx context.Context, token string) error
	// TryLock takes the refresh lock for at most ttl. It returns nil unlock
	// when another holder has it; unlock releases the lock only if it is
	// still the caller's.
	TryLock(ctx context.Context, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// TokenSourceOptions configures NewTokenSource. Every field has a working
// zero value.
type TokenSourceOptions struct {
	// Cache shares the token. Default: NewMemoryAccessTokenCache(), for one
	// process; with several instances use a shared cache (redisstore), or
	// each instance's fetch invalidates the others' tokens.
	Cache AccessTokenCache
	// Stable fetches from /cgi-bin/stable_token instead of /cgi-bin/token:
	// it returns the same token until 5 minutes before its expiry and never
	// invalidates a token in use. Default false.
	Stable bool
	// RefreshAhead is how long before its expiry a token is replaced.
	// Default 5 minutes (stable_token hands out a new token from then on).
	RefreshAhead time.Duration
	// LockTTL is how long the refresh lock lasts, and so bounds each
	// upstream fetch (which ends before its lock does) and how long a
	// holder that crashed blocks the others. Default 10 seconds.
	LockTTL time.Duration
}

// NewTokenSource returns a TokenSource that fetches the global
// access_token with c, caches it in opts.Cache and replaces it ahead of
// expiry. However many goroutines and instances ask when it expires, one
// fetch goes upstream: goroutines of a process share one flight, and
// instances take the cache's lock, while the others keep using the old
// token, still valid, or wait for the new one.
func NewTokenSource(c *Client, opts TokenSourceOptions) TokenSource {
	if opts.Cache == nil {
		opts.Cache = NewMemoryAccessTokenCache()
	}
	if opts.RefreshAhead <= 0 {
		opts.RefreshAhead = 5 * time.Minute
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = 10 * time.Second
	}
	return &tokenSource{client: c, opts: opts}
}

type tokenSource struct {
	client *Client
	opts   TokenSourceOptions
	flight singleflight.Group
}

func (s *tokenSource) now() time.Time {
	if s.client.now != nil {
		return s.client.now()
	}
	return time.Now()
}

func (s *tokenSource) Token(ctx context.Context) (string, error) {
	t, err := s.opts.Cache.Load(ctx)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", storeError("access token", err)
	}
	if err == nil && s.now().Before(t.Expiry.Add(-s.opts.RefreshAhead)) {
		return t.Token, nil
	}
	ch := s.flight.DoChan("", func() (any, error) {
		// Room to wait out a dead holder's lock, then fetch under our own.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*s.opts.LockTTL)
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
		return "", fmt.Errorf("wechatauth: waiting for the access token: %w", ctx.Err())
	}
}

// refresh returns a token that is fresh, or still valid while another
// instance fetches, fetching it itself when it holds the lock.
func (s *tokenSource) refresh(ctx context.Context) (string, error) {
	wait := 10 * time.Millisecond
	for {
		t, err := s.opts.Cache.Load(ctx)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", storeError("access token", err)
		}
		now := s.now()
		cached := err == nil
		if cached && now.Before(t.Expiry.Add(-s.opts.RefreshAhead)) {
			return t.Token, nil
		}
		unlock, err := s.opts.Cache.TryLock(ctx, s.opts.LockTTL)
		if err != nil {
			return "", storeError("access token", err)
		}
		if unlock != nil {
			return s.fetch(ctx, unlock)
		}
		if cached && now.Before(t.Expiry) {
			return t.Token, nil // another instance is fetching; this one still works
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", fmt.Errorf("wechatauth: waiting for another instance to fetch the access token: %w", ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// fetch gets a new token upstream under the lock, unless one arrived
// meanwhile, and caches it. When the fetch fails, a cached token that still
// works is better than an error.
func (s *tokenSource) fetch(ctx context.Context, unlock func(context.Context) error) (string, error) {
	defer unlock(context.WithoutCancel(ctx))
	cached, cerr := s.opts.Cache.Load(ctx)
	if cerr == nil && s.now().Before(cached.Expiry.Add(-s.opts.RefreshAhead)) {
		return cached.Token, nil
	}
	// The fetch must end while the lock is still ours, or another instance
	// would fetch too.
	fctx, cancel := context.WithTimeout(ctx, s.opts.LockTTL)
	defer cancel()
	var t *AccessToken
	var err error
	if s.opts.Stable {
		t, err = s.client.StableAccessToken(fctx, false)
	} else {
		t, err = s.client.AccessToken(fctx)
	}
	if err != nil {
		if cerr == nil && s.now().Before(cached.Expiry) {
			return cached.Token, nil
		}
		return "", err
	}
	if err := s.opts.Cache.Save(ctx, *t); err != nil {
		return "", storeError("access token", err)
	}
	return t.Token, nil
}

func (s *tokenSource) Invalidate(ctx context.Context, token string) error {
	if err := s.opts.Cache.Delete(ctx, token); err != nil {
		return storeError("access token", err)
	}
	return nil
}

type accessTokenReply struct {
	apiStatus
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// AccessToken fetches a new global access_token
// (GET /cgi-bin/token, grant_type client_credential). Each fetch ends the
// previous token's life five minutes later, so instances that fetch on
// their own invalidate each other: use NewTokenSource.
func (c *Client) AccessToken(ctx context.Context) (*AccessToken, error) {
	var reply accessTokenReply
	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.AppID}, "secret": {c.AppSecret}}
	if err := c.get(ctx, "/cgi-bin/token", q, &reply); err != nil {
		return nil, err
	}
	return c.accessToken(&reply, "/cgi-bin/token")
}

// StableAccessToken fetches the global access_token from
// POST /cgi-bin/stable_token, which returns the same token until five
// minutes before its expiry. forceRefresh asks for a new one at once
// (WeChat allows that 20 times a day, 30 seconds apart).
func (c *Client) StableAccessToken(ctx context.Context, forceRefresh bool) (*AccessToken, error) {
	var reply accessTokenReply
	body := struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}{"client_credential", c.AppID, c.AppSecret, forceRefresh}
	if err := c.postJSON(ctx, "/cgi-bin/stable_token", nil, body, &reply); err != nil {
		return nil, err
	}
	return c.accessToken(&reply, "/cgi-bin/stable_token")
}

func (c *Client) accessToken(reply *accessTokenReply, endpoint string) (*AccessToken, error) {
	if reply.AccessToken == "" || reply.ExpiresIn <= 0 {
		return nil, fmt.Errorf("wechatauth: %s: reply without access_token or expires_in: %w", endpoint, errUpstream)
	}
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	return &AccessToken{Token: reply.AccessToken, Expiry: now().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

// postJSON sends body as JSON to endpoint with the query q and decodes the
// reply into v.
func (c *Client) postJSON(ctx context.Context, endpoint string, q url.Values, body any, v interface{ err(string) error }) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("wechatauth: %s: encoding the request: %w", endpoint, err)
	}
	u := c.Endpoints.withDefaults().API + endpoint
	if len(q) > 0 {
		u += "?" + encodeOrdered(q, endpointParams[endpoint])
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("wechatauth: %s: building request: %w", endpoint, errUpstream)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	return c.do(req, endpoint, v)
}

// memoryAccessTokenCache is an AccessTokenCache for one process.
type memoryAccessTokenCache struct {
	mu       sync.Mutex
	token    AccessToken
	lockedAt time.Time
	lockTTL  time.Duration
	lockID   uint64
}

// NewMemoryAccessTokenCache returns an AccessTokenCache that serves one
// process.
func NewMemoryAccessTokenCache() AccessTokenCache { return &memoryAccessTokenCache{} }

func (m *memoryAccessTokenCache) Load(context.Context) (AccessToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.token.Token == "" || !time.Now().Before(m.token.Expiry) {
		return AccessToken{}, fmt.Errorf("wechatauth: access token: %w", ErrNotFound)
	}
	return m.token, nil
}

func (m *memoryAccessTokenCache) Save(_ context.Context, t AccessToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = t
	return nil
}

func (m *memoryAccessTokenCache) Delete(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.token.Token == token {
		m.token = AccessToken{}
	}
	return nil
}

func (m *memoryAccessTokenCache) TryLock(_ context.Context, ttl time.Duration) (func(context.Context) error, error) {
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
