package jssdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
)

// logLines returns the lines of log that contain msg.
func logLines(log *bytes.Buffer, msg string) []string {
	var lines []string
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, msg) {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestRefusedOriginIsLoggedOnce: the first refusal of a page of an origin
// not in Options.Origins is logged at warn level with the fix; the same
// origin again is not; a client sending ever new origins is logged for at
// most 64 of them and one line more.
func TestRefusedOriginIsLoggedOnce(t *testing.T) {
	r := newRig(t, nil)
	const msg = "not in Options.Origins"
	for range 3 {
		if w := r.get(t, "https://shop.example/account/"); w.Code != http.StatusBadRequest {
			t.Fatalf("config of another origin: got HTTP %d, want 400", w.Code)
		}
	}
	lines := logLines(r.log, msg)
	if len(lines) != 1 {
		t.Fatalf("log after 3 refusals of one origin: got %d lines, want 1:\n%s", len(lines), r.log)
	}
	for _, want := range []string{"level=WARN", "origin=https://shop.example", "jssdk.Options.Origins", "JS安全域名"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line %q lacks %q", lines[0], want)
		}
	}
	if code, _ := r.report(t, r.config(t, site+"/"), "https://shop.example/"); code != http.StatusBadRequest {
		t.Fatalf("report of another origin: got HTTP %d, want 400", code)
	}
	if code, _ := r.report(t, r.config(t, site+"/"), "https://other.example/"); code != http.StatusBadRequest {
		t.Fatalf("report of another origin: got HTTP %d, want 400", code)
	}
	if n := len(logLines(r.log, msg)); n != 2 {
		t.Errorf("log after a report of the same origin and one of a new one: got %d lines, want 2", n)
	}
	for i := range 200 {
		r.get(t, "https://h"+strconv.Itoa(i)+".example/")
	}
	lines = logLines(r.log, "Options.Origins")
	if len(lines) != 65 || !strings.Contains(lines[64], "no more of them are logged") {
		t.Errorf("log after 202 origins: got %d lines, want 64 origins and one line saying no more are logged; last: %q", len(lines), lines[len(lines)-1])
	}
	if w := r.get(t, site+"/"); w.Code != http.StatusOK {
		t.Errorf("a page of this site: got HTTP %d, want 200", w.Code)
	}
}

// scripted is a TicketSource whose Ticket returns what the test says.
type scripted struct {
	mu  sync.Mutex
	err error
}

func (s *scripted) Ticket(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	return "TICKET", nil
}

func (s *scripted) Invalidate(context.Context, string) error { return nil }

