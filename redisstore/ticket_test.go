package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/redistest"
	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/redisstore"
	"github.com/wechatauth/wechatauth/wechattest"
)

const pathTicket = "/cgi-bin/ticket/getticket"

// ticketInstance is what one instance of an application holds for the
// JS-SDK: a pool of its own, and the two sources on it.
func ticketInstance(t *testing.T, srv *redistest.Server, wx *wechattest.Server, lockTTL time.Duration) mp.TicketSource {
	t.Helper()
	store := redisstore.New(ownPool(t, srv.Addr()))
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID), LockTTL: lockTTL})
	return mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: store.CredentialCache(mp.JSAPITicketCredential, wx.AppID), LockTTL: lockTTL})
}

// TestTicketOneFetchAcrossInstances: 4 instances with 50 goroutines each
// ask for the ticket when it has expired: one getticket, and at most one
// access_token fetch, whoever asks.
func TestTicketOneFetchAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	wx.SetLatency(20 * time.Millisecond) // keep the fetch in flight while the others ask
	const instances, goroutines = 4, 50
	sources := make([]mp.TicketSource, instances)
	for i := range sources {
		sources[i] = ticketInstance(t, srv, wx, 0)
	}
	askAll := func() string {
		t.Helper()
		tickets := make([]string, instances*goroutines)
		errs := make([]error, len(tickets))
		var wg sync.WaitGroup
		for i := range tickets {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				tickets[i], errs[i] = sources[i%instances].Ticket(context.Background())
			}(i)
		}
		wg.Wait()
		for i := range tickets {
			if errs[i] != nil || tickets[i] == "" || tickets[i] != tickets[0] {
				t.Fatalf("goroutine %d: got %q, %v; want %q", i, tickets[i], errs[i], tickets[0])
			}
		}
		return tickets[0]
	}
	drop := func(keys ...string) {
		t.Helper()
		conn := srv.Pool().Get()
		defer conn.Close()
		for _, k := range keys {
			if _, err := conn.Do("DEL", redisstore.DefaultPrefix+k+wx.AppID); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name             string
		expire           func()
		tickets, fetches int // upstream calls this step, of getticket and of /cgi-bin/token
	}{
		{"nothing cached yet", func() {}, 1, 1},
		{"ticket and access_token expired", func() {
			wx.Advance(3 * time.Hour)
			drop("jsapi_ticket:", "access_token:") // gone from the cache as at their expiry
		}, 1, 1},
		{"ticket expired, access_token still valid", func() {
			wx.StaleTickets() // WeChat has a new ticket; within 7200 s it would answer the same one
			drop("jsapi_ticket:")
		}, 1, 0},
	}
	prev := ""
	for _, st := range steps {
		tickets, fetches := wx.Calls(pathTicket), wx.Calls("/cgi-bin/token")
		st.expire()
		ticket := askAll()
		if ticket == prev {
			t.Errorf("%s: got the previous ticket again, want a new one", st.name)
		}
		prev = ticket
		if got := wx.Calls(pathTicket) - tickets; got != st.tickets {
			t.Errorf("%s: getticket calls: got %d, want %d", st.name, got, st.tickets)
		}
		if got := wx.Calls("/cgi-bin/token") - fetches; got != st.fetches {
			t.Errorf("%s: access_token fetches: got %d, want %d", st.name, got, st.fetches)
		}
	}
}

// TestTicketAfterACrashedHolder: an instance took the ticket's refresh
// lock and died; the others fetch once its lock has expired, and only
// once.
func TestTicketAfterACrashedHolder(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	ctx := context.Background()
	const lockTTL = 200 * time.Millisecond
	start := time.Now() // before the lock is taken: no ticket can come within its 200 ms
	if unlock, err := redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, wx.AppID).TryLock(ctx, lockTTL); unlock == nil || err != nil {
		t.Fatalf("TryLock: got the lock %v, error %v", unlock != nil, err)
	}
	const instances = 3
	tickets := make([]string, instances)
	var wg sync.WaitGroup
	for i := range tickets {
		// The instances' own lock outlives their fetch however busy the
		// machine: a fetch that outlived it would let another fetch too.
		ts := ticketInstance(t, srv, wx, testclock.Patience(30*time.Second))
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if tickets[i], err = ts.Ticket(ctx); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("a ticket came after %v, before the dead holder's lock expired", waited)
	}
	if got := wx.Calls(pathTicket); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
	for i := range tickets {
		if tickets[i] == "" || tickets[i] != tickets[0] {
			t.Errorf("instance %d: ticket %q, want %q", i, tickets[i], tickets[0])
		}
	}
}

