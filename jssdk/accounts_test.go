package jssdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wechatauth/wechatauth/jssdk"
)

// staticTickets is a ticket source that always gives one ticket.
type staticTickets struct{ ticket string }

func (s staticTickets) Ticket(context.Context) (string, error)   { return s.ticket, nil }
func (s staticTickets) Invalidate(context.Context, string) error { return nil }

// accountsRig is an Accounts of two accounts, chosen by host name, each
// with a ticket of its own.
type accountsRig struct {
	accounts *jssdk.Accounts
	tickets  map[string]string // appid → ticket
	news     atomic.Int32
	log      bytes.Buffer
}

func newAccountsRig(t *testing.T) *accountsRig {
	t.Helper()
	r := &accountsRig{tickets: map[string]string{
		"wx00000000000000a1": "ticket-of-a1",
		"wx00000000000000a2": "ticket-of-a2",
	}}
	hosts := map[string]string{"a1.example.com": "wx00000000000000a1", "a2.example.com": "wx00000000000000a2",
		"gone.example.com": "wx00000000000000ff"}
	r.accounts = &jssdk.Accounts{
		Account: func(req *http.Request) string { return hosts[req.Host] },
		New: func(appID string) (*jssdk.Signer, error) {
			r.news.Add(1)
			ticket, ok := r.tickets[appID]
			if !ok {
				return nil, errors.New("not an authorizer of the platform")
			}
			return jssdk.New(jssdk.Options{
				AppID:   appID,
				Tickets: staticTickets{ticket},
				Origins: []string{"https://a1.example.com", "https://a2.example.com"},
			})
		},
		Logger: slog.New(slog.NewTextHandler(&r.log, nil)),
	}
	return r
}

func (r *accountsRig) get(t *testing.T, host, pageURL string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "https://"+host+"/wechat/jssdk?url="+url.QueryEscape(pageURL), nil)
	w := httptest.NewRecorder()
	r.accounts.Handler().ServeHTTP(w, req)
	return w
}

// TestAccountsSignEachAccountsPagesWithItsOwnAppIDAndTicket: one handler
// answers each host with the config of its own account, signed with that
// account's ticket; each Signer is made once.
func TestAccountsSignEachAccountsPagesWithItsOwnAppIDAndTicket(t *testing.T) {
	r := newAccountsRig(t)
	for _, tc := range []struct{ host, appID string }{
		{"a1.example.com", "wx00000000000000a1"},
		{"a2.example.com", "wx00000000000000a2"},
		{"a1.example.com", "wx00000000000000a1"},
	} {
		page := "https://" + tc.host + "/shop?id=7"
		w := r.get(t, tc.host, page)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", tc.host, w.Code, w.Body)
		}
		var c jssdk.Config
		if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.AppID != tc.appID {
			t.Errorf("%s: appId %q, want %q", tc.host, c.AppID, tc.appID)
		}
		if want := jssdk.Signature(r.tickets[tc.appID], c.NonceStr, c.Timestamp, page); c.Signature != want {
			t.Errorf("%s: the config is not signed with its account's ticket", tc.host)
		}
		for other, ticket := range r.tickets {
			if other != tc.appID && jssdk.Signature(ticket, c.NonceStr, c.Timestamp, page) == c.Signature {
				t.Errorf("%s: the config is signed with the ticket of %s", tc.host, other)
			}
		}
	}
	if n := r.news.Load(); n != 2 {
		t.Errorf("New called %d times for 2 accounts, want 2", n)
	}
}

// TestAccountsUnknownAccountIs404: a request of no account, or of one
// New refuses, gets 404 JSON that says so; New is asked again later.
func TestAccountsUnknownAccountIs404(t *testing.T) {
	r := newAccountsRig(t)
	for _, tc := range []struct{ host, want string }{
		{"other.example.com", "belongs to no Official Account"},
		{"gone.example.com", `account \"wx00000000000000ff\" are not signed here`},
	} {
		w := r.get(t, tc.host, "https://a1.example.com/")
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), tc.want) ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s: HTTP %d %s, want 404 JSON with %q", tc.host, w.Code, w.Body, tc.want)
		}
	}
	if !strings.Contains(r.log.String(), "not an authorizer of the platform") {
		t.Errorf("log %q does not carry New's error", r.log.String())
	}
	before := r.news.Load()
	r.get(t, "gone.example.com", "https://a1.example.com/")
	if r.news.Load() != before+1 {
		t.Error("a failed New was remembered; a later authorization would never be signed")
	}
}

// TestAccountsSignerIsMadeOnceUnderConcurrency: many requests of a new
// account at once share one call of New.
func TestAccountsSignerIsMadeOnceUnderConcurrency(t *testing.T) {
	r := newAccountsRig(t)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			host := fmt.Sprintf("a%d.example.com", 1+i%2)
			if w := r.get(t, host, "https://"+host+"/"); w.Code != http.StatusOK {
				t.Errorf("HTTP %d %s", w.Code, w.Body)
			}
		}(i)
	}
	wg.Wait()
	if n := r.news.Load(); n != 2 {
		t.Errorf("New called %d times, want once for each of 2 accounts", n)
	}
	s1, err1 := r.accounts.Signer("wx00000000000000a1")
	s2, err2 := r.accounts.Signer("wx00000000000000a1")
	if err1 != nil || err2 != nil || s1 != s2 {
		t.Errorf("Signer twice: %p %v, %p %v; want the same Signer", s1, err1, s2, err2)
	}
}

// TestAccountsRefuseASignerOfAnotherAccount: a New that returns the
// Signer of another appid would put that appId into wx.config.
func TestAccountsRefuseASignerOfAnotherAccount(t *testing.T) {
	a := &jssdk.Accounts{
		Account: func(*http.Request) string { return "wx00000000000000a1" },
		New: func(string) (*jssdk.Signer, error) {
			return jssdk.New(jssdk.Options{AppID: "wx00000000000000c1", Tickets: staticTickets{"t"}, Origins: []string{"https://a1.example.com"}})
		},
		Logger: slog.New(slog.DiscardHandler),
	}
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/?url="+url.QueryEscape("https://a1.example.com/"), nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("HTTP %d %s, want 404", w.Code, w.Body)
	}
	if _, err := a.Signer("wx00000000000000a1"); err == nil || !strings.Contains(err.Error(), "another account's appId") {
		t.Errorf("Signer: %v", err)
	}
}

// TestAccountsScriptIsSignersScript: the page script is the one a Signer
// serves, unchanged.
func TestAccountsScriptIsSignersScript(t *testing.T) {
	r := newAccountsRig(t)
	s, err := r.accounts.Signer("wx00000000000000a1")
	if err != nil {
		t.Fatal(err)
	}
	get := func(h http.Handler) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/wechat/jssdk.js", nil))
		return w
	}
	a, b := get(r.accounts.ScriptHandler()), get(s.ScriptHandler())
	if a.Code != http.StatusOK || a.Body.String() != b.Body.String() || a.Header().Get("ETag") != b.Header().Get("ETag") {
		t.Errorf("Accounts' script: HTTP %d, %d bytes; want the Signer's %d bytes", a.Code, a.Body.Len(), b.Body.Len())
	}
}
