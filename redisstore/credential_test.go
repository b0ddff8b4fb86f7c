package redisstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

// TestAccessTokenOneFetchAcrossInstances: N instances, each with its own
// pool and token source, M goroutines each, all asking when the token has
// expired: exactly one upstream fetch, and every goroutine gets its token.
func TestAccessTokenOneFetchAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.SetLatency(20 * time.Millisecond) // keep the fetch in flight while the others ask
	const instances, goroutines = 4, 50
	sources := make([]mp.AccessTokenSource, instances)
	for i := range sources {
		store := redisstore.New(ownPool(t, srv.Addr()))
		client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
		sources[i] = mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID)})
	}
	tokens := make([]string, instances*goroutines)
	errs := make([]error, len(tokens))
	askAll := func() {
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				tokens[i], errs[i] = sources[i%instances].Token(context.Background())
			}(i)
		}
		wg.Wait()
	}
	askAll()
	for i := range tokens {
		if errs[i] != nil || tokens[i] == "" || tokens[i] != tokens[0] {
			t.Fatalf("goroutine %d: got %q, %v; want %q", i, tokens[i], errs[i], tokens[0])
		}
	}
	if got := wx.Calls("/cgi-bin/token"); got != 1 {
		t.Errorf("upstream fetches: got %d, want 1", got)
	}
	// The next expiry: one more fetch, whoever asks.
	wx.Advance(3 * time.Hour)
	// Gone from the cache as at its expiry.
	conn := srv.Pool().Get()
	_, err := conn.Do("DEL", redisstore.DefaultPrefix+"access_token:"+wx.AppID)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	askAll()
	if got := wx.Calls("/cgi-bin/token"); got != 2 {
		t.Errorf("upstream fetches after the second expiry: got %d, want 2", got)
	}
}

func TestAccessTokenCacheOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(srv.Pool())
	cache := store.CredentialCache(mp.AccessTokenCredential, "wxApp")
	ctx := context.Background()
	if _, err := cache.Load(ctx); err == nil {
		t.Fatal("Load of an empty cache: nil error")
	}
	exp := time.Now().Add(2 * time.Hour).Truncate(time.Millisecond)
	if err := cache.Save(ctx, mp.Credential{Value: "T1", Expiry: exp}); err != nil {
		t.Fatal(err)
	}
	got, err := cache.Load(ctx)
	if err != nil || got.Value != "T1" || !got.Expiry.Equal(exp) {
		t.Errorf("Load: got %+v, %v", got, err)
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	if ttl, _ := conn.Do("PTTL", "wechatauth:access_token:wxApp"); ttl.(int64) <= 0 || ttl.(int64) > int64(2*time.Hour/time.Millisecond) {
		t.Errorf("PTTL of the token: %v, want up to 2 h", ttl)
	}
	// Delete drops only the token it names.
	cache.Delete(ctx, "T0")
	if _, err := cache.Load(ctx); err != nil {
		t.Errorf("Delete of another token dropped T1: %v", err)
	}
	cache.Delete(ctx, "T1")
	if _, err := cache.Load(ctx); err == nil {
		t.Errorf("Delete of T1 left it")
	}
	// The lock: one holder at a time; a release after expiry frees nothing
	// that another has taken since.
	unlock, err := cache.TryLock(ctx, 100*time.Millisecond)
	if unlock == nil || err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	if other, _ := cache.TryLock(ctx, time.Second); other != nil {
		t.Fatal("second TryLock succeeded while the lock is held")
	}
	conn.Do("PEXPIRE", "wechatauth:access_token_lock:wxApp", 1) // the holder died
	next, _ := cache.TryLock(ctx, time.Minute)
	for next == nil {
		next, _ = cache.TryLock(ctx, time.Minute)
	}
	unlock(ctx) // the dead holder's late release
	if again, _ := cache.TryLock(ctx, time.Second); again != nil {
		t.Error("a stale release freed the new holder's lock")
	}
	next(ctx)
	if again, _ := cache.TryLock(ctx, time.Second); again == nil {
		t.Error("the holder's release did not free the lock")
	}
}

// ownPool is a pool of its own to the Redis at addr, as another instance
// of the application would have.
func ownPool(t *testing.T, addr string) *redis.Pool {
	p := &redis.Pool{MaxIdle: 8, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr) }}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestAccessTokenAfterACrashedHolder: an instance took the refresh lock and
// died; the others fetch once its lock has expired, and only once.
func TestAccessTokenAfterACrashedHolder(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	store := redisstore.New(srv.Pool())
	cache := store.CredentialCache(mp.AccessTokenCredential, wx.AppID)
	ctx := context.Background()
	start := time.Now() // before the lock is taken: no token can come within its 200 ms
	if unlock, err := cache.TryLock(ctx, 200*time.Millisecond); unlock == nil || err != nil {
		t.Fatalf("TryLock: got the lock %v, error %v", unlock != nil, err)
	}
	const instances = 3
	var wg sync.WaitGroup
	tokens := make([]string, instances)
	for i := range tokens {
		client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
		ts := mp.NewAccessTokenSource(client, mp.CredentialOptions{
			// The instances' own lock outlives their fetch however busy the
			// machine: a fetch that outlived it would let another fetch too.
			Cache: redisstore.New(ownPool(t, srv.Addr())).CredentialCache(mp.AccessTokenCredential, wx.AppID), LockTTL: testclock.Patience(30 * time.Second),
		})
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if tokens[i], err = ts.Token(ctx); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("a token came after %v, before the dead holder's lock expired", waited)
	}
	if got := wx.Calls("/cgi-bin/token"); got != 1 {
		t.Errorf("upstream fetches: got %d, want 1", got)
	}
	for i := range tokens {
		if tokens[i] == "" || tokens[i] != tokens[0] {
			t.Errorf("instance %d: token %q, want %q", i, tokens[i], tokens[0])
		}
	}
}
