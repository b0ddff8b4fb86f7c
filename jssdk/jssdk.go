package jssdk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/mp"
)

// Options configures [New]. AppID, Tickets and Origins are required; the
// other fields have working zero values.
type Options struct {
	// AppID is the Official Account's AppID, the appId of wx.config.
	AppID string
	// Tickets gives the account's jsapi_ticket: mp.NewTicketSource, with
	// a shared cache (redisstore) when several instances run.
	Tickets mp.TicketSource
	// Origins are the origins whose pages may be signed, such as
	// "https://example.com": the account's JS安全域名 (a few, set on
	// WeChat's settings page) with their scheme. Usually the origin of
	// wechatauth's Options.CallbackURL, which this package cannot see, so
	// it is stated here. A page URL of another origin gets HTTP 400.
	Origins []string
	// APIs is the jsApiList of a config whose request names none, such
	// as "updateAppMessageShareData" or "getLocation". Default: none.
	APIs []string
	// OpenTags is the openTagList of a config whose request names none,
	// such as "wx-open-launch-weapp". Default: none.
	OpenTags []string
	// Debug sets wx.config's debug, with which WeChat shows the result of
	// every call in an alert. Default false.
	Debug bool
	// Snapshot reports whether a request comes from a snapshot-page (快照页)
	// guest, who cannot use the JS-SDK: wire it to wechatauth's
	// CurrentUser(r) and User.Snapshot. Such a request gets no config but
	// HTTP 403 with "snapshot": true, and the script tells the page so.
	// Default: no request does.
	Snapshot func(*http.Request) bool
	// RenewInterval is the least time between two renewals of the ticket
	// that pages ask for after "invalid signature", so that a hostile page
	// cannot spend WeChat's daily ticket quota. A renewal also needs a
	// signature made with the ticket cached now, so each ticket is renewed
	// at most once. When Tickets keeps the interval in a cache that the
	// instances share (mp.NewTicketSource with a cache from redisstore's
	// Store.CredentialCache, an mp.RenewLimiter), instances renew once an
	// interval together; otherwise each Signer keeps its own, and N
	// instances may renew up to N times an interval. Default 5 minutes.
	RenewInterval time.Duration
	// Logger receives the reasons a ticket could not be had (never the
	// ticket). Default slog.Default().
	Logger *slog.Logger
}

// Config is the argument of wx.config: its JSON is what the page passes
// to wx.config as is. JSAPIList and OpenTagList are not signed, so they
// may be changed after [Signer.Sign].
type Config struct {
	Debug       bool     `json:"debug,omitempty"`
	AppID       string   `json:"appId"`
	Timestamp   int64    `json:"timestamp"`
	NonceStr    string   `json:"nonceStr"`
	Signature   string   `json:"signature"`
	JSAPIList   []string `json:"jsApiList"`
	OpenTagList []string `json:"openTagList"`
}

// Signer makes wx.config signatures for the pages of [Options.Origins] and
// serves them, with the page script, over HTTP. It is safe for
// concurrent use.
type Signer struct {
	o          Options
	origins    map[string]bool
	originList []string
	now        func() time.Time

	mu        sync.Mutex
	renewedAt time.Time // the last renewal a page asked for, by this Signer

	logMu       sync.Mutex
	refused     map[string]bool // origins refused and logged, at most maxRefusedOrigins
	failing     bool            // the last ticket failure is not followed by a success yet
	failure     string          // its failureKey
	failures    int             // failed requests since the last success
	failingFlag atomic.Bool     // failing, read without the lock on every success
}

