package jssdk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxspec"
	"github.com/wechatauth/wechatauth/mp"
)

// Options configures [New]. AppID (or, for WeCom, CorpID), Tickets and
// Origins are required; the other fields have working zero values.
type Options struct {
	// AppID is the Official Account's AppID, the appId of wx.config. For
	// WeCom's pages set CorpID instead.
	AppID string
	// CorpID, set instead of AppID, makes the Signer WeCom's: it is the
	// corp's ID (企业ID), the appId of wx.config (which then carries
	// beta: true, as WeCom's jweixin wants) and the corpid of
	// wx.agentConfig. Tickets is then the corp's jsapi_ticket, and
	// AgentTickets and AgentID add wx.agentConfig (see [Signer.Handler]).
	// Every rule of the Official Account's pages holds for WeCom's: the
	// origins, the URL checks, the entry URL on iOS, the renewal after
	// "invalid signature".
	CorpID string
	// Tickets gives the account's jsapi_ticket: mp.NewTicketSource, with
	// a shared cache (redisstore) when several instances run. For WeCom
	// (CorpID set), the corp's jsapi_ticket (cgi-bin/get_jsapi_ticket),
	// which signs wx.config and ww.register's getConfigSignature.
	Tickets mp.TicketSource
	// AgentTickets gives, for WeCom, the app's agent_config ticket
	// (cgi-bin/ticket/get?type=agent_config, fetched with the token of the
	// app AgentID names), which signs wx.agentConfig and ww.register's
	// getAgentConfigSignature. It must be another source than Tickets: a
	// wx.agentConfig signed with the corp's ticket is refused. Set it with
	// AgentID, or leave both unset for pages that need no agent-level API.
	AgentTickets mp.TicketSource
	// AgentID is, for WeCom, the app's AgentId (digits, such as
	// "1000002"), the agentid of wx.agentConfig. Set with AgentTickets.
	AgentID string
	// AgentAPIs is the jsApiList of a wx.agentConfig whose request names
	// none, such as "selectExternalContact". Default: none.
	AgentAPIs []string
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
	Debug bool `json:"debug,omitempty"`
	// Beta is true on WeCom's pages (Options.CorpID), whose older
	// jweixin needs it to offer WeCom's APIs.
	Beta        bool     `json:"beta,omitempty"`
	AppID       string   `json:"appId"`
	Timestamp   int64    `json:"timestamp"`
	NonceStr    string   `json:"nonceStr"`
	Signature   string   `json:"signature"`
	JSAPIList   []string `json:"jsApiList"`
	OpenTagList []string `json:"openTagList"`
}

// AgentConfig is the argument of WeCom's wx.agentConfig, signed with the
// app's agent_config ticket: its JSON is what the page passes to
// wx.agentConfig, beside its success and fail callbacks. JSAPIList is not
// signed.
type AgentConfig struct {
	CorpID    string   `json:"corpid"`
	AgentID   string   `json:"agentid"`
	Timestamp int64    `json:"timestamp"`
	NonceStr  string   `json:"nonceStr"`
	Signature string   `json:"signature"`
	JSAPIList []string `json:"jsApiList"`
}

// ticketKind is one of the tickets a Signer signs with: the jsapi_ticket
// of wx.config, or WeCom's agent_config ticket of wx.agentConfig.
type ticketKind struct {
	src     mp.TicketSource
	name    string // in errors and the log: "jsapi_ticket", "agent_config ticket"
	fails   string // what a 502 says
	noneLog string // the log line of a failure

	renewedAt time.Time // the last renewal a page asked for, by this Signer; under Signer.mu
}

