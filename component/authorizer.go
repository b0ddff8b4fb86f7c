package component

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wechatauth/wechatauth/internal/wxhttp"
	"github.com/wechatauth/wechatauth/mp"
)

// The kinds of an authorizer's credentials where they are cached, as
// Options.AuthorizerCredentials takes them, with the authorizer appid as
// the account. redisstore's Store.CredentialCache takes them as they are:
//
//	AuthorizerCredentials: store.CredentialCache,
const (
	// AuthorizerAccessTokenCredential is an Official Account's
	// authorizer_access_token, of [Platform.AuthorizerTokens].
	AuthorizerAccessTokenCredential mp.CredentialKind = "authorizer_access_token"
	// AuthorizerJSAPITicketCredential is an Official Account's
	// jsapi_ticket fetched with its authorizer_access_token, of
	// [Platform.JSAPITickets].
	AuthorizerJSAPITicketCredential mp.CredentialKind = "authorizer_jsapi_ticket"
)

// Paths of the authorizer APIs.
const (
	pathQueryAuth       = "/cgi-bin/component/api_query_auth"
	pathAuthorizerToken = "/cgi-bin/component/api_authorizer_token"
	pathGetTicket       = "/cgi-bin/ticket/getticket"
)

// ErrNotAuthorized is wrapped by the error of an authorizer credential
// asked for an Official Account whose authorizer_refresh_token is not in
// Options.Authorizers: the account never authorized the platform, or its
// authorization did not reach [Platform.QueryAuth] (which
// [Platform.PushHandler] calls on each authorization event). No call
// goes to WeChat.
var ErrNotAuthorized = errors.New("component: the account has not authorized the platform")

// ErrRevoked is wrapped by the error of an authorizer credential that
// WeChat refused because the Official Account revoked the platform's
// authorization (or its authorizer_refresh_token is no longer valid,
// 61023): the account must authorize the platform again.
var ErrRevoked = errors.New("component: the account revoked the authorization")

// notAuthorizedError is ErrNotAuthorized for one authorizer.
type notAuthorizedError struct{ appID string }

func (e *notAuthorizedError) Error() string {
	return fmt.Sprintf("component: authorizer %q: no authorizer_refresh_token stored: the account has not authorized the platform, "+
		"or its authorization never reached Platform.QueryAuth; mount Platform.PushHandler at the 授权事件接收URL "+
		"(it calls QueryAuth on each authorization), or call QueryAuth with the auth_code of the authorization page's redirect", e.appID)
}

func (e *notAuthorizedError) Is(target error) bool { return target == ErrNotAuthorized }

// revokedError is ErrRevoked for one authorizer, wrapping WeChat's
// refusal.
type revokedError struct {
	appID string
	err   *Error
}

func (e *revokedError) Error() string {
	return fmt.Sprintf("component: authorizer %q: the account revoked the authorization; it must authorize the platform again (%s: WeChat errcode %d: %s)",
		e.appID, e.err.Endpoint, e.err.Code, e.err.Msg)
}

func (e *revokedError) Is(target error) bool { return target == ErrRevoked }
func (e *revokedError) Unwrap() error        { return e.err }

// revokedCode reports whether an errcode of api_authorizer_token means
// that the authorization is gone: 61023, the refresh token is not (or no
// longer) valid; 61003, the platform is not authorized by the account.
func revokedCode(code int) bool {
	return code == CodeInvalidRefreshToken || code == CodeNotAuthorizedByAccount
}

// AuthorizerInfo is what WeChat says of an authorization at
// [Platform.QueryAuth].
type AuthorizerInfo struct {
	// AppID is the authorizer appid, the Official Account's.
	AppID string
	// PermissionSets are the ids of the permission sets (权限集,
	// func_info's funcscope_category) the account granted, which may be
	// fewer than the platform declared.
	PermissionSets []int
}

type queryAuthReply struct {
	wxhttp.Status
	Info struct {
		AppID        string `json:"authorizer_appid"`
		AccessToken  string `json:"authorizer_access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"authorizer_refresh_token"`
		FuncInfo     []struct {
			Category struct {
				ID int `json:"id"`
			} `json:"funcscope_category"`
		} `json:"func_info"`
	} `json:"authorization_info"`
}

