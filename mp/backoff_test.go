package mp_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

// refuser stands in front of the emulator and answers one API path with
// a WeChat errcode while told to, as WeChat does once a quota is spent
// (45009). It counts the calls that reach the path, refused or not.
type refuser struct {
	next http.RoundTripper
	path string

	mu      sync.Mutex
	errcode int  // 0: pass the call on
	fail    bool // fail the call as an unreachable WeChat would
	calls   int
}

func (f *refuser) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != f.path {
		return f.next.RoundTrip(r)
	}
	f.mu.Lock()
	f.calls++
	code, fail := f.errcode, f.fail
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connection reset by peer")
	}
	if code == 0 {
		return f.next.RoundTrip(r)
	}
	body := `{"errcode":` + strconv.Itoa(code) + `,"errmsg":"api freq out of limit"}`
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json; encoding=utf-8"}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}, nil
}

func (f *refuser) refuse(errcode int) {
	f.mu.Lock()
	f.errcode = errcode
	f.mu.Unlock()
}

func (f *refuser) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// frozen is a clock that moves only when told, with the emulator's if
// it has one.
type frozen struct {
	mu  sync.Mutex
	now time.Time
	wx  *wechattest.Server
}

func (c *frozen) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *frozen) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	if c.wx != nil {
		c.wx.Advance(d)
	}
}

// configRig is a JS-SDK config handler over the emulator, with getticket
// behind a refuser and the credentials' clock frozen.
type configRig struct {
	wx      *wechattest.Server
	clock   *frozen
	tickets *refuser
	handler http.Handler
}

func newConfigRig(t *testing.T) *configRig {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	ref := &refuser{next: wx.Client().Transport, path: pathTicket}
	client := &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: &http.Client{Transport: ref}, Endpoints: wx.Endpoints()}
	clock := &frozen{now: time.Now(), wx: wx}
	mp.SetClock(client, clock.Now)
	signer, err := jssdk.New(jssdk.Options{
		AppID:   wx.AppID,
		Tickets: mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.CredentialOptions{}), mp.CredentialOptions{}),
		Origins: []string{"https://app.example"},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &configRig{wx: wx, clock: clock, tickets: ref, handler: signer.Handler()}
}

// configs asks for n configs and counts the answers by HTTP status.
func (r *configRig) configs(n int) map[int]int {
	got := map[int]int{}
	req := httptest.NewRequest(http.MethodGet, "/wechat/jssdk?url="+url.QueryEscape("https://app.example/account/?from=timeline"), nil)
	for range n {
		w := httptest.NewRecorder()
		r.handler.ServeHTTP(w, req)
		got[w.Code]++
	}
	return got
}

// TestConfigCallsAfterARefusal counts the getticket calls 100 config
// requests make once WeChat refuses the ticket with 45009: with nothing
// cached, and with a ticket due for renewal but still valid.
func TestConfigCallsAfterARefusal(t *testing.T) {
	t.Run("nothing cached", func(t *testing.T) {
		r := newConfigRig(t)
		r.tickets.refuse(mp.CodeDailyQuota)
		got := r.configs(100)
		t.Logf("getticket calls for 100 config requests after a refusal, nothing cached: %d (answers %v)", r.tickets.count(), got)
		if got[http.StatusBadGateway] != 100 {
			t.Errorf("answers: got %v, want 100 × 502", got)
		}
		if n := r.tickets.count(); n != 1 {
			t.Errorf("getticket calls: got %d, want 1", n)
		}
	})
	t.Run("a valid ticket cached", func(t *testing.T) {
		r := newConfigRig(t)
		if got := r.configs(1); got[http.StatusOK] != 1 {
			t.Fatalf("first config: %v", got)
		}
		r.clock.Advance(7200*time.Second - 4*time.Minute) // due for renewal, still valid
		r.tickets.refuse(mp.CodeDailyQuota)
		before := r.tickets.count()
		got := r.configs(100)
		t.Logf("getticket calls for 100 config requests after a refusal, a valid ticket cached: %d (answers %v)", r.tickets.count()-before, got)
		if got[http.StatusOK] != 100 {
			t.Errorf("answers: got %v, want 100 × 200 with the cached ticket", got)
		}
		if n := r.tickets.count() - before; n != 1 {
			t.Errorf("getticket calls: got %d, want 1", n)
		}
	})
}

// backoffRig is a ticket source over the emulator, with getticket and
// /cgi-bin/token behind refusers and a frozen clock.
type backoffRig struct {
	wx      *wechattest.Server
	clock   *frozen
	ticket  *refuser // getticket
	token   *refuser // /cgi-bin/token
	client  *mp.Client
	tokens  mp.AccessTokenSource
	tickets mp.TicketSource
}

