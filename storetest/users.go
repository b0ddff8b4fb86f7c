package storetest

import (
	"context"
	"errors"
	"strings"

	"github.com/wechatauth/wechatauth"
)

var userChecks = []check[wechatauth.UserStore]{
	{"user of an unknown openid is not found", unknownUser},
	{"every user field round-trips", userRoundTrip},
	{"saving a user replaces", userReplaced},
	{"user by unionid", userByUnionID},
}

func unknownUser(t checker, s wechatauth.UserStore) {
	if _, err := s.User(context.Background(), "oNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("User of an openid never saved: got %v, want an error wrapping wechatauth.ErrNotFound", err)
	}
}

// filledUser is a User with every field set, under openID.
func filledUser(t checker, openID string) wechatauth.User {
	t.Helper()
	var u wechatauth.User
	if err := fill(&u); err != nil {
		t.Fatalf("%v", err)
	}
	u.OpenID = openID
	// A store never sees AppID: in component mode the Auth keeps the
	// account in the key (User.Key, under which it saves the user) and
	// hands the store a User whose AppID is empty.
	u.AppID = ""
	return u
}

func userRoundTrip(t checker, s wechatauth.UserStore) {
	ctx := context.Background()
	u := filledUser(t, "oAlice")
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	got, err := s.User(ctx, u.OpenID)
	if err != nil {
		t.Fatalf("User of a user just saved: %v", err)
	}
	if d := diff(got, u); d != nil {
		t.Errorf("User gives back another user than SaveUser saved:\n%s", strings.Join(d, "\n"))
	}
}

func userReplaced(t checker, s wechatauth.UserStore) {
	ctx := context.Background()
	u := filledUser(t, "oAlice")
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	u.Nickname, u.UnionID, u.Snapshot = "Alice 2", "", false
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatalf("SaveUser again: %v", err)
	}
	got, err := s.User(ctx, u.OpenID)
	if err != nil {
		t.Fatalf("User after saving again: %v", err)
	}
	if d := diff(got, u); d != nil {
		t.Errorf("after saving again, User gives back another user than the last saved:\n%s", strings.Join(d, "\n"))
	}
}

// userByUnionID checks the lookup by unionid. The contract lets a store
// keep no unionids, answering ErrNotFound always: such a store skips the
// check, once it has shown that it found none.
func userByUnionID(t checker, s wechatauth.UserStore) {
	ctx := context.Background()
	if _, err := s.UserByUnionID(ctx, "uNobody"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("UserByUnionID of a unionid never saved: got %v, want an error wrapping wechatauth.ErrNotFound", err)
	}
	web := filledUser(t, "oWebCarol")
	web.UnionID = "uCarol"
	if err := s.SaveUser(ctx, web); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	got, err := s.UserByUnionID(ctx, "uCarol")
	if errors.Is(err, wechatauth.ErrNotFound) {
		t.Skipf("UserByUnionID found no user with a unionid just saved: a store that keeps no unionids, which the contract allows")
	}
	if err != nil {
		t.Fatalf("UserByUnionID: %v", err)
	}
	if d := diff(got, web); d != nil {
		t.Errorf("UserByUnionID gives back another user than SaveUser saved:\n%s", strings.Join(d, "\n"))
	}

	// The same person logs in through a second app: the last saved wins.
	oa := wechatauth.User{OpenID: "oCarol", UnionID: "uCarol", Nickname: "Carol"}
	if err := s.SaveUser(ctx, oa); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	if got, err := s.UserByUnionID(ctx, "uCarol"); err != nil || got.OpenID != oa.OpenID {
		t.Errorf("UserByUnionID after a second user with the unionid: got %q, %v; want the last saved, %q", got.OpenID, err, oa.OpenID)
	}

	// Its unionid changes: the old one no longer finds it, the new one does.
	oa.UnionID = "uCarol2"
	if err := s.SaveUser(ctx, oa); err != nil {
		t.Fatalf("SaveUser: %v", err)
	}
	if got, err := s.UserByUnionID(ctx, "uCarol2"); err != nil || got.OpenID != oa.OpenID {
		t.Errorf("UserByUnionID of a changed unionid: got %q, %v; want %q", got.OpenID, err, oa.OpenID)
	}
	if got, err := s.UserByUnionID(ctx, "uCarol"); !errors.Is(err, wechatauth.ErrNotFound) {
		t.Errorf("UserByUnionID of the unionid the last user saved with it no longer has: got %q, %v; want an error wrapping wechatauth.ErrNotFound", got.OpenID, err)
	}
}