func TestTicketCacheKeys(t *testing.T) {
	srv := redistest.Start(t)
	cache := redisstore.New(srv.Pool()).CredentialCache(mp.JSAPITicketCredential, "wxApp")
	ctx := context.Background()
	if err := cache.Save(ctx, mp.Credential{Value: "T1", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unlock, err := cache.TryLock(ctx, time.Second)
	if unlock == nil || err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	defer unlock(ctx)
	conn := srv.Pool().Get()
	defer conn.Close()
	for _, key := range []string{"wechatauth:jsapi_ticket:wxApp", "wechatauth:jsapi_ticket_lock:wxApp"} {
		if n, err := conn.Do("EXISTS", key); err != nil || n.(int64) != 1 {
			t.Errorf("key %q: EXISTS got %v, %v; want 1", key, n, err)
		}
	}
	if n, _ := conn.Do("EXISTS", "wechatauth:access_token:wxApp"); n.(int64) != 0 {
		t.Errorf("the ticket was saved under the access_token's key")
	}
}

// signerOnRedis is a jssdk.Signer whose ticket is cached in srv, with the
// ticket fetched already.
func signerOnRedis(tb testing.TB, srv *redistest.Server, wx *wechattest.Server) http.Handler {
	tb.Helper()
	store := redisstore.New(srv.Pool())
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: wx.Client(), Endpoints: wx.Endpoints()}
	tokens := mp.NewAccessTokenSource(client, mp.CredentialOptions{Cache: store.CredentialCache(mp.AccessTokenCredential, wx.AppID)})
	signer, err := jssdk.New(jssdk.Options{
		AppID:   wx.AppID,
		Tickets: mp.NewTicketSource(client, tokens, mp.CredentialOptions{Cache: store.CredentialCache(mp.JSAPITicketCredential, wx.AppID)}),
		Origins: []string{"https://app.example"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	h := signer.Handler()
	if w := serveConfig(h); w.Code != http.StatusOK {
		tb.Fatalf("first config: HTTP %d %s", w.Code, w.Body)
	}
	return h
}

func serveConfig(h http.Handler) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape("https://app.example/account/?from=timeline"), nil))
	return w
}

// TestConfigWithACachedTicketReadsRedisOnce: serving a config with the
// ticket cached costs one GET on Redis and no call to WeChat.
func TestConfigWithACachedTicketReadsRedisOnce(t *testing.T) {
	srv := redistest.Start(t)
	wx := wechattest.NewServer()
	defer wx.Close()
	h := signerOnRedis(t, srv, wx)
	srv.ResetStats()
	const n = 20
	for i := 0; i < n; i++ {
		if w := serveConfig(h); w.Code != http.StatusOK {
			t.Fatalf("config %d: HTTP %d", i, w.Code)
		}
	}
	if got := srv.CommandStats(); len(got) != 1 || got["get"] != n {
		t.Errorf("Redis commands for %d configs: got %v, want only %d get", n, got, n)
	}
	if got := wx.Calls(pathTicket); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
}

// BenchmarkConfigRedis serves a config with the ticket cached in Redis,
// beside jssdk's BenchmarkConfig (in memory) and BenchmarkSignature.
func BenchmarkConfigRedis(b *testing.B) {
	srv := redistest.Start(b)
	wx := wechattest.NewServer()
	defer wx.Close()
	h := signerOnRedis(b, srv, wx)
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape("https://app.example/account/jssdk?from=singlemessage&isappinstalled=0"), nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
