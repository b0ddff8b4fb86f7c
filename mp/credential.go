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
// is not a user's web-auth [Token].
type Credential struct {
	Value  string
	Expiry time.Time
}

// credential checks a reply's credential and its life in seconds.
func (c *Client) credential(value string, expiresIn int64, endpoint string) (Credential, error) {
	if value == "" || expiresIn <= 0 {
		return Credential{}, fmt.Errorf("mp: %s: reply without a credential or expires_in: %w", endpoint, ErrUpstream)
	}
	return Credential{Value: value, Expiry: c.clock().Add(time.Duration(expiresIn) * time.Second)}, nil
}

// CredentialKind names a kind of account-wide credential where it is
// cached: the caches of [github.com/wechatauth/wechatauth/redisstore] keep
// a credential under keys that start with its kind. [AccessTokenCredential]
// and [JSAPITicketCredential] name mp's two; a package with a credential of
// its own names it as a constant of this type. A kind is lower-case
// letters, digits and underscores.
type CredentialKind string

// The kinds of mp's account-wide credentials.
const (
	// AccessTokenCredential is the account's access_token, of
	// [NewAccessTokenSource].
	AccessTokenCredential CredentialKind = "access_token"
	// JSAPITicketCredential is the account's jsapi_ticket, of
	// [NewTicketSource].
	JSAPITicketCredential CredentialKind = "jsapi_ticket"
)

// CredentialOptions configures the source of an account-wide credential:
// [NewAccessTokenSource] and [NewTicketSource] take it, and so does
// [NewCredentialSource], beneath every other source of one, such as a
// sibling package's. Every field has a
// working zero value.
type CredentialOptions struct {
	// Cache shares the credential. Default: an in-memory cache, for one
	// process. With several instances use a shared cache, such as
	// redisstore's Store.CredentialCache: instances that fetch the
	// access_token each on their own invalidate each other's tokens, and
	// WeChat's daily quota of jsapi_tickets is small.
	Cache CredentialCache
	// Stable fetches the access_token from /cgi-bin/stable_token instead
	// of /cgi-bin/token: it returns the same token until 5 minutes before
	// its expiry and never invalidates a token in use. Default false. Only
	// NewAccessTokenSource reads it: other credentials have no such
	// endpoint.
	Stable bool
	// RefreshAhead is how long before its expiry a credential is replaced.
	// Default 5 minutes (stable_token hands out a new token from then on).
	RefreshAhead time.Duration
	// LockTTL is how long the refresh lock lasts, and so bounds each
	// upstream fetch (a ticket's fetch, the access_token's included) and
	// how long a holder that crashed blocks the others. Default 10 seconds.
	LockTTL time.Duration
}

// CredentialCache keeps one account-wide credential where every instance
// of an application finds it, with a lock so that one of them at a time
// fetches a new one. [NewMemoryCache] serves one process;
// [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache]
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

// MaxBackoff is the longest a credential source waits after failed
// fetches before it calls WeChat again. After a fetch fails (a WeChat
// errcode other than a stale access token, or WeChat unreachable or
// unreadable) no fetch goes upstream for 1 second, then 2, 4, 8 and so on
// up to MaxBackoff for each further failure in a row; a busy WeChat (-1)
// is retried once at once before it counts. Meanwhile a cached credential
// that still works is served, and callers without one get a
// [*BackoffError]. A fetch that succeeds ends the back-off.
const MaxBackoff = time.Minute

// firstBackoff is the wait after the first failure of a run.
const firstBackoff = time.Second