// QueryAuth redeems the authorization_code of an Official Account's
// authorization (POST api_query_auth): it stores the account's
// authorizer_refresh_token in Options.Authorizers, caches the
// authorizer_access_token that comes with it, and returns the account's
// appid and the permission sets it granted. The code comes with the
// authorization event that [Platform.PushHandler] receives, which calls
// QueryAuth itself, and as auth_code on the redirect of the platform's
// authorization page. A component_access_token that WeChat refuses as
// stale is dropped and the call made once more with a fresh one.
func (p *Platform) QueryAuth(ctx context.Context, authorizationCode string) (AuthorizerInfo, error) {
	if authorizationCode == "" {
		return AuthorizerInfo{}, errors.New("component: QueryAuth: empty authorization code")
	}
	body := map[string]string{"component_appid": p.opts.AppID, "authorization_code": authorizationCode}
	var reply queryAuthReply
	err := mp.WithAccessToken(ctx, p, func(token string) error {
		reply = queryAuthReply{}
		return api.Post(ctx, p.opts.HTTPClient, p.apiURL(), pathQueryAuth, wxhttp.Query{"component_access_token", token},
			body, []string{authorizationCode}, &reply)
	})
	if err != nil {
		return AuthorizerInfo{}, err
	}
	in := reply.Info
	if in.AppID == "" || in.RefreshToken == "" {
		return AuthorizerInfo{}, fmt.Errorf("component: %s: reply without authorizer_appid or authorizer_refresh_token: %w", pathQueryAuth, mp.ErrUpstream)
	}
	if err := p.authorizers.SaveRefreshToken(ctx, in.AppID, in.RefreshToken); err != nil {
		return AuthorizerInfo{}, fmt.Errorf("component: storing the refresh token of authorizer %q: %w", in.AppID, err)
	}
	info := AuthorizerInfo{AppID: in.AppID, PermissionSets: make([]int, 0, len(in.FuncInfo))}
	for _, f := range in.FuncInfo {
		info.PermissionSets = append(info.PermissionSets, f.Category.ID)
	}
	// A back-off left in this process from a revoked authorization ends
	// with the new one; in a shared cache, the token cached next serves
	// through it.
	p.dropAuthorizer(in.AppID)
	// The access token of the reply saves a call to api_authorizer_token;
	// failing to cache it costs only that call.
	if c := p.authorizerCache(AuthorizerAccessTokenCredential, in.AppID); c != nil && in.AccessToken != "" && in.ExpiresIn > 0 {
		_ = c.Save(ctx, mp.Credential{Value: in.AccessToken, Expiry: p.opts.Now().Add(time.Duration(in.ExpiresIn) * time.Second)})
	}
	return info, nil
}

// authorizer is the credentials of one authorizer in this process.
type authorizer struct {
	tokens  *authorizerTokens
	tickets mp.TicketSource
	caches  map[mp.CredentialKind]mp.CredentialCache // those made here, by kind; nil where the source keeps its own
}

// authorizerTokens is an authorizer's access token as an
// mp.AccessTokenSource.
type authorizerTokens struct{ *mp.CredentialSource }

func (a *authorizerTokens) Token(ctx context.Context) (string, error) { return a.Get(ctx) }

// AuthorizerTokens returns the authorizer_access_token of the Official
// Account authorizerAppID, the token of the cgi-bin APIs (and of the
// JS-SDK's ticket) for that account, as an [mp.AccessTokenSource] on
// package mp's mechanism for account-wide credentials: cached in
// Options.AuthorizerCredentials, renewed ahead of expiry from the
// account's authorizer_refresh_token (POST api_authorizer_token), fetched
// once per expiry however many goroutines and instances ask, failed
// fetches backed off. A new refresh token in the reply replaces the
// stored one.
//
// When no refresh token is stored the error wraps [ErrNotAuthorized] and
// WeChat is not called; when WeChat says the authorization is gone it
// wraps [ErrRevoked]. Both name the appid. The source of each authorizer
// is made once and kept for the Platform's life.
func (p *Platform) AuthorizerTokens(authorizerAppID string) mp.AccessTokenSource {
	return p.authorizer(authorizerAppID).tokens
}

// JSAPITickets returns the jsapi_ticket of the Official Account
// authorizerAppID (GET getticket with the account's
// authorizer_access_token from [Platform.AuthorizerTokens]), cached per
// account, for a [github.com/wechatauth/wechatauth/jssdk.Signer] whose
// AppID is authorizerAppID: in component mode everything in wx.config is
// the authorizer's, not the platform's. Like AuthorizerTokens it is on
// package mp's mechanism, and its errors wrap [ErrNotAuthorized] and
// [ErrRevoked] alike. It is an [mp.RenewLimiter] when its cache is one.
func (p *Platform) JSAPITickets(authorizerAppID string) mp.TicketSource {
	return p.authorizer(authorizerAppID).tickets
}

