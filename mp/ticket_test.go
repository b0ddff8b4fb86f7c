package mp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wechattest"
)

const pathTicket = "/cgi-bin/ticket/getticket"

// ticketRig is a tokenRig with the two sources the ticket needs.
type ticketRig struct {
	*tokenRig
	tokens  mp.AccessTokenSource
	tickets mp.TicketSource
}

func newTicketRig(t *testing.T, opts mp.CredentialOptions) *ticketRig {
	t.Helper()
	r := newTokenRig(t)
	tokens := mp.NewAccessTokenSource(r.client, mp.CredentialOptions{})
	return &ticketRig{tokenRig: r, tokens: tokens, tickets: mp.NewTicketSource(r.client, tokens, opts)}
}

func TestJSAPITicket(t *testing.T) {
	r := newTokenRig(t)
	ctx := context.Background()
	tok, err := r.client.AccessToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := r.client.JSAPITicket(ctx, tok.Value)
	if err != nil || ticket.Value == "" {
		t.Fatalf("JSAPITicket: %+v, %v", ticket, err)
	}
	if d := time.Until(ticket.Expiry); d < 7100*time.Second || d > 7200*time.Second {
		t.Errorf("expiry in %v, want about 7200 s", d)
	}
	for _, tt := range []struct {
		name, token string
		want        int
	}{
		{"missing token", "", 41001},
		{"malformed token", "not a token!", mp.CodeInvalidAccessToken},
		{"unknown token", strings.Repeat("A", 128), mp.CodeInvalidCredential},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.client.JSAPITicket(ctx, tt.token)
			var e *mp.Error
			if !errors.As(err, &e) || e.Code != tt.want {
				t.Fatalf("got %v, want errcode %d", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q holds the access token", err)
			}
		})
	}
	r.Advance(2 * time.Hour)
	if _, err := r.client.JSAPITicket(ctx, tok.Value); !staleToken(err) {
		t.Errorf("JSAPITicket with an expired token: got %v, want errcode 42001", err)
	}
}

// busyTwice makes the next two calls of path answer -1, system busy: a
// fetch and its immediate retry.
func busyTwice(wx *wechattest.Server, path string) {
	wx.FailNext(path, mp.CodeBusy)
	wx.FailNext(path, mp.CodeBusy)
}

func staleToken(err error) bool {
	var e *mp.Error
	return errors.As(err, &e) && e.Code == mp.CodeAccessTokenExpired
}

func TestTicketSourceCachesAndRefreshesAhead(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	ctx := context.Background()
	first, err := r.tickets.Ticket(ctx)
	if err != nil || first == "" {
		t.Fatalf("Ticket: %q, %v", first, err)
	}
	if again, _ := r.tickets.Ticket(ctx); again != first || r.wx.Calls(pathTicket) != 1 {
		t.Errorf("second Ticket: got %q after %d fetches, want the cached ticket after 1", again, r.wx.Calls(pathTicket))
	}
	r.Advance(7200*time.Second - 4*time.Minute) // within 5 minutes of expiry
	// WeChat answers the same ticket within its 7200 s, with expires_in
	// 7200 again: the second getticket call is what shows the refresh.
	if next, err := r.tickets.Ticket(ctx); err != nil || next == "" {
		t.Errorf("Ticket near expiry: got %q, %v; want a ticket", next, err)
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls: got %d, want 2", got)
	}
}

func TestTicketSourceRefetchesAStaleAccessToken(t *testing.T) {
	for _, code := range []int{mp.CodeInvalidCredential, mp.CodeInvalidAccessToken, mp.CodeAccessTokenExpired} {
		t.Run(fmt.Sprintf("errcode %d", code), func(t *testing.T) {
			r := newTicketRig(t, mp.CredentialOptions{})
			r.wx.FailNext(pathTicket, code)
			ticket, err := r.tickets.Ticket(context.Background())
			if err != nil || ticket == "" {
				t.Fatalf("Ticket after errcode %d: %q, %v", code, ticket, err)
			}
			if got := r.wx.Calls(pathTicket); got != 2 {
				t.Errorf("getticket calls: got %d, want 2 (the refused one, the retry)", got)
			}
			if got := r.fetches(); got != 2 {
				t.Errorf("access_token fetches: got %d, want 2 (the dropped token, the fresh one)", got)
			}
		})
	}
}

func TestTicketSourceRetriesOnlyOnce(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	r.wx.FailNext(pathTicket, mp.CodeInvalidCredential)
	r.wx.FailNext(pathTicket, mp.CodeInvalidCredential)
	var e *mp.Error
	if _, err := r.tickets.Ticket(context.Background()); !errors.As(err, &e) || e.Code != mp.CodeInvalidCredential {
		t.Fatalf("Ticket refused twice: got %v, want errcode 40001", err)
	}
	if got := r.wx.Calls(pathTicket); got != 2 {
		t.Errorf("getticket calls: got %d, want 2", got)
	}
}