// Signer makes wx.config signatures for the pages of [Options.Origins] and
// serves them, with the page script, over HTTP. It is safe for
// concurrent use.
type Signer struct {
	o          Options
	origins    map[string]bool
	originList []string
	now        func() time.Time

	wecom bool       // Options.CorpID is set
	appID string     // wx.config's appId: AppID or CorpID
	corp  ticketKind // Tickets
	agent ticketKind // AgentTickets; src nil when unset

	mu sync.Mutex // guards the renewedAt of corp and agent

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
	wecom := o.CorpID != ""
	switch {
	case wecom && o.AppID != "":
		bad("AppID", "and Options.CorpID are both set: set AppID for an Official Account's pages, CorpID for WeCom's, not both")
	case wecom && !wxspec.Valid(o.CorpID, wxspec.MaxToken):
		bad("CorpID", "must be the corp's ID, such as \"ww1234567890abcdef\", got %q", o.CorpID)
	case !wecom && !wxspec.Valid(o.AppID, wxspec.MaxToken):
		bad("AppID", "must be the Official Account's AppID, such as \"wx1234567890abcdef\" (or set CorpID for WeCom's pages), got %q", o.AppID)
	}
	if o.Tickets == nil {
		if wecom {
			bad("Tickets", "is nil; set WeCom's corp jsapi_ticket source from package work")
		} else {
			bad("Tickets", "is nil; set mp.NewTicketSource(client, accessTokens, mp.CredentialOptions{})")
		}
	}
	switch {
	case !wecom && (o.AgentTickets != nil || o.AgentID != "" || len(o.AgentAPIs) > 0):
		bad("AgentTickets", "AgentID and AgentAPIs are WeCom's: set Options.CorpID (and not AppID) for WeCom's pages, or leave them unset")
	case o.AgentTickets == nil && o.AgentID != "":
		bad("AgentTickets", "is nil while AgentID is set; set the app's agent_config ticket source from package work, or unset AgentID")
	case o.AgentTickets != nil && !digits(o.AgentID):
		bad("AgentID", "must be the app's AgentId, digits such as \"1000002\", got %q", o.AgentID)
	case o.AgentTickets != nil && sameSource(o.AgentTickets, o.Tickets):
		bad("AgentTickets", "is Tickets: wx.agentConfig needs the app's agent_config ticket, another source than the corp's jsapi_ticket")
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
	}{{"APIs", o.APIs}, {"OpenTags", o.OpenTags}, {"AgentAPIs", o.AgentAPIs}} {
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
	s.o.AgentAPIs = nonNil(o.AgentAPIs)
	s.wecom, s.appID = wecom, o.AppID
	s.corp = ticketKind{src: o.Tickets, name: "jsapi_ticket",
		fails:   "jssdk: WeChat's jsapi_ticket is not available now; try again later",
		noneLog: "jssdk: no jsapi_ticket for wx.config; the same failure again is not logged until the ticket is back"}
	if wecom {
		s.appID = o.CorpID
		s.corp.fails = "jssdk: WeCom's jsapi_ticket is not available now; try again later"
		s.agent = ticketKind{src: o.AgentTickets, name: "agent_config ticket",
			fails:   "jssdk: WeCom's agent_config ticket is not available now; try again later",
			noneLog: "jssdk: no agent_config ticket for wx.agentConfig; the same failure again is not logged until the ticket is back"}
	}
	return s, nil
}

func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sameSource reports whether a and b are the same ticket source, without
// the panic of == on values of a type that cannot be compared.
func sameSource(a, b mp.TicketSource) bool {
	if a == nil || b == nil || reflect.TypeOf(a) != reflect.TypeOf(b) || !reflect.TypeOf(a).Comparable() {
		return false
	}
	return a == b
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
//
// On WeCom's pages (Options.CorpID) the config's appId is the CorpID and it
// carries beta: true; [Signer.SignAgent] gives the wx.agentConfig.
func (s *Signer) Sign(ctx context.Context, pageURL string) (Config, error) {
	signed, err := s.pageURL(pageURL)
	if err != nil {
		return Config{}, err
	}
	return s.sign(ctx, signed)
}

// sign is Sign of a URL pageURL accepted.
func (s *Signer) sign(ctx context.Context, signed string) (Config, error) {
	ts, nonce, sig, err := s.signWith(ctx, &s.corp, signed)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Debug:       s.o.Debug,
		Beta:        s.wecom,
		AppID:       s.appID,
		Timestamp:   ts,
		NonceStr:    nonce,
		Signature:   sig,
		JSAPIList:   s.o.APIs,
		OpenTagList: s.o.OpenTags,
	}, nil
}

// SignAgent returns the wx.agentConfig of the page at pageURL, with
// [Options.AgentAPIs], signed with the app's agent_config ticket
// ([Options.AgentTickets]) and a timestamp and nonce of its own, for
// WeCom's pages rendered on the server. pageURL is as for [Signer.Sign]. It
// returns an error wrapping [ErrNoAgent] when Options.AgentTickets is not
// set.
func (s *Signer) SignAgent(ctx context.Context, pageURL string) (AgentConfig, error) {
	if s.agent.src == nil {
		return AgentConfig{}, ErrNoAgent
	}
	signed, err := s.pageURL(pageURL)
	if err != nil {
		return AgentConfig{}, err
	}
	return s.signAgent(ctx, signed)
}

// signAgent is SignAgent of a URL pageURL accepted.
func (s *Signer) signAgent(ctx context.Context, signed string) (AgentConfig, error) {
	ts, nonce, sig, err := s.signWith(ctx, &s.agent, signed)
	if err != nil {
		return AgentConfig{}, err
	}
	return AgentConfig{
		CorpID:    s.appID,
		AgentID:   s.o.AgentID,
		Timestamp: ts,
		NonceStr:  nonce,
		Signature: sig,
		JSAPIList: s.o.AgentAPIs,
	}, nil
}

// ErrNoAgent is the error of a wx.agentConfig asked of a Signer without
// Options.AgentTickets: an Official Account's, or WeCom's without them.
// The handler answers it with HTTP 400.
var ErrNoAgent = errors.New("jssdk: no wx.agentConfig: Options.AgentTickets and AgentID are not set (they are WeCom's)")

// signWith signs the accepted URL signed with the ticket of k, a fresh
// nonce and the time now.
func (s *Signer) signWith(ctx context.Context, k *ticketKind, signed string) (ts int64, nonce, sig string, err error) {
	ticket, err := k.src.Ticket(ctx)
	if err != nil {
		return 0, "", "", &ticketError{k: k, err: fmt.Errorf("jssdk: getting the %s: %w", k.name, err)}
	}
	nonce = rand.Text()
	ts = s.now().Unix()
	return ts, nonce, Signature(ticket, nonce, ts, signed), nil
}

// ticketError is the error of a ticket that could not be had, with the
// kind it is of, for the log and the 502.
type ticketError struct {
	k   *ticketKind
	err error
}

func (e *ticketError) Error() string { return e.err.Error() }
func (e *ticketError) Unwrap() error { return e.err }

// renew drops the cached ticket of k and fetches a new one when c, the
// config of pageURL that the platform refused with "invalid signature", was
// signed with the ticket of k cached now, and no renewal of k happened
// within RenewInterval. It reports whether it renewed.
func (s *Signer) renew(ctx context.Context, k *ticketKind, pageURL string, ts int64, nonce, sig string) (bool, error) {
	signed, err := s.pageURL(pageURL)
	if err != nil {
		return false, err
	}
	ticket, err := k.src.Ticket(ctx)
	if err != nil {
		return false, &ticketError{k: k, err: fmt.Errorf("jssdk: getting the %s: %w", k.name, err)}
	}
	if Signature(ticket, nonce, ts, signed) != sig {
		return false, nil // signed with an older ticket, already replaced, another ticket, or not by us
	}
	if ok, err := s.allowRenew(ctx, k); !ok || err != nil {
		return false, err
	}
	if err := k.src.Invalidate(ctx, ticket); err != nil {
		return false, &ticketError{k: k, err: fmt.Errorf("jssdk: dropping the %s: %w", k.name, err)}
	}
	if _, err := k.src.Ticket(ctx); err != nil {
		return false, &ticketError{k: k, err: fmt.Errorf("jssdk: fetching a new %s: %w", k.name, err)}
	}
	return true, nil
}

// allowRenew reports whether a renewal of k may go ahead: not if this
// Signer renewed k within RenewInterval, and, when its ticket source keeps
// the interval in its shared cache (mp.RenewLimiter), only if no instance
// that shares it renewed within RenewInterval either.
func (s *Signer) allowRenew(ctx context.Context, k *ticketKind) (bool, error) {
	s.mu.Lock()
	now := s.now()
	if !k.renewedAt.IsZero() && now.Sub(k.renewedAt) < s.o.RenewInterval {
		s.mu.Unlock()
		return false, nil
	}
	limiter, shared := k.src.(mp.RenewLimiter)
	if !shared {
		k.renewedAt = now
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
		if !k.renewedAt.IsZero() && now.Sub(k.renewedAt) < s.o.RenewInterval {
			return false, nil // another request of this Signer came first
		}
		k.renewedAt = now
		return true, nil
	case err != nil:
		return false, &ticketError{k: k, err: fmt.Errorf("jssdk: the renewal interval: %w", err)}
	case !ok:
		return false, nil
	}
	s.mu.Lock()
	k.renewedAt = now
	s.mu.Unlock()
	return true, nil
}