// New checks o and returns a [Signer]. The error names every field that is
// wrong and how to fix it.
func New(o Options) (*Signer, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("jssdk: Options.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !wxspec.Valid(o.AppID, wxspec.MaxToken) {
		bad("AppID", "must be the Official Account's AppID, such as \"wx1234567890abcdef\", got %q", o.AppID)
	}
	if o.Tickets == nil {
		bad("Tickets", "is nil; set mp.NewTicketSource(client, accessTokens, mp.CredentialOptions{})")
	}
	if len(o.Origins) == 0 {
		bad("Origins", "is empty; list the origins of the pages to sign, such as the origin of wechatauth's Options.CallbackURL (\"https://example.com\")")
	}
	s := &Signer{o: o, origins: make(map[string]bool), now: time.Now, refused: make(map[string]bool)}
	for i, raw := range o.Origins {
		org, err := parseOrigin(raw)
		if err != nil {
			bad(fmt.Sprintf("Origins[%d]", i), "%v", err)
			continue
		}
		if !s.origins[org] {
			s.origins[org] = true
			s.originList = append(s.originList, org)
		}
	}
	for _, l := range []struct {
		field string
		names []string
	}{{"APIs", o.APIs}, {"OpenTags", o.OpenTags}} {
		if err := checkNames(l.names); err != nil {
			bad(l.field, "%v", err)
		}
	}
	if o.RenewInterval < 0 {
		bad("RenewInterval", "is %v; it must be 0 (the default, 5 minutes) or more", o.RenewInterval)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.o.RenewInterval == 0 {
		s.o.RenewInterval = 5 * time.Minute
	}
	if s.o.Logger == nil {
		s.o.Logger = slog.Default()
	}
	s.o.APIs = nonNil(o.APIs)
	s.o.OpenTags = nonNil(o.OpenTags)
	return s, nil
}

func nonNil(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}

// Sign returns the wx.config of the page at pageURL, with [Options.APIs]
// and [Options.OpenTags], for pages rendered on the server. pageURL must be
// the URL the browser shows (on iOS, the one the page was entered with),
// with WeChat's added parameters such as from=singlemessage: build it from
// the site's public origin and r.URL.RequestURI(), never from r.Host. An
// error wrapping [ErrBadURL] names the rule pageURL broke; other errors are
// the ticket's.
func (s *Signer) Sign(ctx context.Context, pageURL string) (Config, error) {
	signed, err := s.pageURL(pageURL)
	if err != nil {
		return Config{}, err
	}
	ticket, err := s.o.Tickets.Ticket(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("jssdk: getting the jsapi_ticket: %w", err)
	}
	nonce := rand.Text()
	ts := s.now().Unix()
	return Config{
		Debug:       s.o.Debug,
		AppID:       s.o.AppID,
		Timestamp:   ts,
		NonceStr:    nonce,
		Signature:   Signature(ticket, nonce, ts, signed),
		JSAPIList:   s.o.APIs,
		OpenTagList: s.o.OpenTags,
	}, nil
}

// renew drops the cached ticket and fetches a new one when c, the config
// of pageURL that WeChat refused with "invalid signature", was signed with
// the ticket cached now, and no renewal happened within RenewInterval. It
// reports whether it renewed.
func (s *Signer) renew(ctx context.Context, pageURL string, c Config) (bool, error) {
	signed, err := s.pageURL(pageURL)
	if err != nil {
		return false, err
	}
	ticket, err := s.o.Tickets.Ticket(ctx)
	if err != nil {
		return false, fmt.Errorf("jssdk: getting the jsapi_ticket: %w", err)
	}
	if Signature(ticket, c.NonceStr, c.Timestamp, signed) != c.Signature {
		return false, nil // signed with an older ticket, already replaced, or not by us
	}
	if ok, err := s.allowRenew(ctx); !ok || err != nil {
		return false, err
	}
	if err := s.o.Tickets.Invalidate(ctx, ticket); err != nil {
		return false, fmt.Errorf("jssdk: dropping the jsapi_ticket: %w", err)
	}
	if _, err := s.o.Tickets.Ticket(ctx); err != nil {
		return false, fmt.Errorf("jssdk: fetching a new jsapi_ticket: %w", err)
	}
	return true, nil
}

// allowRenew reports whether a renewal may go ahead: not if this Signer
// renewed within RenewInterval, and, when the ticket source keeps the
// interval in its shared cache (mp.RenewLimiter), only if no instance
// that shares it renewed within RenewInterval either.
func (s *Signer) allowRenew(ctx context.Context) (bool, error) {
	s.mu.Lock()
	now := s.now()
	if !s.renewedAt.IsZero() && now.Sub(s.renewedAt) < s.o.RenewInterval {
		s.mu.Unlock()
		return false, nil
	}
	limiter, shared := s.o.Tickets.(mp.RenewLimiter)
	if !shared {
		s.renewedAt = now
	}
	s.mu.Unlock()
	if !shared {
		return true, nil
	}
	ok, err := limiter.AllowRenew(ctx, s.o.RenewInterval)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		// The cache keeps no interval: this Signer's own must do.
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.renewedAt.IsZero() && now.Sub(s.renewedAt) < s.o.RenewInterval {
			return false, nil // another request of this Signer came first
		}
		s.renewedAt = now
		return true, nil
	case err != nil:
		return false, fmt.Errorf("jssdk: the renewal interval: %w", err)
	case !ok:
		return false, nil
	}
	s.mu.Lock()
	s.renewedAt = now
	s.mu.Unlock()
	return true, nil
}
