package mp

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TicketSource gives the account's jsapi_ticket, the credential that
// signs wx.config for the JS-SDK (package
// [github.com/wechatauth/wechatauth/jssdk]). Like the access_token it
// is account-wide, and WeChat's daily quota for it is small: every
// instance must share one.
type TicketSource interface {
	// Ticket returns a jsapi_ticket that is valid now, fetching a new one
	// when needed.
	Ticket(ctx context.Context) (string, error)
	// Invalidate reports that ticket no longer works (a page saw
	// "config:invalid signature" with a signature made from it), so that
	// the next Ticket fetches anew unless a newer ticket is already there.
	Invalidate(ctx context.Context, ticket string) error
}

// TicketSourceOptions is the former name of [CredentialOptions], kept so
// that code written for v0.1.0 compiles.
//
// Deprecated: use [CredentialOptions].
type TicketSourceOptions = CredentialOptions

// NewTicketSource returns a [TicketSource] that fetches the jsapi_ticket
// with c and an access token from tokens, caches it in opts.Cache and
// replaces it ahead of expiry. However many goroutines and instances ask
// when it expires, one fetch goes upstream. When WeChat refuses the access
// token as stale (40001, 40014, 42001), the fetch invalidates it and tries
// once more with a fresh one. An empty ticket is never cached. Other
// failures are backed off (see [MaxBackoff]), in the cache when it is a
// [BackoffCache]. The [TicketSource] is a [RenewLimiter] when its cache is one.
func NewTicketSource(c *Client, tokens AccessTokenSource, opts CredentialOptions) TicketSource {
	fetch := func(ctx context.Context) (Credential, error) {
		var ticket Credential
		err := WithAccessToken(ctx, tokens, func(token string) error {
			var err error
			ticket, err = c.JSAPITicket(ctx, token)
			return err
		})
		return ticket, err
	}
	return NewTicketSourceFrom(CredentialFetcher{Name: "jsapi ticket", Fetch: fetch, Now: c.clock}, opts)
}

// NewTicketSourceFrom returns a [TicketSource] of the ticket f fetches, on
// the mechanism of [NewCredentialSource] (see there for opts and f), as
// [NewTicketSource] builds the jsapi_ticket: a package for another
// platform builds its JS-SDK tickets on it, with a [CredentialKind] of its
// own for the cache. Invalidate drops the ticket from the cache; the
// [TicketSource] is a [RenewLimiter] when its cache is one, so that
// package [github.com/wechatauth/wechatauth/jssdk] keeps the interval
// between renewals in the cache. It panics when f.Fetch is nil.
func NewTicketSourceFrom(f CredentialFetcher, opts CredentialOptions) TicketSource {
	return &ticketSource{NewCredentialSource(f, opts)}
}

type ticketSource struct{ s *CredentialSource }

func (t *ticketSource) Ticket(ctx context.Context) (string, error) { return t.s.Get(ctx) }

func (t *ticketSource) Invalidate(ctx context.Context, ticket string) error {
	return t.s.Invalidate(ctx, ticket)
}

// AllowRenew implements RenewLimiter through the cache, when the cache is
// one; otherwise it returns an error wrapping errors.ErrUnsupported.
func (t *ticketSource) AllowRenew(ctx context.Context, interval time.Duration) (bool, error) {
	l, ok := t.s.cache.(RenewLimiter)
	if !ok {
		return false, fmt.Errorf("mp: the %s's cache keeps no renewal interval: %w", t.s.what, errors.ErrUnsupported)
	}
	allowed, err := l.AllowRenew(ctx, interval)
	if err != nil {
		return false, cacheError(t.s.what, err)
	}
	return allowed, nil
}

type ticketReply struct {
	apiStatus
	Ticket    string `json:"ticket"`
	ExpiresIn int64  `json:"expires_in"`
}

// JSAPITicket fetches a new jsapi_ticket (GET /cgi-bin/ticket/getticket,
// type jsapi) with the account's accessToken. WeChat's quota for it is
// small and it lasts 7200 seconds: use [NewTicketSource], which shares one.
// A stale accessToken gives an [*Error] whose [Error.StaleAccessToken] is true.
func (c *Client) JSAPITicket(ctx context.Context, accessToken string) (Credential, error) {
	var reply ticketReply
	if err := c.get(ctx, "/cgi-bin/ticket/getticket", query{"access_token", accessToken, "type", "jsapi"}, &reply); err != nil {
		return Credential{}, err
	}
	return c.credential(reply.Ticket, reply.ExpiresIn, "/cgi-bin/ticket/getticket")
}