func newBackoffRig(t *testing.T, cache mp.CredentialCache) *backoffRig {
	t.Helper()
	wx := wechattest.NewServer()
	t.Cleanup(wx.Close)
	r := &backoffRig{wx: wx, clock: &frozen{now: time.Now(), wx: wx}}
	r.token = &refuser{next: wx.Client().Transport, path: "/cgi-bin/token"}
	r.ticket = &refuser{next: r.token, path: pathTicket}
	r.client = &mp.Client{AppID: wx.AppID, AppSecret: wx.AppSecret, HTTPClient: &http.Client{Transport: r.ticket}, Endpoints: wx.Endpoints()}
	mp.SetClock(r.client, r.clock.Now)
	r.tokens = mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	r.tickets = r.source(cache)
	return r
}

// source is another ticket source on the rig's client, as another
// instance would have.
func (r *backoffRig) source(cache mp.CredentialCache) mp.TicketSource {
	return mp.NewTicketSource(r.client, r.tokens, mp.CredentialOptions{Cache: cache})
}

// wantBackoff checks that err is a back-off over WeChat's errcode code.
func wantBackoff(t *testing.T, err error, code int) *mp.BackoffError {
	t.Helper()
	var be *mp.BackoffError
	var e *mp.Error
	if !errors.As(err, &be) || !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got %v, want a *mp.BackoffError over errcode %d", err, code)
	}
	return be
}

