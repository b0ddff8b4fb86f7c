package wechatauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/wechatauth/wechatauth"
)

// Web-auth tokens are kept where they serve: a login whose scope allows
// the profile, which RefreshUser fetches again with them. A snsapi_base
// login keeps none, and does not replace the tokens of an earlier consent.
func TestTokensKeptOnlyWhereTheyServe(t *testing.T) {
	const id = "oTestUser0000000000000000001"
	ctx := context.Background()
	h := newHarness(t, nil) // snsapi_base
	h.login("/account/")
	if tok, err := h.store.Token(ctx, id); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Fatalf("tokens after a snsapi_base login: got %+v, %v; want none", tok, err)
	}

	// A consent keeps tokens that can fetch the profile ...
	c := h.browser(true)
	h.mux.Handle("/consent", h.auth.RequireScope(wechatauth.ScopeUserInfo, http.NotFoundHandler()))
	h.loginWith(c, "/account/")
	if resp, _ := h.get(c, "/consent"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("consent route: status %d", resp.StatusCode)
	}
	tok, err := h.store.Token(ctx, id)
	if err != nil || !tok.HasScope(string(wechatauth.ScopeUserInfo)) {
		t.Fatalf("tokens after a consent: got %+v, %v; want snsapi_userinfo tokens", tok, err)
	}

	// ... which a later silent login leaves in place for RefreshUser.
	h.login("/account/")
	if again, err := h.store.Token(ctx, id); err != nil || again.AccessToken != tok.AccessToken {
		t.Errorf("tokens after a later snsapi_base login: got %+v, %v; want the consent's", again, err)
	}
	if u, err := h.auth.RefreshUser(ctx, id); err != nil || u.Nickname == "" {
		t.Errorf("RefreshUser after a later snsapi_base login: got %+v, %v; want the profile", u, err)
	}
}
