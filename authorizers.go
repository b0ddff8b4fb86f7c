package wechatauth

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/wechatauth/wechatauth/internal/engine"
	"github.com/wechatauth/wechatauth/mp"
)

// Component mode (Options.Component): one site logs users in for every
// Official Account that authorized a third-party platform, each request
// for the account Options.Authorizer names. Each account's users stay its
// own: a User carries its AppID, the stores keep it under User.Key, a
// session's user is let in only on its account's pages, and a callback
// must name the account of its login.

// AuthorizerByPath returns an Options.Authorizer that picks the Official
// Account by the request's path: prefixes maps a path prefix, such as
// "/shop-a/", to the authorizer's appid; the longest prefix that the
// path starts with wins. A path under none has no account.
//
// A lookup costs one map access per distinct prefix length, however many
// accounts there are.
func AuthorizerByPath(prefixes map[string]string) func(*http.Request) string {
	table := make(map[string]string, len(prefixes))
	var lengths []int // distinct prefix lengths, longest first
	for p, v := range prefixes {
		table[p] = v
		if !slices.Contains(lengths, len(p)) {
			lengths = append(lengths, len(p))
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(lengths)))
	return func(r *http.Request) string {
		path := r.URL.Path
		for _, n := range lengths {
			if n <= len(path) {
				if v, ok := table[path[:n]]; ok {
					return v
				}
			}
		}
		return ""
	}
}

// AuthorizerByHost returns an Options.Authorizer that picks the Official
// Account by the request's host (without port, lower case): hosts maps a
// host name to the authorizer's appid. Every host must be served by one
// Auth whose CallbackURL is on that host, since a login ends on the
// origin of the CallbackURL; with one CallbackURL for all accounts use
// AuthorizerByPath.
func AuthorizerByHost(hosts map[string]string) func(*http.Request) string {
	table := make(map[string]string, len(hosts))
	for h, v := range hosts {
		table[strings.ToLower(h)] = v
	}
	return func(r *http.Request) string {
		host := r.Host
		if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
			host = host[:i]
		}
		return table[strings.ToLower(host)]
	}
}

// keyDeriver is what Options.Component must also be: a source of keys
// that every instance shares and nobody else knows (component.Platform
// derives them from the platform's AppSecret).
type keyDeriver interface {
	DeriveKey(purpose string) []byte
}

// loginSecret is what the keys of states and login cookies derive from:
// the AppSecret, or in component mode a key of the platform's.
func (o Options) loginSecret() string {
	if o.Component != nil {
		return hex.EncodeToString(o.Component.(keyDeriver).DeriveKey("wechatauth component login"))
	}
	return o.AppSecret
}

// idName names a user's key in log lines: "openid", or in component
// mode, where the key is User.Key, "appid/openid".
func (o Options) idName() string {
	if o.Component != nil {
		return "appid/openid"
	}
	return "openid"
}

// tenantFace is the face of component mode: a session's user belongs to
// the Official Account of its AppID (engine.Tenanted).
type tenantFace struct{ *face }

// Serves reports whether the session's user belongs to the account that
// serves r: the session's value starts with the user's key, whose appid
// must be r's authorizer's.
func (t tenantFace) Serves(r *http.Request, session string) bool {
	appID := t.apps.authorizerOf(r)
	rest, ok := strings.CutPrefix(session, userVersion+userSep)
	return ok && appID != "" && len(rest) > len(appID) && rest[len(appID)] == '/' && rest[:len(appID)] == appID
}

// authorizerApp returns the app of the authorizer appID, through the
// platform.
func (s siteApps) authorizerApp(appID string) *mpApp {
	return &mpApp{id: appID, account: appID, tokens: s.tokens,
		client: &mp.Client{AppID: appID, Component: s.component, HTTPClient: s.httpClient, Endpoints: s.endpoints}}
}

// authorizerOf returns the appid of the authorizer that serves r, "" when
// none does or outside component mode.
func (s siteApps) authorizerOf(r *http.Request) string {
	if s.authorizer == nil {
		return ""
	}
	if id := s.authorizer(r); isToken(id) {
		return id
	}
	return ""
}

// noAuthorizer answers a request that no Official Account serves, in
// component mode: Options.Authorizer gave no appid for it.
func noAuthorizer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "没有公众号提供此页面。\nNo Official Account serves this page.\n")
}

// CheckCallback makes sure that a callback of component mode names the
// authorizer its login went to: WeChat adds the appid to the callback.
func (m *mpApp) CheckCallback(q url.Values) error {
	if m.account == "" {
		return nil
	}
	if got := q.Get("appid"); !hmac.Equal([]byte(got), []byte(m.account)) {
		return fmt.Errorf("the callback's appid %q is not the Official Account %q of its login", logSafe(got), m.account)
	}
	return nil
}

// logSafe cuts s short and keeps it to a token's characters, for an error
// that quotes a value from the request.
func logSafe(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	if !isToken(s) {
		return "(not an appid)"
	}
	return s
}

// accountUsers keeps the users of every authorizer apart in a UserStore:
// under User.Key, "AppID/OpenID", in component mode.
type accountUsers struct{ UserStore }

func (s accountUsers) User(ctx context.Context, key string) (User, error) {
	u, err := s.UserStore.User(ctx, key)
	if err == nil {
		u.AppID, u.OpenID = splitKey(u.OpenID)
	}
	return u, err
}

func (s accountUsers) SaveUser(ctx context.Context, u User) error {
	u.OpenID, u.AppID = u.Key(), ""
	return s.UserStore.SaveUser(ctx, u)
}

func (s accountUsers) UserByUnionID(ctx context.Context, unionID string) (User, error) {
	u, err := s.UserStore.UserByUnionID(ctx, unionID)
	if err == nil {
		u.AppID, u.OpenID = splitKey(u.OpenID)
	}
	return u, err
}

// accountTokens keeps the tokens of every authorizer's users apart in a
// TokenStore, under the user's Key.
type accountTokens struct{ TokenStore }

func (s accountTokens) Token(ctx context.Context, key string) (mp.Token, error) {
	t, err := s.TokenStore.Token(ctx, key)
	if err == nil {
		_, t.OpenID = splitKey(t.OpenID)
	}
	return t, err
}

func (s accountTokens) SaveToken(ctx context.Context, t mp.Token) error {
	t.OpenID = User{OpenID: t.OpenID, AppID: t.AppID}.Key()
	return s.TokenStore.SaveToken(ctx, t)
}

var (
	_ engine.Tenanted        = tenantFace{}
	_ engine.CallbackChecker = (*mpApp)(nil)
)
