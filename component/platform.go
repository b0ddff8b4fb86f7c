package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
	"github.com/wechatauth/wechatauth/mp"
)

// DefaultAPIURL is the base URL of the component API in production.
const DefaultAPIURL = "https://api.weixin.qq.com"

// AccessTokenCredential is the kind of the component_access_token where
// it is cached, as [github.com/wechatauth/wechatauth/redisstore.Store.CredentialCache]
// takes it, with the component appid as the account:
//
//	Credentials: mp.CredentialOptions{
//		Cache: store.CredentialCache(component.AccessTokenCredential, componentAppID),
//	},
const AccessTokenCredential mp.CredentialKind = "component_access_token"

// pathComponentToken is the endpoint of the component_access_token.
const pathComponentToken = "/cgi-bin/component/api_component_token"

// Options configures a [Platform]: the third-party platform's settings
// from the Open Platform (开发资料), and where its credentials live.
// AppID, AppSecret, Token and EncodingAESKey are required.
type Options struct {
	// AppID is the component appid.
	AppID string
	// AppSecret is the component appsecret. It goes to WeChat only.
	AppSecret string
	// Token is the message-check Token (消息校验Token).
	Token string
	// EncodingAESKey is the 43-character message key (消息加解密Key).
	EncodingAESKey string
	// PreviousEncodingAESKey is the key before the last change of the
	// EncodingAESKey on the Open Platform: pushes that do not decrypt
	// with EncodingAESKey are tried with it, so that none sent before the
	// change is lost. Drop it a day after the change. Optional.
	PreviousEncodingAESKey string
	// PushURL is the 授权事件接收URL where [Platform.PushHandler] is
	// mounted, as configured on the Open Platform. Only errors read it, to
	// say where the verify ticket should arrive. Optional.
	PushURL string
	// Tickets keeps the latest component_verify_ticket. Default: in
	// memory, for one process. With several instances use a shared store,
	// such as redisstore's Store.ComponentTickets: WeChat pushes to one
	// instance only.
	Tickets TicketStore
	// Credentials configures the component_access_token's source. With
	// several instances set Cache to a shared cache, such as
	// redisstore's Store.CredentialCache(component.AccessTokenCredential,
	// AppID), so that one fetch serves them all. RefreshAhead defaults to
	// 20 minutes here (WeChat suggests renewing after 1 h 50 min).
	Credentials mp.CredentialOptions
	// Authorizers keeps the authorizer_refresh_token of each Official
	// Account that authorized the platform: [Platform.QueryAuth] (and so
	// the PushHandler, on each authorization event) stores it, an
	// unauthorized event deletes it, and the authorizer tokens are made
	// from it. Default: in memory, for one process, and lost with it. In
	// production use a store that lasts, such as redisstore's
	// Store.Authorizers(AppID): WeChat gives the refresh token only when
	// the account authorizes.
	Authorizers AuthorizerStore
	// AuthorizerCredentials returns the cache of an authorizer's
	// credential of the given kind ([AuthorizerAccessTokenCredential] or
	// [AuthorizerJSAPITicketCredential]), for [Platform.AuthorizerTokens]
	// and [Platform.JSAPITickets]. With several instances use a shared
	// cache: redisstore's Store.CredentialCache plugs in as it is
	// (AuthorizerCredentials: store.CredentialCache); two platforms that
	// share a Redis then need Stores of different prefixes. Default: in
	// memory. Credentials.RefreshAhead and LockTTL apply to these
	// credentials too.
	AuthorizerCredentials func(kind mp.CredentialKind, authorizerAppID string) mp.CredentialCache
	// OnAuthorization receives the authorization events pushed to the
	// PushHandler (authorized, updateauthorized, unauthorized), so that
	// the application keeps its list of authorizers. The handler has
	// already stored the refresh token (authorized, updateauthorized) or
	// deleted it (unauthorized) in Authorizers. An error makes the
	// handler answer HTTP 500, and WeChat pushes again. Optional.
	OnAuthorization func(ctx context.Context, a Authorization) error
	// Logger receives a line for each push refused or failed, with the
	// reason, and never a ticket, a secret or an authorization code.
	// Default slog.Default().
	Logger *slog.Logger
	// HTTPClient carries the calls to WeChat. Default: a client with a
	// 10-second timeout.
	HTTPClient *http.Client
	// APIURL is the base URL of the API, without a trailing slash.
	// Default DefaultAPIURL; an emulator's URL in tests.
	APIURL string
	// Now is the clock the credentials' expiry is read by. Default
	// time.Now.
	Now func() time.Time
}

// Platform is an Open Platform third-party platform (第三方平台): it
// receives WeChat's pushes ([Platform.PushHandler]) and keeps the
// component_access_token ([Platform.Token]). A Platform is safe for
// concurrent use.
type Platform struct {
	opts    Options
	crypto  Crypto
	tickets TicketStore
	log     *slog.Logger
	src     *mp.CredentialSource

	wallClock   bool // Options.Now was not set
	authorizers AuthorizerStore
	authMu      sync.Mutex
	auths       map[string]*authorizer // by authorizer appid
	handled     HandledPushes          // authorization events handled
}