// backoffDelay is the wait after the count-th failure in a row.
func backoffDelay(count int) time.Duration {
	d := firstBackoff
	for i := 1; i < count && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Failure is a fetch of a credential that failed, as a [BackoffCache] keeps
// it: what WeChat or the transport said (never a secret), how many
// fetches failed in a row, and until when no fetch goes upstream.
type Failure struct {
	Code     int       // WeChat's errcode; 0 when WeChat was unreachable or its answer unreadable
	Msg      string    // WeChat's errmsg, or the text of the transport's failure
	Endpoint string    // the API path that refused, when WeChat did
	Count    int       // failures in a row, from 1
	Until    time.Time // no fetch goes upstream before it
}

// failureErr is f as an error: the platform's refusal, rebuilt by the
// fetcher's Refused, or an error wrapping ErrUpstream.
func (s *CredentialSource) failureErr(f Failure) error {
	if f.Code != 0 {
		return s.refused(f.Code, f.Msg, f.Endpoint)
	}
	return &upstreamFailure{msg: f.Msg}
}

// upstreamFailure is a transport failure as recorded in a Failure.
type upstreamFailure struct{ msg string }

func (e *upstreamFailure) Error() string        { return e.msg }
func (e *upstreamFailure) Is(target error) bool { return target == ErrUpstream }

// BackoffCache is an optional interface of a [CredentialCache]: one that
// implements it keeps the back-off after a failed fetch (see [MaxBackoff])
// where every instance that shares the cache finds it, so that a refusal
// from WeChat costs a bounded number of calls however many instances and
// requests ask. The cache of [NewMemoryCache] and the caches of package
// [github.com/wechatauth/wechatauth/redisstore] implement it; with a cache
// that does not, each source keeps its back-off in its own memory.
type BackoffCache interface {
	// LoadFailure returns the failure recorded last. When there is none
	// the error wraps ErrNotFound.
	LoadFailure(ctx context.Context) (Failure, error)
	// SaveFailure records f in place of the failure recorded last. It
	// keeps f at least until f.Until, and may forget it MaxBackoff later.
	SaveFailure(ctx context.Context, f Failure) error
	// ClearFailure forgets the failure recorded, after a fetch that
	// succeeded.
	ClearFailure(ctx context.Context) error
}

// RenewLimiter is an optional interface of a [CredentialCache], for
// renewals that come from outside rather than from expiry, such as the
// renewal of package [github.com/wechatauth/wechatauth/jssdk] after
// "invalid signature": it lets at most one renewal an interval through
// among every instance that shares the cache. The caches of package
// [github.com/wechatauth/wechatauth/redisstore] implement it; the
// [TicketSource] of [NewTicketSource] does too, through its cache.
type RenewLimiter interface {
	// AllowRenew reports whether a renewal may go ahead now: true for the
	// first caller and then for none until interval has passed. An error
	// wrapping errors.ErrUnsupported means the limiter cannot tell (a
	// TicketSource whose cache is not a RenewLimiter), and the caller
	// keeps the interval itself.
	AllowRenew(ctx context.Context, interval time.Duration) (bool, error)
}

// BackoffError is the error of a credential source that did not call
// WeChat because a fetch failed moments ago (see [MaxBackoff]). Err is that
// failure: an [*Error] for WeChat's refusals, an error wrapping [ErrUpstream]
// otherwise; errors.As and errors.Is reach it.
type BackoffError struct {
	What  string    // the credential: "access token" or "jsapi ticket"
	Until time.Time // when the next fetch may go upstream
	Count int       // failures in a row so far
	Err   error     // the last failure
}

// Error says what is backed off, until when, and why.
func (e *BackoffError) Error() string {
	return fmt.Sprintf("mp: %s: not fetched until %s after %d failed fetch(es): %v", e.What, e.Until.Format("15:04:05.000"), e.Count, e.Err)
}

// Unwrap returns the last failure.
func (e *BackoffError) Unwrap() error { return e.Err }

// Refusal is a platform's refusal that carries an errcode, as the
// credential mechanism reads it: [*Error] is one, and so are the errors of
// sibling packages for other platforms, such as WeCom's. A source keeps a
// failed fetch whose error is a Refusal as a [Failure] with its errcode,
// and [WithAccessToken] retries a call whose error is a stale one.
type Refusal interface {
	error
	// Refusal returns the errcode, the errmsg and the API path that
	// answered.
	Refusal() (code int, msg, endpoint string)
	// StaleAccessToken reports whether a fresh access token may cure the
	// refusal. A source does not back off from such a refusal: the call
	// that met it retries once with a fresh token instead.
	StaleAccessToken() bool
}

// Refusal returns the errcode, the errmsg and the API path, for the
// credential mechanism: *Error is a [Refusal].
func (e *Error) Refusal() (code int, msg, endpoint string) { return e.Code, e.Msg, e.Endpoint }

// refusal returns the Refusal in err's chain, if there is one.
func refusal(err error) (Refusal, bool) {
	var r Refusal
	ok := errors.As(err, &r)
	return r, ok
}

// backoffFor reports whether a failed fetch's err starts or continues a
// back-off: a platform's errcodes, except a stale access token (which the
// ticket's fetch has already tried to cure with a fresh one), and
// failures to reach the platform. Another credential's back-off (the
// access token's, met while fetching the ticket) is that credential's to
// keep.
func backoffFor(err error) bool {
	var be *BackoffError
	if errors.As(err, &be) {
		return false
	}
	if r, ok := refusal(err); ok {
		return !r.StaleAccessToken()
	}
	return errors.Is(err, ErrUpstream)
}

// busy reports whether err is the platform's -1, system busy, which one
// immediate retry may get past.
func busy(err error) bool {
	var be *BackoffError
	if errors.As(err, &be) {
		return false
	}
	r, ok := refusal(err)
	if !ok {
		return false
	}
	code, _, _ := r.Refusal()
	return code == CodeBusy
}

// failureOf records err, the count-th failure in a row, at now.
func failureOf(err error, count int, now time.Time) Failure {
	f := Failure{Count: count, Until: now.Add(backoffDelay(count))}
	if r, ok := refusal(err); ok {
		f.Code, f.Msg, f.Endpoint = r.Refusal()
	} else {
		f.Msg = err.Error()
	}
	return f
}

// cacheError wraps a failure of the cache of what.
func cacheError(what string, err error) error {
	return fmt.Errorf("mp: %s cache: %w", what, err)
}

// CredentialFetcher is how a [CredentialSource] gets one kind of
// account-wide credential from its platform, for [NewCredentialSource].
type CredentialFetcher struct {
	// Name names the credential in errors, such as "access token".
	// Default "credential".
	Name string
	// Fetch gets a new credential upstream; it is required. A refusal of
	// the platform is an error that is a [Refusal]; a failure to reach
	// the platform or to read its answer wraps [ErrUpstream]. Either
	// starts or continues a back-off (see [MaxBackoff]), except a stale
	// access token. An empty credential counts as an unreadable answer.
	Fetch func(ctx context.Context) (Credential, error)
	// Refused rebuilds the platform's refusal from what a [Failure] kept
	// of it, for the [BackoffError] of callers met by a back-off that this
	// or another instance started. Default: an [*Error].
	Refused func(code int, msg, endpoint string) error
	// Now is the clock against which Credential.Expiry is read, the one
	// Fetch sets it by. Default time.Now.
	Now func() time.Time
}

// CredentialSource is an account-wide credential, cached and shared: the
// one mechanism behind every source of one, the access_token of
// [NewAccessTokenSource], the jsapi_ticket of [NewTicketSource], and those
// of sibling packages for other platforms. However many goroutines and
// instances ask when it expires, one fetch goes upstream: goroutines of a
// process share one flight, and instances take the cache's lock, while the
// others keep using the old credential, still valid, or wait for the new
// one. A CredentialSource is safe for concurrent use.
type CredentialSource struct {
	what         string // for errors
	cache        CredentialCache
	refreshAhead time.Duration
	lockTTL      time.Duration
	now          func() time.Time
	// fetch gets a new credential upstream; it never returns an empty one.
	fetch   func(ctx context.Context) (Credential, error)
	refused func(code int, msg, endpoint string) error
	flight  singleflight.Group
	// backoff keeps the back-off: the cache when it is a BackoffCache,
	// this source's own memory otherwise.
	backoff BackoffCache
}

// NewCredentialSource returns the [CredentialSource] of the credential f
// fetches, cached in opts.Cache (in memory by default) and replaced
// opts.RefreshAhead before its expiry, with failed fetches backed off
// (see [MaxBackoff]), in the cache when it is a [BackoffCache]. It
// ignores opts.Stable, which only [NewAccessTokenSource] reads. It panics
// when f.Fetch is nil.
//
// A package for another platform builds its credentials on it, with a
// [CredentialKind] of its own for the cache:
//
//	src := mp.NewCredentialSource(mp.CredentialFetcher{
//		Name:  "corp access token",
//		Fetch: client.AccessToken,
//	}, opts)
func NewCredentialSource(f CredentialFetcher, opts CredentialOptions) *CredentialSource {
	if f.Fetch == nil {
		panic("mp: NewCredentialSource: CredentialFetcher.Fetch is nil")
	}
	s := &CredentialSource{what: f.Name, cache: opts.Cache, refreshAhead: opts.RefreshAhead,
		lockTTL: opts.LockTTL, now: f.Now, fetch: f.Fetch, refused: f.Refused}
	if s.what == "" {
		s.what = "credential"
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.refused == nil {
		s.refused = func(code int, msg, endpoint string) error {
			return &Error{Code: code, Msg: msg, Endpoint: endpoint}
		}
	}
	if s.cache == nil {
		s.cache = newMemoryCache(s.now)
	}
	if s.refreshAhead <= 0 {
		s.refreshAhead = 5 * time.Minute
	}
	if s.lockTTL <= 0 {
		s.lockTTL = 10 * time.Second
	}
	if b, ok := s.cache.(BackoffCache); ok {
		s.backoff = b
	} else {
		s.backoff = &failureMemory{now: s.now}
	}
	return s
}

// fresh reports whether c is cached and not yet due for renewal.
func (s *CredentialSource) fresh(c Credential, err error) bool {
	return err == nil && s.now().Before(c.Expiry.Add(-s.refreshAhead))
}

// Get returns the credential's value, valid now, fetching a new one when
// the cached one is missing or due for renewal. A caller met by a back-off
// gets a [*BackoffError], unless a cached credential still works; one
// whose ctx ends stops waiting while the fetch goes on for the others.
func (s *CredentialSource) Get(ctx context.Context) (string, error) {
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
func (s *CredentialSource) refresh(ctx context.Context) (string, error) {
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
		if v, err, done := s.backingOff(ctx, c, cached); done {
			return v, err
		}
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

// backingOff reports whether a back-off is under way, and then what to
// answer: the cached credential c while it still works, or a
// *BackoffError.
func (s *CredentialSource) backingOff(ctx context.Context, c Credential, cached bool) (string, error, bool) {
	f, err := s.backoff.LoadFailure(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		return "", nil, false
	case err != nil:
		return "", cacheError(s.what, err), true
	case !s.now().Before(f.Until):
		return "", nil, false
	case cached && s.now().Before(c.Expiry):
		return c.Value, nil, true
	}
	return "", &BackoffError{What: s.what, Until: f.Until, Count: f.Count, Err: s.failureErr(f)}, true
}

// fetchLocked gets a new credential upstream under the lock, unless one
// arrived meanwhile or a back-off is under way, and caches it. When the
// fetch fails, the failure starts or continues a back-off, and a cached
// credential that still works is better than an error.
func (s *CredentialSource) fetchLocked(ctx context.Context, unlock func(context.Context) error) (string, error) {
	defer unlock(context.WithoutCancel(ctx))
	cached, cerr := s.cache.Load(ctx)
	if s.fresh(cached, cerr) {
		return cached.Value, nil
	}
	// Another instance may have failed while this one waited for the lock.
	prev, ferr := s.backoff.LoadFailure(ctx)
	switch {
	case ferr == nil && s.now().Before(prev.Until):
		if cerr == nil && s.now().Before(cached.Expiry) {
			return cached.Value, nil
		}
		return "", &BackoffError{What: s.what, Until: prev.Until, Count: prev.Count, Err: s.failureErr(prev)}
	case ferr != nil && !errors.Is(ferr, ErrNotFound):
		return "", cacheError(s.what, ferr)
	}
	// The fetch must end while the lock is still ours, or another instance
	// would fetch too.
	fctx, cancel := context.WithTimeout(ctx, s.lockTTL)
	defer cancel()
	c, err := s.fetchOnce(fctx)
	if err != nil && busy(err) {
		c, err = s.fetchOnce(fctx)
	}
	if err != nil {
		if backoffFor(err) {
			count := 1
			if ferr == nil && s.now().Before(prev.Until.Add(MaxBackoff)) {
				count = prev.Count + 1
			}
			// The fetch's failure matters more to the caller than the
			// cache's; a cache that cannot keep the back-off fails its
			// next Load too.
			_ = s.backoff.SaveFailure(ctx, failureOf(err, count, s.now()))
		}
		if cerr == nil && s.now().Before(cached.Expiry) {
			return cached.Value, nil
		}
		return "", err
	}
	if ferr == nil {
		if err := s.backoff.ClearFailure(ctx); err != nil {
			return "", cacheError(s.what, err)
		}
	}
	if err := s.cache.Save(ctx, c); err != nil {
		return "", cacheError(s.what, err)
	}
	return c.Value, nil
}

// fetchOnce fetches upstream once; an empty credential is an error.
func (s *CredentialSource) fetchOnce(ctx context.Context) (Credential, error) {
	c, err := s.fetch(ctx)
	if err == nil && c.Value == "" {
		err = fmt.Errorf("mp: an empty %s: %w", s.what, ErrUpstream)
	}
	return c, err
}

// Invalidate drops value from the cache, when it is still the one cached,
// so that the next [CredentialSource.Get] fetches anew unless a newer
// credential is already there: call it when the platform refuses value as
// no longer valid.
func (s *CredentialSource) Invalidate(ctx context.Context, value string) error {
	if err := s.cache.Delete(ctx, value); err != nil {
		return cacheError(s.what, err)
	}
	return nil
}

// failureMemory keeps the back-off of one process: the BackoffCache part
// of the memory cache, and the back-off of a source whose cache is not a
// BackoffCache.
type failureMemory struct {
	now func() time.Time
	mu  sync.Mutex
	f   Failure
}

func (m *failureMemory) LoadFailure(context.Context) (Failure, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f.Count == 0 || !m.now().Before(m.f.Until.Add(MaxBackoff)) {
		return Failure{}, ErrNotFound
	}
	return m.f, nil
}

func (m *failureMemory) SaveFailure(_ context.Context, f Failure) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.f = f
	return nil
}

func (m *failureMemory) ClearFailure(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.f = Failure{}
	return nil
}

// memoryCache is a CredentialCache for one process. It keeps the back-off
// too (BackoffCache); the interval of outside renewals it leaves to its
// caller, which keeps it in the same process anyway.
type memoryCache struct {
	now      func() time.Time
	mu       sync.Mutex
	cred     Credential
	lockedAt time.Time
	lockTTL  time.Duration
	lockID   uint64
	failureMemory
}

// NewMemoryCache returns a [CredentialCache] that serves one process. It is
// a [BackoffCache].
func NewMemoryCache() CredentialCache { return newMemoryCache(time.Now) }

func newMemoryCache(now func() time.Time) *memoryCache {
	return &memoryCache{now: now, failureMemory: failureMemory{now: now}}
}

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