// apiURL is the base URL of the API.
func (p *Platform) apiURL() string {
	if base := strings.TrimRight(p.opts.APIURL, "/"); base != "" {
		return base
	}
	return DefaultAPIURL
}

// authorizerCache returns the cache of kind for appID that the
// authorizer's source uses, or nil when the source keeps its own (in
// memory, on an injected clock).
func (p *Platform) authorizerCache(kind mp.CredentialKind, appID string) mp.CredentialCache {
	return p.authorizer(appID).caches[kind]
}

// authorizer returns the credentials of appID, made on first use.
func (p *Platform) authorizer(appID string) *authorizer {
	p.authMu.Lock()
	defer p.authMu.Unlock()
	if a, ok := p.auths[appID]; ok {
		return a
	}
	a := &authorizer{caches: make(map[mp.CredentialKind]mp.CredentialCache)}
	opts := func(kind mp.CredentialKind) mp.CredentialOptions {
		var c mp.CredentialCache
		switch {
		case p.opts.AuthorizerCredentials != nil:
			c = p.opts.AuthorizerCredentials(kind, appID)
		case p.wallClock:
			c = mp.NewMemoryCache()
		}
		if c != nil {
			a.caches[kind] = c
		}
		return mp.CredentialOptions{Cache: c, RefreshAhead: p.opts.Credentials.RefreshAhead, LockTTL: p.opts.Credentials.LockTTL}
	}
	refused := func(code int, msg, endpoint string) error {
		e := &Error{Code: code, Msg: msg, Endpoint: endpoint}
		if endpoint == pathAuthorizerToken && revokedCode(code) {
			return &revokedError{appID: appID, err: e}
		}
		return e
	}
	a.tokens = &authorizerTokens{mp.NewCredentialSource(mp.CredentialFetcher{
		Name:    "authorizer access token of " + appID,
		Fetch:   func(ctx context.Context) (mp.Credential, error) { return p.fetchAuthorizerToken(ctx, appID, refused) },
		Refused: refused,
		Now:     p.opts.Now,
	}, opts(AuthorizerAccessTokenCredential))}
	a.tickets = mp.NewTicketSourceFrom(mp.CredentialFetcher{
		Name:    "jsapi ticket of " + appID,
		Fetch:   func(ctx context.Context) (mp.Credential, error) { return p.fetchAuthorizerTicket(ctx, a.tokens) },
		Refused: refused,
		Now:     p.opts.Now,
	}, opts(AuthorizerJSAPITicketCredential))
	p.auths[appID] = a
	return a
}

type authorizerTokenReply struct {
	wxhttp.Status
	AccessToken  string `json:"authorizer_access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"authorizer_refresh_token"`
}