func TestTicketSourceKeepsAWorkingTicketWhenTheFetchFails(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	ctx := context.Background()
	first, err := r.tickets.Ticket(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.Advance(7200*time.Second - 4*time.Minute) // due for renewal, still valid
	busyTwice(r.wx, pathTicket)                 // the fetch and its one retry
	if got, err := r.tickets.Ticket(ctx); err != nil || got != first {
		t.Errorf("Ticket while WeChat is busy: got %q, %v; want the cached %q", got, err, first)
	}
	r.Advance(5 * time.Minute) // expired: nothing to fall back on
	busyTwice(r.wx, pathTicket)
	var e *mp.Error
	if _, err := r.tickets.Ticket(ctx); !errors.As(err, &e) || e.Code != mp.CodeBusy {
		t.Errorf("Ticket with an expired cache and a busy WeChat: got %v, want errcode -1", err)
	}
	r.Advance(time.Second) // the back-off after one failure
	if got, err := r.tickets.Ticket(ctx); err != nil || got == "" || got == first {
		t.Errorf("Ticket once WeChat answers again: got %q, %v; want a new ticket", got, err)
	}
}

func TestTicketSourceInvalidate(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	ctx := context.Background()
	first, _ := r.tickets.Ticket(ctx)
	if err := r.tickets.Invalidate(ctx, "another ticket"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.tickets.Ticket(ctx); got != first {
		t.Errorf("Ticket after invalidating another ticket: got %q, want the cached %q", got, first)
	}
	r.wx.StaleTickets() // WeChat renewed it: why a page would report it
	if err := r.tickets.Invalidate(ctx, first); err != nil {
		t.Fatal(err)
	}
	next, err := r.tickets.Ticket(ctx)
	if err != nil || next == first || next == "" {
		t.Errorf("Ticket after Invalidate: got %q, %v; want a new ticket", next, err)
	}
	if got := r.fetches(); got != 1 {
		t.Errorf("access_token fetches: got %d, want 1 (the token was never refused)", got)
	}
}

func TestTicketSourceOneFetchForManyGoroutines(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	r.wx.SetLatency(20 * time.Millisecond)
	const n = 500
	var wg sync.WaitGroup
	tickets := make([]string, n)
	for i := range tickets {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tickets[i], _ = r.tickets.Ticket(context.Background())
		}(i)
	}
	wg.Wait()
	if got := r.wx.Calls(pathTicket); got != 1 {
		t.Errorf("getticket calls: got %d, want 1", got)
	}
	for i, tk := range tickets {
		if tk == "" || tk != tickets[0] {
			t.Fatalf("goroutine %d got %q, want %q", i, tk, tickets[0])
		}
	}
}

func TestTicketSourceHonoursTheCallersContext(t *testing.T) {
	r := newTicketRig(t, mp.CredentialOptions{})
	r.wx.SetLatency(time.Hour) // WeChat never answers: only the caller's deadline ends the wait
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.tickets.Ticket(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Ticket past the caller's deadline: got %v, want context.DeadlineExceeded", err)
	}
}

// TestTicketSourceNeverCachesAnEmptyTicket: a reply with errcode 0 and no
// ticket, which the emulator never gives, is an error and is not kept.
func TestTicketSourceNeverCachesAnEmptyTicket(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == pathTicket {
			calls++
		}
		w.Write([]byte(`{"errcode":0,"errmsg":"ok","ticket":"","expires_in":7200,"access_token":"T"}`))
	}))
	defer srv.Close()
	c := &mp.Client{AppID: "wx1", AppSecret: "s", HTTPClient: srv.Client(), Endpoints: mp.Endpoints{API: srv.URL}}
	clock := &frozen{now: time.Now()}
	mp.SetClock(c, clock.Now)
	tickets := mp.NewTicketSource(c, mp.NewAccessTokenSource(c, mp.CredentialOptions{}), mp.CredentialOptions{})
	for i := 0; i < 2; i++ {
		if got, err := tickets.Ticket(context.Background()); !errors.Is(err, mp.ErrUpstream) || got != "" {
			t.Errorf("Ticket %d with an empty reply: got %q, %v; want an error wrapping ErrUpstream", i+1, got, err)
		}
		clock.Advance(time.Second) // past the back-off after one failure
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Errorf("getticket calls: got %d, want 2 (nothing cached in between)", calls)
	}
}
