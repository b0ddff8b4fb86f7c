package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

// quotaSpent stands in front of the emulator and, while spent, answers
// getticket with 45009 as WeChat does once the day's quota is spent. It
// counts the getticket calls.
type quotaSpent struct {
	next  http.RoundTripper
	mu    sync.Mutex
	spent bool
	calls int
}

func (q *quotaSpent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != pathTicket {
		return q.next.RoundTrip(r)
	}
	q.mu.Lock()
	q.calls++
	spent := q.spent
	q.mu.Unlock()
	if !spent {
		return q.next.RoundTrip(r)
	}
	body := `{"errcode":45009,"errmsg":"reach max api daily quota limit"}`
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

func (q *quotaSpent) set(spent bool) {
	q.mu.Lock()
	q.spent = spent
	q.mu.Unlock()
}

func (q *quotaSpent) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls
}

// TestBackoffAcrossInstances: the back-off after a refused getticket is
// kept in Redis, where every instance finds it: while it lasts no
// instance calls WeChat, a cached ticket that still works is served, and
// a fetch that succeeds afterwards clears it.
func TestBackoffAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	quota := &quotaSpent{next: wx.Client().Transport}
	instance := func() mp.TicketSource {
		store := redisstore.New(ownPool(t, srv.Addr()))
		client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: &http.Client{Transport: quota}, Endpoints: wx.Endpoints()}
		tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID)})
		return mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: store.CredentialCache(mp.JSAPITicketCredential, wx.AppID)})
	}
	a, b := instance(), instance()
	cache := redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, wx.AppID).(mp.BackoffCache)
	ctx := context.Background()

	quota.set(true)
	var e *mp.Error
	if _, err := a.Ticket(ctx); !errors.As(err, &e) || e.Code != mp.CodeDailyQuota {
		t.Fatalf("instance a, getticket refused: got %v, want errcode 45009", err)
	}
	f, err := cache.LoadFailure(ctx)
	if err != nil || f.Code != mp.CodeDailyQuota || f.Count != 1 || f.Endpoint != pathTicket || time.Until(f.Until) > time.Second {
		t.Fatalf("the failure in Redis: got %+v, %v; want errcode 45009, 1 failure, until within 1 s", f, err)
	}

	// Another instance's failure, with a long back-off left.
	f.Count, f.Until = 3, time.Now().Add(time.Hour)
	if err := cache.SaveFailure(ctx, f); err != nil {
		t.Fatal(err)
	}
	calls := quota.count()
	for range 50 {
		_, err := b.Ticket(ctx)
		var be *mp.BackoffError
		if !errors.As(err, &be) || !errors.As(err, &e) || e.Code != mp.CodeDailyQuota || be.Count != 3 {
			t.Fatalf("instance b within the back-off: got %v, want a *mp.BackoffError over 45009 after 3 failures", err)
		}
	}
	if got := quota.count() - calls; got != 0 {
		t.Errorf("getticket calls within the back-off: got %d, want 0", got)
	}

	// A ticket due for renewal but still valid is served meanwhile.
	if err := cache.(mp.CredentialCache).Save(ctx, mp.Credential{Value: "STILLVALID", Expiry: time.Now().Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Ticket(ctx); err != nil || got != "STILLVALID" {
		t.Errorf("instance b with a valid ticket cached: got %q, %v; want the cached ticket", got, err)
	}
	if got := quota.count() - calls; got != 0 {
		t.Errorf("getticket calls with a valid ticket cached: got %d, want 0", got)
	}

	// The back-off is over and WeChat answers: the failure is cleared.
	f.Until = time.Now().Add(-time.Millisecond)
	if err := cache.SaveFailure(ctx, f); err != nil {
		t.Fatal(err)
	}
	quota.set(false)
	if got, err := b.Ticket(ctx); err != nil || got == "" || got == "STILLVALID" {
		t.Fatalf("instance b after the back-off: got %q, %v; want a new ticket", got, err)
	}
	if _, err := cache.LoadFailure(ctx); !errors.Is(err, mp.ErrNotFound) {
		t.Errorf("the failure after a success: got %v, want none", err)
	}
}

func TestBackoffCacheOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		cache mp.CredentialCache
		key   string
	}{
		{"access token", redisstore.New(srv.Pool()).CredentialCache(mp.AccessTokenCredential, "wxApp"), "wechatauth:access_token_backoff:wxApp"},
		{"jsapi ticket", redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, "wxApp"), "wechatauth:jsapi_ticket_backoff:wxApp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache, ok := tt.cache.(mp.BackoffCache)
			if !ok {
				t.Fatal("not an mp.BackoffCache")
			}
			if _, err := cache.LoadFailure(ctx); !errors.Is(err, mp.ErrNotFound) {
				t.Fatalf("LoadFailure of nothing: got %v, want ErrNotFound", err)
			}
			want := mp.Failure{Code: 45009, Msg: `quota "reached"`, Endpoint: "/cgi-bin/token", Count: 2, Until: time.UnixMilli(time.Now().Add(2 * time.Second).UnixMilli())}
			if err := cache.SaveFailure(ctx, want); err != nil {
				t.Fatal(err)
			}
			if got, err := cache.LoadFailure(ctx); err != nil || got != want {
				t.Errorf("LoadFailure: got %+v, %v; want %+v", got, err, want)
			}
			conn := srv.Pool().Get()
			defer conn.Close()
			pttl, err := redis.Int64(conn.Do("PTTL", tt.key))
			if err != nil || pttl <= (time.Minute).Milliseconds() || pttl > (2*time.Second+mp.MaxBackoff).Milliseconds() {
				t.Errorf("PTTL of %s: got %d, %v; want up to 2 s + MaxBackoff", tt.key, pttl, err)
			}
			if err := cache.ClearFailure(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := cache.LoadFailure(ctx); !errors.Is(err, mp.ErrNotFound) {
				t.Errorf("LoadFailure after ClearFailure: got %v, want ErrNotFound", err)
			}
		})
	}
}

func TestRenewLimiterOnRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a := redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, "wxApp").(mp.RenewLimiter)
	b := redisstore.New(ownPool(t, srv.Addr())).CredentialCache(mp.JSAPITicketCredential, "wxApp").(mp.RenewLimiter)
	other := redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, "wxOther").(mp.RenewLimiter)
	for _, step := range []struct {
		name  string
		l     mp.RenewLimiter
		allow bool
	}{{"first", a, true}, {"again", a, false}, {"another instance", b, false}, {"another app", other, true}} {
		if got, err := step.l.AllowRenew(ctx, time.Minute); err != nil || got != step.allow {
			t.Errorf("%s: got %v, %v; want %v", step.name, got, err, step.allow)
		}
	}
	conn := srv.Pool().Get()
	defer conn.Close()
	if pttl, err := redis.Int64(conn.Do("PTTL", "wechatauth:jsapi_ticket_renew:wxApp")); err != nil || pttl <= 0 || pttl > time.Minute.Milliseconds() {
		t.Errorf("PTTL of the interval: got %d, %v; want up to a minute", pttl, err)
	}
}