// fetchAuthorizerToken gets a new authorizer_access_token of appID from
// its stored refresh token, and stores the refresh token that comes back
// when it is new.
func (p *Platform) fetchAuthorizerToken(ctx context.Context, appID string, refused func(int, string, string) error) (mp.Credential, error) {
	rt, err := p.authorizers.LoadRefreshToken(ctx, appID)
	switch {
	case errors.Is(err, mp.ErrNotFound) || err == nil && rt == "":
		return mp.Credential{}, &notAuthorizedError{appID: appID}
	case err != nil:
		return mp.Credential{}, fmt.Errorf("component: loading the refresh token of authorizer %q: %w", appID, err)
	}
	body := map[string]string{"component_appid": p.opts.AppID, "authorizer_appid": appID, "authorizer_refresh_token": rt}
	var reply authorizerTokenReply
	err = mp.WithAccessToken(ctx, p, func(token string) error {
		reply = authorizerTokenReply{}
		return api.Post(ctx, p.opts.HTTPClient, p.apiURL(), pathAuthorizerToken, wxhttp.Query{"component_access_token", token},
			body, []string{rt}, &reply)
	})
	var we *Error
	if errors.As(err, &we) && we.Endpoint == pathAuthorizerToken {
		return mp.Credential{}, refused(we.Code, we.Msg, we.Endpoint)
	}
	if err != nil {
		return mp.Credential{}, err
	}
	if reply.AccessToken == "" || reply.ExpiresIn <= 0 {
		return mp.Credential{}, fmt.Errorf("component: %s: reply without authorizer_access_token or expires_in: %w", pathAuthorizerToken, mp.ErrUpstream)
	}
	if reply.RefreshToken != "" && reply.RefreshToken != rt {
		if err := p.authorizers.SaveRefreshToken(ctx, appID, reply.RefreshToken); err != nil {
			return mp.Credential{}, fmt.Errorf("component: storing the new refresh token of authorizer %q: %w", appID, err)
		}
	}
	return mp.Credential{Value: reply.AccessToken, Expiry: p.opts.Now().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

type ticketReply struct {
	wxhttp.Status
	Ticket    string `json:"ticket"`
	ExpiresIn int64  `json:"expires_in"`
}

// fetchAuthorizerTicket gets a new jsapi_ticket with an access token of
// tokens, once more with a fresh one when WeChat refuses it as stale.
func (p *Platform) fetchAuthorizerTicket(ctx context.Context, tokens mp.AccessTokenSource) (mp.Credential, error) {
	var reply ticketReply
	err := mp.WithAccessToken(ctx, tokens, func(token string) error {
		reply = ticketReply{}
		return api.Get(ctx, p.opts.HTTPClient, p.apiURL(), pathGetTicket, wxhttp.Query{"access_token", token, "type", "jsapi"}, nil, &reply)
	})
	if err != nil {
		return mp.Credential{}, err
	}
	if reply.Ticket == "" || reply.ExpiresIn <= 0 {
		return mp.Credential{}, fmt.Errorf("component: %s: reply without ticket or expires_in: %w", pathGetTicket, mp.ErrUpstream)
	}
	return mp.Credential{Value: reply.Ticket, Expiry: p.opts.Now().Add(time.Duration(reply.ExpiresIn) * time.Second)}, nil
}

// dropAuthorizer forgets the credentials of appID in this process, and
// returns them.
func (p *Platform) dropAuthorizer(appID string) *authorizer {
	p.authMu.Lock()
	defer p.authMu.Unlock()
	a := p.auths[appID]
	delete(p.auths, appID)
	return a
}

// forgetAuthorizer deletes the refresh token of appID and drops its
// cached credentials, after the account revoked the authorization.
func (p *Platform) forgetAuthorizer(ctx context.Context, appID string) error {
	if err := p.authorizers.DeleteRefreshToken(ctx, appID); err != nil {
		return fmt.Errorf("component: deleting the refresh token of authorizer %q: %w", appID, err)
	}
	a := p.dropAuthorizer(appID)
	caches := map[mp.CredentialKind]mp.CredentialCache{}
	if a != nil {
		for kind, c := range a.caches {
			caches[kind] = c
		}
	}
	if p.opts.AuthorizerCredentials != nil {
		for _, kind := range []mp.CredentialKind{AuthorizerAccessTokenCredential, AuthorizerJSAPITicketCredential} {
			if _, ok := caches[kind]; !ok {
				caches[kind] = p.opts.AuthorizerCredentials(kind, appID)
			}
		}
	}
	for kind, c := range caches {
		cred, err := c.Load(ctx)
		if errors.Is(err, mp.ErrNotFound) {
			continue
		}
		if err == nil {
			err = c.Delete(ctx, cred.Value)
		}
		if err != nil {
			return fmt.Errorf("component: dropping the cached %s of authorizer %q: %w", kind, appID, err)
		}
	}
	return nil
}

// handleAuthorization keeps Options.Authorizers in step with an
// authorization event: the refresh token of a new or changed
// authorization is stored (QueryAuth), that of a revoked one deleted.
func (p *Platform) handleAuthorization(ctx context.Context, a *Authorization) error {
	switch a.InfoType {
	case InfoAuthorized, InfoUpdateAuthorized:
		if a.AuthorizationCode == "" {
			return nil
		}
		info, err := p.QueryAuth(ctx, a.AuthorizationCode)
		var we *Error
		if errors.As(err, &we) && we.Endpoint == pathQueryAuth && (we.Code == CodeAuthorizationCodeInvalid || we.Code == CodeAuthorizationCodeExpired) {
			// WeChat pushes an event again when the handler failed after
			// QueryAuth redeemed its code (OnAuthorization failed, say):
			// the code is spent, and the refresh token it gave is stored.
			if _, lerr := p.authorizers.LoadRefreshToken(ctx, a.AuthorizerAppID); lerr == nil {
				p.log.LogAttrs(ctx, slog.LevelWarn, "component: the authorization code was spent already; keeping the stored refresh token",
					slog.String("info_type", a.InfoType), slog.String("authorizer_appid", a.AuthorizerAppID), slog.Int("errcode", we.Code))
				return nil
			}
		}
		if err != nil {
			return err
		}
		if info.AppID != a.AuthorizerAppID {
			return fmt.Errorf("component: the authorization code of authorizer %q redeemed for %q", a.AuthorizerAppID, info.AppID)
		}
		a.PermissionSets = info.PermissionSets
	case InfoUnauthorized:
		return p.forgetAuthorizer(ctx, a.AuthorizerAppID)
	}
	return nil
}