func (s *scripted) set(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// TestTicketFailuresAreLoggedOncePerRun: a hundred requests while WeChat
// refuses the ticket (the fetch, then the source's back-off over that
// refusal) make one error line, and the ticket's return one more; a new
// failure is a new line.
func TestTicketFailuresAreLoggedOncePerRun(t *testing.T) {
	src := &scripted{}
	r := newRig(t, func(o *jssdk.Options) { o.Tickets = src })
	quota := &mp.Error{Code: mp.CodeDailyQuota, Msg: "reach max api daily quota limit", Endpoint: "/cgi-bin/ticket/getticket"}
	src.set(quota)
	r.get(t, site+"/")
	src.set(&mp.BackoffError{What: "jsapi ticket", Until: time.Now().Add(time.Second), Count: 1,
		Err: &mp.Error{Code: quota.Code, Msg: quota.Msg, Endpoint: quota.Endpoint}})
	for range 99 {
		if w := r.get(t, site+"/"); w.Code != http.StatusBadGateway {
			t.Fatalf("got HTTP %d, want 502", w.Code)
		}
	}
	const failure, back = "no jsapi_ticket", "available again"
	if lines := logLines(r.log, failure); len(lines) != 1 || !strings.Contains(lines[0], "errcode 45009") || !strings.Contains(lines[0], "level=ERROR") {
		t.Fatalf("log after 100 refused requests: got %d lines, want 1 error with errcode 45009:\n%s", len(lines), r.log)
	}
	src.set(nil)
	for range 3 {
		if w := r.get(t, site+"/"); w.Code != http.StatusOK {
			t.Fatalf("once the ticket is back: got HTTP %d, want 200", w.Code)
		}
	}
	if lines := logLines(r.log, back); len(lines) != 1 || !strings.Contains(lines[0], "failed_requests=100") {
		t.Errorf("log once the ticket is back: got %q, want one line with failed_requests=100", lines)
	}
	src.set(quota)
	r.get(t, site+"/")
	src.set(fmt.Errorf("mp: /cgi-bin/ticket/getticket: %w: connection refused", mp.ErrUpstream))
	r.get(t, site+"/")
	r.get(t, site+"/")
	if n := len(logLines(r.log, failure)); n != 3 {
		t.Errorf("log after a new run of 45009 and then another failure: got %d lines, want 3:\n%s", n, r.log)
	}
	if strings.Contains(r.log.String(), "TICKET") {
		t.Errorf("the log holds the ticket")
	}
}

// TestTicketRefusalLoggedOnceWithTheEmulator: the same through the real
// ticket source, with the emulator's getticket refusing 45009 for every
// call (its daily quota spent): a hundred requests reach WeChat once.
func TestTicketRefusalLoggedOnceWithTheEmulator(t *testing.T) {
	r := newRig(t, nil)
	r.wx.SetTicketQuota(0)
	client := &mp.Client{AppID: r.wx.AppID, AppSecret: r.wx.AppSecret, HTTPClient: r.wx.Client(), Endpoints: r.wx.Endpoints()}
	log := new(bytes.Buffer)
	signer, err := jssdk.New(jssdk.Options{
		AppID:   r.wx.AppID,
		Tickets: mp.NewTicketSource(client, mp.NewAccessTokenSource(client, mp.CredentialOptions{}), mp.CredentialOptions{}),
		Origins: []string{site},
		Logger:  slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.signer = signer
	before := r.wx.Calls(pathTicket)
	for range 100 {
		if w := r.get(t, site+"/"); w.Code != http.StatusBadGateway {
			t.Fatalf("got HTTP %d, want 502", w.Code)
		}
	}
	calls := r.wx.Calls(pathTicket) - before
	t.Logf("100 config requests while getticket answers 45009: %d getticket calls", calls)
	if calls != 1 {
		t.Errorf("getticket calls for 100 requests after a refusal: got %d, want 1 (then the back-off)", calls)
	}
	if n := len(logLines(log, "no jsapi_ticket")); n != 1 {
		t.Errorf("log after 100 refused requests: got %d lines, want 1:\n%s", n, log)
	}
}

// TestRenewalIntervalPerInstanceWithTheMemoryCache: instances whose
// ticket sources keep the ticket in memory keep the interval each: one
// renewal an interval per instance.
func TestRenewalIntervalPerInstanceWithTheMemoryCache(t *testing.T) {
	a := newRig(t, func(o *jssdk.Options) { o.RenewInterval = time.Minute })
	b := newRig(t, func(o *jssdk.Options) { o.RenewInterval = time.Minute })
	page := site + "/account/"
	for round := range 2 {
		for name, r := range map[string]*rig{"a": a, "b": b} {
			renewed := 0
			for range 3 {
				if _, body := r.report(t, r.config(t, page), page); body == `{"renewed":true}` {
					renewed++
				}
			}
			if renewed != 1 {
				t.Errorf("round %d, instance %s: %d renewals, want 1", round+1, name, renewed)
			}
			r.advance(time.Minute)
		}
	}
}

// limited is a ticket source that keeps the renewal interval elsewhere,
// as one on a shared cache does.
type limited struct {
	mp.TicketSource
	mu      sync.Mutex
	allowed bool
	asked   int
	err     error
}

func (l *limited) AllowRenew(_ context.Context, interval time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked++
	return l.allowed, l.err
}

// TestRenewalAsksTheSharedInterval: with a ticket source that is an
// mp.RenewLimiter, a renewal needs its consent as well as the Signer's
// own interval; a limiter that cannot tell leaves the Signer's interval.
func TestRenewalAsksTheSharedInterval(t *testing.T) {
	var lim *limited
	r := newRig(t, func(o *jssdk.Options) {
		lim = &limited{TicketSource: o.Tickets}
		o.Tickets = lim
		o.RenewInterval = time.Minute
	})
	page := site + "/account/"
	if _, body := r.report(t, r.config(t, page), page); body != `{"renewed":false}` || lim.asked != 1 {
		t.Errorf("refused by the shared interval: got %s after %d asks, want renewed false after 1", body, lim.asked)
	}
	lim.allowed = true
	if _, body := r.report(t, r.config(t, page), page); body != `{"renewed":true}` {
		t.Errorf("allowed by the shared interval: got %s, want renewed true", body)
	}
	if _, body := r.report(t, r.config(t, page), page); body != `{"renewed":false}` || lim.asked != 2 {
		t.Errorf("within this Signer's interval: got %s after %d asks, want renewed false without asking", body, lim.asked)
	}
	r.advance(time.Minute)
	lim.err = fmt.Errorf("no interval here: %w", errors.ErrUnsupported)
	results := ""
	for range 2 {
		_, body := r.report(t, r.config(t, page), page)
		results += body
	}
	if results != `{"renewed":true}{"renewed":false}` {
		t.Errorf("with a limiter that cannot tell: got %s, want one renewal an interval", results)
	}
	lim.err = errors.New("redis down")
	r.advance(time.Minute)
	if code, _ := r.report(t, r.config(t, page), page); code != http.StatusBadGateway {
		t.Errorf("with a failing limiter: got HTTP %d, want 502", code)
	}
}
