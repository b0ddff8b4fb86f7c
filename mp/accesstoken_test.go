package mp_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/internal/testclock"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// tokenRig is an emulator, a client of it, and a clock shared by both.
type tokenRig struct {
	*testclock.Clock
	wx     *wechattest.Server
	client *mp.Client
}

func newTokenRig(t *testing.T) *tokenRig {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	r := &tokenRig{wx: wx, client: newClient(wx)}
	r.Clock = testclock.New(wx, func(now func() time.Time) { mp.SetClock(r.client, now) })
	return r
}

func (r *tokenRig) fetches() int {
	return r.wx.Calls("/cgi-bin/token") + r.wx.Calls("/cgi-bin/stable_token")
}

func TestTokenSourceCachesAndRefreshesAhead(t *testing.T) {
	for _, stable := range []bool{false, true} {
		name := "cgi-bin/token"
		if stable {
			name = "stable_token"
		}
		t.Run(name, func(t *testing.T) {
			r := newTokenRig(t)
			ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{Stable: stable})
			ctx := context.Background()
			first, err := ts.Token(ctx)
			if err != nil || first == "" {
				t.Fatalf("Token: %q, %v", first, err)
			}
			if again, _ := ts.Token(ctx); again != first || r.fetches() != 1 {
				t.Errorf("second Token: got %q after %d fetches, want the cached token after 1", again, r.fetches())
			}
			r.Advance(7200*time.Second - 4*time.Minute) // within 5 minutes of expiry
			next, err := ts.Token(ctx)
			if err != nil || next == first {
				t.Errorf("Token near expiry: got %q, %v; want a new token", next, err)
			}
			if got := r.fetches(); got != 2 {
				t.Errorf("fetches: got %d, want 2", got)
			}
		})
	}
}

func TestTokenSourceOneFetchForManyGoroutines(t *testing.T) {
	r := newTokenRig(t)
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	ctx := context.Background()
	if _, err := ts.Token(ctx); err != nil {
		t.Fatal(err)
	}
	r.Advance(3 * time.Hour) // expired
	r.wx.SetLatency(20 * time.Millisecond)
	const n = 1000
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range tokens {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tokens[i], _ = ts.Token(ctx)
		}(i)
	}
	wg.Wait()
	if got := r.fetches(); got != 2 {
		t.Errorf("fetches: got %d, want 2 (one before expiry, one for all %d goroutines)", got, n)
	}
	for i, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("goroutine %d got %q, want %q", i, tok, tokens[0])
		}
	}
}

func TestCreateMenuRefetchesAStaleToken(t *testing.T) {
	r := newTokenRig(t)
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	ctx := context.Background()
	if _, err := ts.Token(ctx); err != nil {
		t.Fatal(err)
	}
	// Another process, uncoordinated, fetches a token: five minutes on,
	// the cached one is dead (40001).
	if _, err := r.client.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	r.Advance(5*time.Minute + time.Second)
	m := validMenu()
	if err := r.client.CreateMenu(ctx, ts, m); err != nil {
		t.Fatalf("CreateMenu: %v", err)
	}
	if got := r.fetches(); got != 3 {
		t.Errorf("fetches: got %d, want 3 (ours, the other process's, the refetch)", got)
	}
	var got mp.Menu
	if err := json.Unmarshal(r.wx.Menu(), &got); err != nil || len(got.Buttons) != 2 || got.Buttons[1].SubButtons[0].Key != "CHECK_IN" {
		t.Errorf("menu at the emulator: %s (%v)", r.wx.Menu(), err)
	}
}

func TestCreateMenuRefusesAnInvalidMenuLocally(t *testing.T) {
	r := newTokenRig(t)
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	m := validMenu()
	m.Buttons[0].Name = "a name far too long for the top"
	err := r.client.CreateMenu(context.Background(), ts, m)
	if err == nil {
		t.Fatal("CreateMenu of an invalid menu: nil error")
	}
	if got := r.fetches() + r.wx.Calls("/cgi-bin/menu/create"); got != 0 {
		t.Errorf("requests to WeChat: got %d, want 0", got)
	}
}

func TestTokenSourceOutlivesACrashedLockHolder(t *testing.T) {
	r := newTokenRig(t)
	cache := mp.NewMemoryCache()
	ctx := context.Background()
	start := time.Now() // before the lock is taken: Token cannot return within its 50 ms
	// A holder that took the lock and died.
	if unlock, err := cache.TryLock(ctx, 50*time.Millisecond); unlock == nil || err != nil {
		t.Fatalf("TryLock: got lock %v, error %v; want the lock", unlock != nil, err)
	}
	// The source's own lock, and so its fetch's budget, is generous: the
	// fetch ends within it however busy the machine.
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{Cache: cache, LockTTL: testclock.Patience(30 * time.Second)})
	tok, err := ts.Token(ctx)
	if err != nil || tok == "" {
		t.Fatalf("Token: %q, %v", tok, err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Errorf("Token returned after %v, before the dead holder's lock expired", waited)
	}
	if got := r.fetches(); got != 1 {
		t.Errorf("fetches: got %d, want 1", got)
	}
}

func TestTokenSourceKeepsAWorkingTokenWhenTheFetchFails(t *testing.T) {
	r := newTokenRig(t)
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	ctx := context.Background()
	first, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.Advance(7200*time.Second - 4*time.Minute) // due for renewal, still valid
	busyTwice(r.wx, "/cgi-bin/token")           // the fetch and its one retry
	if got, err := ts.Token(ctx); err != nil || got != first {
		t.Errorf("Token while WeChat is busy: got %q, %v; want the cached %q", got, err, first)
	}
	r.Advance(5 * time.Minute) // expired: nothing to fall back on
	busyTwice(r.wx, "/cgi-bin/token")
	if _, err := ts.Token(ctx); err == nil {
		t.Errorf("Token with an expired cache and a failing fetch: nil error")
	}
}

func TestTokenSourceHonoursTheCallersContext(t *testing.T) {
	r := newTokenRig(t)
	r.wx.SetLatency(time.Hour) // WeChat never answers: only the caller's deadline ends the wait
	ts := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := ts.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Token past the caller's deadline: got %v, want context.DeadlineExceeded", err)
	}
}