// New returns the Platform of opts. It fails when a required field is
// missing or the EncodingAESKey is not a key.
func New(opts Options) (*Platform, error) {
	switch {
	case opts.AppID == "":
		return nil, errors.New("component: Options.AppID (the component appid) is required")
	case opts.AppSecret == "":
		return nil, errors.New("component: Options.AppSecret is required")
	case opts.Token == "":
		return nil, errors.New("component: Options.Token (消息校验Token) is required")
	}
	c := Crypto{Token: opts.Token, EncodingAESKey: opts.EncodingAESKey, AppID: opts.AppID, PreviousEncodingAESKey: opts.PreviousEncodingAESKey}
	if _, err := c.key(); err != nil {
		return nil, err
	}
	if c.PreviousEncodingAESKey != "" {
		if _, err := (Crypto{EncodingAESKey: c.PreviousEncodingAESKey}).key(); err != nil {
			return nil, fmt.Errorf("component: Options.PreviousEncodingAESKey is not a key: %w", err)
		}
	}
	wallClock := opts.Now == nil
	if wallClock {
		opts.Now = time.Now
		if opts.Credentials.Cache == nil {
			// mp's own memory cache, kept here so that a new ticket can
			// clear its back-off.
			opts.Credentials.Cache = mp.NewMemoryCache()
		}
	}
	if opts.Credentials.RefreshAhead <= 0 {
		opts.Credentials.RefreshAhead = 20 * time.Minute
	}
	p := &Platform{opts: opts, crypto: c, tickets: opts.Tickets, log: opts.Logger,
		wallClock: wallClock, authorizers: opts.Authorizers, auths: make(map[string]*authorizer)}
	if p.tickets == nil {
		p.tickets = NewMemoryTicketStore()
	}
	if p.authorizers == nil {
		p.authorizers = NewMemoryAuthorizerStore()
	}
	if h, ok := p.tickets.(HandledPushes); ok {
		p.handled = h
	} else {
		p.handled = &memoryHandled{now: opts.Now}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	p.src = mp.NewCredentialSource(mp.CredentialFetcher{
		Name:  "component access token",
		Fetch: p.AccessToken,
		Refused: func(code int, msg, endpoint string) error {
			return &Error{Code: code, Msg: msg, Endpoint: endpoint}
		},
		Now: opts.Now,
	}, opts.Credentials)
	return p, nil
}

// Crypto returns the platform's message crypto.
func (p *Platform) Crypto() Crypto { return p.crypto }

// Ticket returns the latest component_verify_ticket stored. When none
// has arrived the error wraps [ErrNoTicket].
func (p *Platform) Ticket(ctx context.Context) (Ticket, error) {
	t, err := p.tickets.LoadTicket(ctx)
	if errors.Is(err, mp.ErrNotFound) {
		return Ticket{}, &noTicketError{pushURL: p.opts.PushURL}
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("component: loading the verify ticket: %w", err)
	}
	return t, nil
}

// api is how this package calls WeChat: errors start with "component",
// wrap mp.ErrUpstream when WeChat is unreachable, and an errcode is an
// *Error scrubbed of the call's secrets.
var api = &wxhttp.API{
	Name:     "component",
	Upstream: mp.ErrUpstream,
	Refused: func(s wxhttp.Status, endpoint string, secrets []string) error {
		return &Error{Code: s.ErrCode, Msg: wxhttp.Scrub(s.ErrMsg, secrets), Endpoint: endpoint}
	},
}

type tokenReply struct {
	wxhttp.Status
	Token     string `json:"component_access_token"`
	ExpiresIn int64  `json:"expires_in"`
}

// AccessToken fetches a new component_access_token (POST
// api_component_token with the appid, the secret and the latest verify
// ticket), without the cache: use [Platform.Token], which shares one.
// Without a ticket it fails with an error wrapping [ErrNoTicket], and
// does not call WeChat.
func (p *Platform) AccessToken(ctx context.Context) (mp.Credential, error) {
	t, err := p.Ticket(ctx)
	if err != nil {
		return mp.Credential{}, err
	}
	body := map[string]string{
		"component_appid":         p.opts.AppID,
		"component_appsecret":     p.opts.AppSecret,
		"component_verify_ticket": t.Value,
	}
	base := strings.TrimRight(p.opts.APIURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	var reply tokenReply
	if err := api.Post(ctx, p.opts.HTTPClient, base, pathComponentToken, nil, body,
		[]string{p.opts.AppSecret, t.Value}, &reply); err != nil {
		return mp.Credential{}, err
	}
	if reply.Token == "" || reply.ExpiresIn <= 0 {
		return mp.Credential{}, fmt.Errorf("component: %s: reply without component_access_token or expires_in: %w", pathComponentToken, mp.ErrUpstream)
	}
	return mp.Credential{Value: reply.Token, Expiry: p.opts.Now().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

// Token returns a component_access_token valid now, on package mp's
// mechanism for account-wide credentials: cached in
// Options.Credentials.Cache, renewed ahead of expiry, fetched once per
// expiry however many goroutines and instances ask, failed fetches backed
// off (see [mp.MaxBackoff]). Without a verify ticket the error wraps
// [ErrNoTicket]; a ticket WeChat refuses gives an [*Error] whose
// StaleTicket is true (61005, 61006).
func (p *Platform) Token(ctx context.Context) (string, error) { return p.src.Get(ctx) }

// Invalidate reports that WeChat refused token as stale, so that the
// next [Platform.Token] fetches anew. With Token it makes the Platform an
// [mp.AccessTokenSource] of the component_access_token.
func (p *Platform) Invalidate(ctx context.Context, token string) error {
	return p.src.Invalidate(ctx, token)
}

var _ mp.AccessTokenSource = (*Platform)(nil)
