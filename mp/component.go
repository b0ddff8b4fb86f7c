package mp

import (
	"context"
	"net/url"
	"strings"
)

// Component is an Open Platform third-party platform (第三方平台) through
// which a [Client] acts for the Official Account of its AppID, the
// authorizer, in component mode (第三方平台代公众号发起网页授权): package
// component's Platform is one. Its token is the component_access_token.
type Component interface {
	AccessTokenSource
	// ComponentAppID returns the platform's component appid.
	ComponentAppID() string
}

// Paths of web authorization in component mode.
const (
	pathComponentExchange = "/sns/oauth2/component/access_token"
	pathComponentRefresh  = "/sns/oauth2/component/refresh_token"
)

// componentLink adds the component_appid of c's platform to an authorize
// link, after the state and before the fragment, in the order WeChat's
// page requires.
func (c *Client) componentLink(link string) string {
	if c.Component == nil {
		return link
	}
	base, frag, _ := strings.Cut(link, "#")
	return base + "&component_appid=" + url.QueryEscape(c.Component.ComponentAppID()) + "#" + frag
}

// componentToken trades a code, or renews tokens, through the component
// endpoint with the platform's component_access_token: q is the call's
// query before component_appid, rest what follows the token. A token
// WeChat refuses as stale is renewed once.
func (c *Client) componentToken(ctx context.Context, endpoint string, q, rest query) (*Token, error) {
	var tok *Token
	err := WithAccessToken(ctx, c.Component, func(token string) error {
		full := append(append(append(query{}, q...), "component_appid", c.Component.ComponentAppID(), "component_access_token", token), rest...)
		var err error
		tok, err = c.token(ctx, endpoint, full)
		return err
	})
	return tok, err
}
