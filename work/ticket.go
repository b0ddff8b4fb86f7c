package work

import (
	"context"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// The kinds of the JS-SDK's two tickets where they are cached, as
// [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache]
// takes them. The corp's ticket belongs to the corp, whichever app's token
// fetched it: its account is the CorpID. The app's ticket belongs to one
// app: its account is [Client.Account]. Each kind has keys of its own, so
// the one ticket is never served for the other:
//
//	tickets := work.NewJSAPITicketSource(client, tokens, mp.CredentialOptions{
//		Cache: store.CredentialCache(work.JSAPITicketCredential, client.CorpID),
//	})
//	agentTickets := work.NewAgentTicketSource(client, tokens, mp.CredentialOptions{
//		Cache: store.CredentialCache(work.AgentTicketCredential, client.Account()),
//	})
const (
	// JSAPITicketCredential is the corp's jsapi_ticket, of
	// [NewJSAPITicketSource], cached per corp (CorpID).
	JSAPITicketCredential mp.CredentialKind = "wecom_jsapi_ticket"
	// AgentTicketCredential is the app's ticket, of
	// [NewAgentTicketSource], cached per app ([Client.Account]).
	AgentTicketCredential mp.CredentialKind = "wecom_agent_ticket"
)

// The API paths of the two tickets.
const (
	jsapiTicketPath = "/cgi-bin/get_jsapi_ticket"
	agentTicketPath = "/cgi-bin/ticket/get"
)

type ticketReply struct {
	apiStatus
	Ticket    string `json:"ticket"`
	ExpiresIn int64  `json:"expires_in"`
}

// JSAPITicket fetches the corp's jsapi_ticket (GET
// /cgi-bin/get_jsapi_ticket) with accessToken, a corp access_token of any
// app of the corp. It signs wx.config, and ww.register's
// getConfigSignature. It lasts expires_in seconds, normally 7200, and
// WeCom allows about 400 fetches an hour per corp: use
// [NewJSAPITicketSource], which shares one. A stale accessToken gives an
// [*Error] whose [Error.StaleAccessToken] is true.
func (c *Client) JSAPITicket(ctx context.Context, accessToken string) (mp.Credential, error) {
	return c.ticket(ctx, jsapiTicketPath, query{"access_token", accessToken}, accessToken)
}

// AgentTicket fetches the app's ticket (GET /cgi-bin/ticket/get, type
// agent_config) with accessToken, which must be the corp access_token of
// the app that c's AgentID names. It signs wx.agentConfig, and
// ww.register's getAgentConfigSignature; the corp's jsapi_ticket does not.
// It lasts expires_in seconds, normally 7200, and WeCom allows about 100
// fetches an hour per app: use [NewAgentTicketSource], which shares one.
// A stale accessToken gives an [*Error] whose [Error.StaleAccessToken] is
// true.
func (c *Client) AgentTicket(ctx context.Context, accessToken string) (mp.Credential, error) {
	return c.ticket(ctx, agentTicketPath, query{"access_token", accessToken, "type", "agent_config"}, accessToken)
}

// ticket fetches a ticket from endpoint; no error shows accessToken.
func (c *Client) ticket(ctx context.Context, endpoint string, q query, accessToken string) (mp.Credential, error) {
	var reply ticketReply
	if err := api.Get(ctx, c.HTTPClient, c.Endpoints.WithDefaults().API, endpoint, q, []string{c.Secret, accessToken}, &reply); err != nil {
		return mp.Credential{}, err
	}
	if reply.Ticket == "" || reply.ExpiresIn <= 0 {
		return mp.Credential{}, incomplete(endpoint, "ticket or expires_in")
	}
	return mp.Credential{Value: reply.Ticket, Expiry: c.clock().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

// NewJSAPITicketSource returns the corp's jsapi_ticket as an
// [mp.TicketSource], the ticket of wx.config and ww.register's
// getConfigSignature, which package
// [github.com/wechatauth/wechatauth/jssdk] signs with. It is fetched with
// c and a token from tokens (any app of the corp will do), on package
// mp's mechanism for account-wide credentials ([mp.NewTicketSourceFrom]):
// cached in opts.Cache (shared between instances under
// [JSAPITicketCredential] and the CorpID), replaced ahead of expiry,
// fetched once per expiry however many goroutines and instances ask, never
// cached empty. A token WeCom calls stale (40014, 42001) is invalidated
// and the fetch tried once more with a fresh one; other failures are
// backed off (see [mp.MaxBackoff]). Invalidate drops a ticket that a page
// found refused; the source is an [mp.RenewLimiter] when its cache is one.
// opts.Stable is ignored.
func NewJSAPITicketSource(c *Client, tokens mp.AccessTokenSource, opts mp.CredentialOptions) mp.TicketSource {
	return newTicketSource(c, tokens, opts, "WeCom jsapi ticket", c.JSAPITicket)
}

// NewAgentTicketSource returns the app's ticket as an [mp.TicketSource],
// the ticket of wx.agentConfig and ww.register's getAgentConfigSignature.
// It is fetched with c and a token from tokens, which must be the corp
// access_token of c's app (the one [NewAccessTokenSource] gives for c),
// and shared as [NewJSAPITicketSource] shares the corp's ticket, but per
// app: cache it under [AgentTicketCredential] and [Client.Account], never
// under the corp ticket's kind.
func NewAgentTicketSource(c *Client, tokens mp.AccessTokenSource, opts mp.CredentialOptions) mp.TicketSource {
	return newTicketSource(c, tokens, opts, "WeCom agent ticket", c.AgentTicket)
}

// newTicketSource builds a ticket that fetch gets with a token of tokens.
func newTicketSource(c *Client, tokens mp.AccessTokenSource, opts mp.CredentialOptions, name string,
	fetch func(ctx context.Context, accessToken string) (mp.Credential, error)) mp.TicketSource {
	return mp.NewTicketSourceFrom(mp.CredentialFetcher{
		Name: name,
		Fetch: func(ctx context.Context) (mp.Credential, error) {
			var ticket mp.Credential
			err := mp.WithAccessToken(ctx, tokens, func(token string) error {
				var err error
				ticket, err = fetch(ctx, token)
				return err
			})
			return ticket, err
		},
		Refused: func(code int, msg, endpoint string) error {
			return &Error{Code: code, Msg: msg, Endpoint: endpoint}
		},
		Now: c.clock,
	}, opts)
}
