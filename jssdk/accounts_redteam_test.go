package jssdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fixedTickets is a ticket source that always gives one ticket.
type fixedTickets string

func (f fixedTickets) Ticket(context.Context) (string, error)   { return string(f), nil }
func (f fixedTickets) Invalidate(context.Context, string) error { return nil }

// Hostile accounts against Accounts: what Account names, what New does,
// and how much each leaves behind.
func TestRedTeamAccountsHostileNames(t *testing.T) {
	var logs bytes.Buffer
	var news atomic.Int32
	a := &Accounts{
		Account: func(r *http.Request) string { return r.URL.Query().Get("account") }, // what the docs say not to do
		New: func(appID string) (*Signer, error) {
			news.Add(1)
			return New(Options{AppID: appID, Tickets: fixedTickets("t-" + appID), Origins: []string{"https://a.example.com"}})
		},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	page := url.QueryEscape("https://a.example.com/p")
	for _, name := range []string{"/", "wx../", "wx/a", "wx\x1f", "wx\nX-Injected: 1", "<script>", "wx a", "é",
		strings.Repeat("w", 257), "wx%00", "wx\"}", ""} {
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/jssdk?url="+page+"&account="+url.QueryEscape(name), nil))
		t.Logf("account %q: %d %.120s", trim(name), w.Code, w.Body.String())
		if w.Code != http.StatusNotFound || !json.Valid(w.Body.Bytes()) || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("account %q: %d %q (%s), want 404 JSON", trim(name), w.Code, w.Body.String(), w.Header().Get("Content-Type"))
		}
		if w.Header().Get("X-Injected") != "" {
			t.Errorf("account %q set a header", trim(name))
		}
	}
	a.mu.Lock()
	kept := len(a.signers)
	a.mu.Unlock()
	if kept != 0 {
		t.Errorf("%d entries kept for names New refused, want 0", kept)
	}
	if strings.Contains(logs.String(), "\nX-Injected") {
		t.Error("a name broke a log line")
	}
	// Well-formed names New accepts are kept, each for the life of the
	// Accounts: why Account must name only accounts this server serves.
	for i := range 1000 {
		w := httptest.NewRecorder()
		a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/jssdk?url="+page+"&account=wx"+strings.Repeat("0", 12)+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)), nil))
	}
	a.mu.Lock()
	kept = len(a.signers)
	a.mu.Unlock()
	t.Logf("1000 made-up well-formed appids from the request: %d Signers kept", kept)
	if kept != 1000 {
		t.Errorf("%d Signers kept for 1000 accounts New accepted", kept)
	}
}

// A failing New leaves nothing behind, however many requests ask; a
// Signer for the wrong appid is never served; a panicking New frees the
// account for the next request; concurrent first requests share one New.
func TestRedTeamAccountsFailingNew(t *testing.T) {
	var news atomic.Int32
	mode := "fail"
	var mu sync.Mutex
	a := &Accounts{
		Account: func(r *http.Request) string { return r.Host },
		New: func(appID string) (*Signer, error) {
			news.Add(1)
			mu.Lock()
			m := mode
			mu.Unlock()
			switch m {
			case "fail":
				return nil, errors.New("not an authorizer")
			case "other":
				return New(Options{AppID: "wxother", Tickets: fixedTickets("t"), Origins: []string{"https://a.example.com"}})
			case "panic":
				panic("New broke")
			}
			return New(Options{AppID: appID, Tickets: fixedTickets("t-" + appID), Origins: []string{"https://a.example.com"}})
		},
		Logger: slog.New(slog.DiscardHandler),
	}
	get := func(host string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/jssdk?url="+url.QueryEscape("https://a.example.com/p"), nil)
		r.Host = host
		a.Handler().ServeHTTP(w, r)
		return w.Code
	}
	for range 200 {
		if st := get("wxa"); st != http.StatusNotFound {
			t.Fatalf("failing New: %d", st)
		}
	}
	mu.Lock()
	mode = "other"
	mu.Unlock()
	if st := get("wxa"); st != http.StatusNotFound {
		t.Errorf("New giving another account's Signer: %d, want 404", st)
	}
	mu.Lock()
	mode = "panic"
	mu.Unlock()
	func() {
		defer func() { recover() }()
		get("wxa")
	}()
	mu.Lock()
	mode = "ok"
	mu.Unlock()
	news.Store(0)
	var wg sync.WaitGroup
	codes := make([]int, 40)
	for i := range codes {
		wg.Go(func() { codes[i] = get("wxa") })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("concurrent first request %d: %d", i, c)
		}
	}
	if n := news.Load(); n != 1 {
		t.Errorf("New called %d times for 40 concurrent first requests, want 1", n)
	}
	a.mu.Lock()
	kept := len(a.signers)
	a.mu.Unlock()
	if kept != 1 {
		t.Errorf("%d accounts kept, want 1", kept)
	}
}

func trim(s string) string {
	if len(s) > 30 {
		return s[:30] + "…"
	}
	return s
}

// A long account name from the request is quoted cut short, in the
// answer and the log.
func TestAccountsQuoteLongNamesShort(t *testing.T) {
	long := strings.Repeat("x", 5000)
	var logs strings.Builder
	a := &Accounts{
		Account: func(*http.Request) string { return long },
		New:     func(string) (*Signer, error) { return nil, errors.New("no such account") },
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
	}
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/wechat/jssdk?url=x", nil))
	if w.Code != http.StatusNotFound || w.Body.Len() > 300 {
		t.Errorf("answer: %d, %d bytes; want 404 and a short body", w.Code, w.Body.Len())
	}
	if strings.Contains(logs.String(), strings.Repeat("x", 65)) {
		t.Errorf("the log quotes the whole name: %d bytes", logs.Len())
	}
}
