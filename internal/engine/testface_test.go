package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// testUser is the identity of the engine's own tests: the fields and the
// session format of package wechatauth's User.
type testUser struct {
	OpenID, UnionID, Nickname, HeadImgURL string
	UpdatedAt                             time.Time
	Snapshot                              bool
}

// testFace is a face of testUsers whose apps are its own.
type testFace struct{ apps []App[testUser] }

func (testFace) Encode(u testUser, profile bool) string {
	var updated, flags string
	if !u.UpdatedAt.IsZero() {
		updated = strconv.FormatInt(u.UpdatedAt.Unix(), 10)
	}
	if u.Snapshot {
		flags = "s"
	}
	if profile {
		flags += "p"
	}
	return strings.Join([]string{"u1", u.OpenID, u.UnionID, u.Nickname, u.HeadImgURL, updated, flags}, "\x1f")
}

func (testFace) Decode(s string) (testUser, bool) {
	var f [7]string
	for i := range f[:6] {
		var ok bool
		if f[i], s, ok = strings.Cut(s, "\x1f"); !ok {
			return testUser{}, false
		}
	}
	f[6], _, _ = strings.Cut(s, "\x1f")
	snapshot := strings.Contains(f[6], "s")
	if f[0] != "u1" || (f[1] == "") != snapshot {
		return testUser{}, false
	}
	u := testUser{OpenID: f[1], UnionID: f[2], Nickname: f[3], HeadImgURL: f[4], Snapshot: snapshot}
	if sec, err := strconv.ParseInt(f[5], 10, 64); err == nil {
		u.UpdatedAt = time.Unix(sec, 0)
	}
	return u, true
}

func (testFace) LoginKey(s string) string {
	for range 7 {
		_, s, _ = strings.Cut(s, "\x1f")
	}
	return s
}

func (testFace) Key(u testUser) string   { return u.OpenID }
func (testFace) Alias(u testUser) string { return u.UnionID }
func (testFace) Guest(u testUser) bool   { return u.Snapshot }
func (f testFace) HasProfile(s string) (has, guest bool) {
	u, _ := f.Decode(s)
	return strings.Contains(s, "p\x1f"), u.Snapshot
}
func (f testFace) AppFor(*http.Request) App[testUser] { return f.apps[0] }
func (f testFace) App(name string) App[testUser] {
	for _, ap := range f.apps {
		if ap.Name() == name {
			return ap
		}
	}
	return nil
}
func (testFace) Outside(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }
func (testFace) Resolve(_ context.Context, _ App[testUser], g Grant[testUser]) (testUser, bool, error) {
	return g.User, false, nil
}
func (testFace) DebugUser(_ *http.Request, key string) testUser { return testUser{OpenID: key} }
func (testFace) Errcode(error) (int, bool)                      { return 0, false }
func (testFace) Upstream(error) bool                            { return false }

// testApp is an app of the test face: the scopes it asks for are those of
// an Official Account's authorize page, or, qr, of a website app's QR
// login.
type testApp struct {
	name string
	qr   bool
}

func (a testApp) Name() string { return a.name }
func (a testApp) Scope(want Scope) Scope {
	if a.qr {
		return "snsapi_login"
	}
	return want
}
func (testApp) AuthorizeURL(callbackURL, state string, scope Scope) string {
	return "https://authorize.example/?state=" + state
}
func (testApp) Redeem(context.Context, string) (Grant[testUser], error) {
	return Grant[testUser]{}, io.ErrUnexpectedEOF
}
func (testApp) Spent(error) bool              { return false }
func (testApp) Misconfigured(err error) error { return err }

// testEngine is the engine of an https site whose logins go through an
// Official Account ("") or a website app ("web").
func testEngine() *Engine[testUser] {
	return New(Config[testUser]{
		CallbackURL: "https://site.example/wechat/callback", Sessions: scs.New(), Store: newTestStore(), NotFound: errNotFound,
		Secret: "test secret", Scope: "snsapi_base", ProfileScope: "snsapi_userinfo", Scopes: []Scope{"snsapi_base", "snsapi_userinfo"},
		Timeout: 5 * time.Second, StateTTL: 10 * time.Minute, MaxAttempts: 5, Logger: discardLogger(), IDName: "openid",
	}, testFace{apps: []App[testUser]{testApp{}, testApp{name: "web", qr: true}}})
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// errNotFound is what testStore wraps when nothing is kept under a key.
var errNotFound = errors.New("not found")

// testStore is a Store in memory whose entries do not expire: the
// engine's tests take less time than any TTL.
type testStore struct {
	mu sync.Mutex
	m  map[string][]byte // nil: claimed and unfinished
}

func newTestStore() *testStore { return &testStore{m: map[string][]byte{}} }

func (s *testStore) Claim(_ context.Context, key string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, held := s.m[key]; held {
		return false, nil
	}
	s.m[key] = nil
	return true, nil
}

func (s *testStore) Record(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.m[key]
	if !ok {
		return nil, fmt.Errorf("callback record: %w", errNotFound)
	}
	return rec, nil
}

func (s *testStore) Finish(_ context.Context, key string, record []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(record) == 0 {
		delete(s.m, key)
		return nil
	}
	s.m[key] = record
	return nil
}
