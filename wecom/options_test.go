package wecom_test

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth/wecom"
)

// Mirrors the Official Account's TestNewRejectsBadOptions: New names every
// wrong field and its fix at once, and reaches no network.
func TestNewNamesEveryWrongField(t *testing.T) {
	strict := scs.New()
	strict.Cookie.SameSite = http.SameSiteStrictMode
	cases := []struct {
		name  string
		opts  wecom.Options
		wants []string
	}{
		{"empty", wecom.Options{}, []string{"Options.CorpID: required", "Options.AgentID: required", "Options.Secret: required", "Options.CallbackURL: required", "Options.Sessions: required"}},
		{"privateinfo without an AgentID", wecom.Options{CorpID: "ww1", Secret: "s", CallbackURL: "https://example.com/wecom/callback", Sessions: scs.New(), Scope: wecom.ScopePrivateInfo},
			[]string{"Options.AgentID: required", "ScopePrivateInfo"}},
		{"a non-numeric AgentID", wecom.Options{CorpID: "ww1", AgentID: "wx123", Secret: "s", CallbackURL: "https://example.com/wecom/callback", Sessions: scs.New()},
			[]string{"Options.AgentID: must be the app's AgentId, digits"}},
		{"snsapi_userinfo", wecom.Options{CorpID: "ww1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/wecom/callback", Sessions: scs.New(), Scope: "snsapi_userinfo"},
			[]string{"Options.Scope: snsapi_userinfo is not a scope of WeCom"}},
		{"a callback at the root, a Strict cookie", wecom.Options{CorpID: "ww1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/", Sessions: strict},
			[]string{"Options.CallbackURL: its path must name the callback", "Options.Sessions: Cookie.SameSite is Strict"}},
		{"a corp's CorpID with a space", wecom.Options{CorpID: "ww 1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/cb", Sessions: scs.New(), MaxAttempts: -1},
			[]string{"Options.CorpID: must hold only", "Options.MaxAttempts: must not be negative"}},
		{"a non-member as the debug member", wecom.Options{CorpID: "ww1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/cb", Sessions: scs.New(), DebugBypass: true, DebugMember: wecom.Member{OpenID: "wm1"}},
			[]string{"Options.DebugMember: must be a member of the app's own corp"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := wecom.New(tc.opts)
			if a != nil || err == nil {
				t.Fatalf("New: %v, %v; want an error", a, err)
			}
			for _, want := range tc.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if tc.name == "empty" && strings.Count(err.Error(), "\n") != 4 {
				t.Errorf("error %q: want one line for each of the 5 missing fields", err)
			}
		})
	}
}

// New reaches neither WeCom nor a store: the corp token is fetched by
// the first login.
func TestNewCallsNobody(t *testing.T) {
	var calls atomic.Int32
	_, err := wecom.New(wecom.Options{
		CorpID: "ww1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/wecom/callback", Sessions: scs.New(),
		HTTPClient: &http.Client{Transport: roundTrip(func(*http.Request) (*http.Response, error) {
			calls.Add(1)
			return nil, errors.New("no network here")
		})},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil || calls.Load() != 0 {
		t.Errorf("New: %v, %d calls; want nil and none", err, calls.Load())
	}
}

// The session keeps a member as the face encodes it, "w1", and reads
// back every field; a value of another version or shape is nobody.
func TestSessionEncoding(t *testing.T) {
	for _, m := range []wecom.Member{
		{UserID: "zhangsan", Name: "张三", Department: []int64{1, 22, 333}, Private: wecom.Private{Gender: "1", Mobile: "13800000000", Email: "z@example.com", Avatar: "https://a.example/0", QRCode: "https://q.example/?v=1", BizMail: "z@corp.example", Address: "北京"}},
		{UserID: "lisi", CorpID: "ww0000000000000002"},
		{OpenID: "wmStranger", ExternalUserID: "wmExt1"},
		{UserID: "sep\x1farated", Name: "a\x1fb"},
	} {
		enc := wecom.EncodeMember(m, true)
		if !strings.HasPrefix(enc, "w1\x1f") {
			t.Errorf("%q: not version w1", enc)
		}
		got, ok := wecom.DecodeMember(enc + "\x1floginkey")
		want := m
		want.UserID, want.Name = strings.ReplaceAll(m.UserID, "\x1f", ""), strings.ReplaceAll(m.Name, "\x1f", "")
		if !ok || got.UserID != want.UserID || got.CorpID != want.CorpID || got.OpenID != want.OpenID || got.ExternalUserID != want.ExternalUserID ||
			got.Name != want.Name || got.Private != want.Private || len(got.Department) != len(want.Department) {
			t.Errorf("round trip of %+v: %+v, %t", m, got, ok)
		}
		for i := range want.Department {
			if got.Department[i] != want.Department[i] {
				t.Errorf("departments %v, want %v", got.Department, want.Department)
			}
		}
	}
	for _, bad := range []string{"", "u1\x1foOpenID\x1f\x1f\x1f\x1f\x1f", "w1" + strings.Repeat("\x1f", 14),
		"w1\x1fzhangsan\x1f\x1fwmStranger" + strings.Repeat("\x1f", 11), "w1\x1f\x1fww2\x1fwm1" + strings.Repeat("\x1f", 11)} {
		if m, ok := wecom.DecodeMember(bad); ok {
			t.Errorf("DecodeMember(%q) = %+v, want nobody", bad, m)
		}
	}
}

func TestMemberKinds(t *testing.T) {
	for _, tc := range []struct {
		m              wecom.Member
		member, linked bool
		id             string
	}{
		{wecom.Member{UserID: "zhangsan"}, true, false, "zhangsan"},
		{wecom.Member{UserID: "lisi", CorpID: "ww2"}, true, true, "ww2/lisi"},
		{wecom.Member{OpenID: "zhangsan"}, false, false, "openid:zhangsan"},
		{wecom.Member{OpenID: "wm1", ExternalUserID: "wmExt"}, false, false, "openid:wm1"},
	} {
		if tc.m.IsMember() != tc.member || tc.m.Linked() != tc.linked || tc.m.ID() != tc.id {
			t.Errorf("%+v: IsMember %t, Linked %t, ID %q; want %t, %t, %q", tc.m, tc.m.IsMember(), tc.m.Linked(), tc.m.ID(), tc.member, tc.linked, tc.id)
		}
	}
}

// Shared sessions with the callbacks or the corp token in one process's
// memory are named at New, with the fix.
func TestSharedSessionsWithLocalStoresAreNamed(t *testing.T) {
	var logs syncBuffer
	sessions := scs.New()
	sessions.Store = sharedStore{}
	_, err := wecom.New(wecom.Options{
		CorpID: "ww1", AgentID: "1000002", Secret: "s", CallbackURL: "https://example.com/wecom/callback", Sessions: sessions,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Options.Callbacks is in this process's memory", "Options.TokenCache is left in this process's memory", "work.AccessTokenCredential"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q: %s", want, logs.String())
		}
	}
}

// sharedStore stands in for a session store that instances share.
type sharedStore struct{}

func (sharedStore) Find(string) ([]byte, bool, error)      { return nil, false, nil }
func (sharedStore) Commit(string, []byte, time.Time) error { return nil }
func (sharedStore) Delete(string) error                    { return nil }
