package wechatauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/wechatauth/wechatauth/mp"
)

// Component mode (Options.Component): one site logs users in for every
// Official Account that authorized a third-party platform, each request
// for the account Options.Authorizer names. Each account's users stay its
// own: a User carries its AppID, the stores keep it under User.Key, a
// session keeps one user per account and a page sees its account's, and a callback
// must name the account of its login. Here: how a request's account is
// chosen, and how the stores keep the accounts' users apart; the face
// (tenantFace, face.go), the apps (authorizerApp, mpapp.go) and the
// options (options.go) do the rest.

// AuthorizerByPath returns an Options.Authorizer that picks the Official
// Account by the request's path: prefixes maps a path prefix, such as
// "/shop-a/", to the authorizer's appid; the longest prefix that the
// path starts with wins. A path under none has no account.
//
// The path is read as net/http.ServeMux routes it: an encoded slash
// ("%2F") does not separate segments, so "/shop-a%2Fx" is under "/"
// only, as it is for the mux, never a page of "/shop-a/".
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
		if r.URL.RawPath != "" {
			path = routedPath(r.URL)
		}
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

// routedPath is u's path as http.ServeMux routes it: decoded, except that
// an encoded slash stays "%2F" and so separates no segment. A path that
// does not decode is "", under no prefix.
func routedPath(u *url.URL) string {
	esc := keepSlashes.Replace(u.EscapedPath())
	p, err := url.PathUnescape(esc)
	if err != nil {
		return ""
	}
	return p
}

// keepSlashes escapes an encoded slash once more, so that unescaping the
// path leaves it encoded.
var keepSlashes = strings.NewReplacer("%2F", "%252F", "%2f", "%252F")

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
