package storetest

import (
	"context"
	"errors"
	"strings"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/mp"
)

var tokenChecks = []check[wechatauth.TokenStore]{
	{"tokens of an unknown openid are not found", unknownToken},
	{"every token field round-trips", tokenRoundTrip},
	{"saving tokens replaces", tokenReplaced},
}

func unknownToken(t checker, s wechatauth.TokenStore) {
	if _, err := s.Token(context.Background(), "oNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("Token of an openid never saved: got %v, want an error wrapping wechatauth.ErrNotFound", err)
	}
}

// filledToken is an mp.Token with every field set, for openID.
func filledToken(t checker, openID string) mp.Token {
	t.Helper()
	var tok mp.Token
	if err := fill(&tok); err != nil {
		t.Fatalf("%v", err)
	}
	tok.OpenID = openID
	return tok
}

func tokenRoundTrip(t checker, s wechatauth.TokenStore) {
	ctx := context.Background()
	tok := filledToken(t, "oAlice")
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	got, err := s.Token(ctx, tok.OpenID)
	if err != nil {
		t.Fatalf("Token of tokens just saved: %v", err)
	}
	if d := diff(got, tok); d != nil {
		t.Errorf("Token gives back other tokens than SaveToken saved:\n%s", strings.Join(d, "\n"))
	}
}

func tokenReplaced(t checker, s wechatauth.TokenStore) {
	ctx := context.Background()
	tok := filledToken(t, "oAlice")
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatalf("SaveToken: %v", err)
	}
	tok.AccessToken, tok.RefreshToken, tok.UnionID = "access-2", "refresh-2", ""
	if err := s.SaveToken(ctx, tok); err != nil {
		t.Fatalf("SaveToken again: %v", err)
	}
	got, err := s.Token(ctx, tok.OpenID)
	if err != nil {
		t.Fatalf("Token after saving again: %v", err)
	}
	if d := diff(got, tok); d != nil {
		t.Errorf("after saving again, Token gives back other tokens than the last saved:\n%s", strings.Join(d, "\n"))
	}
}