// TestBackoffGrowsAndResets: after a refusal no fetch goes upstream for
// 1 s, then 2, 4 ... up to MaxBackoff for each further refusal; callers
// meanwhile get the last refusal; a success ends it, and the next refusal
// starts again at 1 s.
func TestBackoffGrowsAndResets(t *testing.T) {
	r := newBackoffRig(t, nil)
	ctx := context.Background()
	r.ticket.refuse(mp.CodeDailyQuota)
	var e *mp.Error
	if _, err := r.tickets.Ticket(ctx); !errors.As(err, &e) || e.Code != mp.CodeDailyQuota {
		t.Fatalf("first Ticket: got %v, want errcode 45009", err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, d := range want {
		d *= time.Second
		calls := r.ticket.count()
		r.clock.Advance(d - time.Millisecond)
		be := wantBackoff(t, func() error { _, err := r.tickets.Ticket(ctx); return err }(), mp.CodeDailyQuota)
		if be.Count != i+1 || !be.Until.Equal(r.clock.Now().Add(time.Millisecond)) {
			t.Errorf("refusal %d: back-off %d failures until %v, want %d until %v", i+1, be.Count, be.Until, i+1, r.clock.Now().Add(time.Millisecond))
		}
		if got := r.ticket.count() - calls; got != 0 {
			t.Fatalf("refusal %d: %d getticket calls within the back-off of %v, want 0", i+1, got, d)
		}
		r.clock.Advance(time.Millisecond)
		if _, err := r.tickets.Ticket(ctx); !errors.As(err, &e) {
			t.Fatalf("refusal %d: after %v got %v, want the refusal", i+1, d, err)
		}
		if got := r.ticket.count() - calls; got != 1 {
			t.Fatalf("refusal %d: %d getticket calls once the back-off of %v ended, want 1", i+1, got, d)
		}
	}
	if got := mp.MaxBackoff; got != time.Minute {
		t.Errorf("MaxBackoff: got %v, want 1 minute", got)
	}
	r.ticket.refuse(0)
	r.clock.Advance(time.Minute)
	if got, err := r.tickets.Ticket(ctx); err != nil || got == "" {
		t.Fatalf("Ticket once WeChat answers: %q, %v", got, err)
	}
	if err := r.tickets.Invalidate(ctx, mustTicket(t, r.tickets)); err != nil {
		t.Fatal(err)
	}
	r.ticket.refuse(mp.CodeDailyQuota)
	_, _ = r.tickets.Ticket(ctx)
	r.clock.Advance(time.Second - time.Millisecond)
	if be := wantBackoff(t, func() error { _, err := r.tickets.Ticket(ctx); return err }(), mp.CodeDailyQuota); be.Count != 1 {
		t.Errorf("a refusal after a success: back-off after %d failures, want 1", be.Count)
	}
	r.clock.Advance(time.Millisecond)
	calls := r.ticket.count()
	_, _ = r.tickets.Ticket(ctx)
	if got := r.ticket.count() - calls; got != 1 {
		t.Errorf("a refusal after a success: %d calls 1 s later, want 1 (the back-off starts again at 1 s)", got)
	}
}

func mustTicket(t *testing.T, ts mp.TicketSource) string {
	t.Helper()
	tk, err := ts.Ticket(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestBusyIsRetriedOnceThenBackedOff: one -1 is retried at once and not
// seen; two in a row are the fetch's failure and start a back-off.
func TestBusyIsRetriedOnceThenBackedOff(t *testing.T) {
	r := newBackoffRig(t, nil)
	ctx := context.Background()
	r.wx.FailNext(pathTicket, mp.CodeBusy)
	if got, err := r.tickets.Ticket(ctx); err != nil || got == "" {
		t.Fatalf("Ticket after one -1: %q, %v; want a ticket", got, err)
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls: got %d, want 2 (the busy one, its retry)", got)
	}
	r.clock.Advance(3 * time.Hour)
	busyTwice(r.wx, pathTicket)
	var e *mp.Error
	if _, err := r.tickets.Ticket(ctx); !errors.As(err, &e) || e.Code != mp.CodeBusy {
		t.Fatalf("Ticket after two -1: got %v, want errcode -1", err)
	}
	for range 10 {
		_, err := r.tickets.Ticket(ctx)
		wantBackoff(t, err, mp.CodeBusy)
	}
	if got := r.wx.Calls(pathTicket); got != 4 {
		t.Errorf("getticket calls: got %d, want 4 (no call during the back-off)", got)
	}
}

// TestStaleTokenOnTheTicketIsNotBackedOff: 40001 on getticket is cured by
// a fresh access token, not by waiting: the next Ticket calls at once.
func TestStaleTokenOnTheTicketIsNotBackedOff(t *testing.T) {
	r := newBackoffRig(t, nil)
	r.wx.FailNext(pathTicket, mp.CodeInvalidCredential)
	r.wx.FailNext(pathTicket, mp.CodeInvalidCredential)
	var e *mp.Error
	if _, err := r.tickets.Ticket(context.Background()); !errors.As(err, &e) || e.Code != mp.CodeInvalidCredential {
		t.Fatalf("Ticket refused twice: got %v, want errcode 40001", err)
	}
	if got, err := r.tickets.Ticket(context.Background()); err != nil || got == "" {
		t.Errorf("the next Ticket: %q, %v; want a ticket at once", got, err)
	}
}

// TestTransportFailuresAreBackedOff: WeChat unreachable is backed off like
// a refusal, and the error callers get holds no secret.
func TestTransportFailuresAreBackedOff(t *testing.T) {
	r := newBackoffRig(t, nil)
	ctx := context.Background()
	token, err := r.tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.ticket.mu.Lock()
	r.ticket.fail = true
	r.ticket.mu.Unlock()
	if _, err := r.tickets.Ticket(ctx); !errors.Is(err, mp.ErrUpstream) {
		t.Fatalf("Ticket with WeChat unreachable: got %v, want ErrUpstream", err)
	}
	calls := r.ticket.count()
	_, err = r.tickets.Ticket(ctx)
	var be *mp.BackoffError
	if !errors.As(err, &be) || !errors.Is(err, mp.ErrUpstream) {
		t.Fatalf("Ticket within the back-off: got %v, want a *BackoffError wrapping ErrUpstream", err)
	}
	if got := r.ticket.count() - calls; got != 0 {
		t.Errorf("getticket calls within the back-off: got %d, want 0", got)
	}
	for _, secret := range []string{token, r.wx.AppSecret} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q holds a secret", err)
		}
	}
}

// TestAccessTokenRefusalsAreBackedOff: /cgi-bin/token out of quota costs
// one call for 100 asks, whether they ask for the token or the ticket.
func TestAccessTokenRefusalsAreBackedOff(t *testing.T) {
	r := newBackoffRig(t, nil)
	r.wx.SetTokenQuota(0)
	for range 50 {
		_, err := r.tokens.Token(context.Background())
		var e *mp.Error
		if !errors.As(err, &e) || e.Code != mp.CodeDailyQuota {
			t.Fatalf("Token: got %v, want errcode 45009", err)
		}
	}
	for range 50 {
		if _, err := r.tickets.Ticket(context.Background()); err == nil {
			t.Fatal("Ticket without an access token: nil error")
		}
	}
	t.Logf("/cgi-bin/token calls for 100 asks after a refusal: %d", r.token.count())
	if got := r.token.count(); got != 1 {
		t.Errorf("/cgi-bin/token calls: got %d, want 1", got)
	}
	if got := r.ticket.count(); got != 0 {
		t.Errorf("getticket calls: got %d, want 0", got)
	}
}

// TestBackoffIsSharedThroughTheCache: two sources on one memory cache, as
// two parts of one process would be, back off together.
func TestBackoffIsSharedThroughTheCache(t *testing.T) {
	cache := mp.NewMemoryCache()
	if _, ok := cache.(mp.BackoffCache); !ok {
		t.Fatal("NewMemoryCache is not a BackoffCache")
	}
	r := newBackoffRig(t, cache)
	other := r.source(cache)
	r.ticket.refuse(mp.CodeDailyQuota)
	_, _ = r.tickets.Ticket(context.Background())
	_, err := other.Ticket(context.Background())
	wantBackoff(t, err, mp.CodeDailyQuota)
	if got := r.ticket.count(); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
}

// plainCache is a CredentialCache that is nothing more.
type plainCache struct{ mp.CredentialCache }

// TestBackoffWithACacheThatKeepsNone: a cache that is not a BackoffCache
// still gets a back-off, kept by each source.
func TestBackoffWithACacheThatKeepsNone(t *testing.T) {
	r := newBackoffRig(t, plainCache{mp.NewMemoryCache()})
	r.ticket.refuse(mp.CodeDailyQuota)
	for range 100 {
		_, _ = r.tickets.Ticket(context.Background())
	}
	if got := r.ticket.count(); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
}
