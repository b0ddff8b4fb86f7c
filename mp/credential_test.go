package mp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// otherRefusal is another platform's refusal, as a sibling package's
// error type would be.
type otherRefusal struct {
	code int
	msg  string
}

func (e *otherRefusal) Error() string { return fmt.Sprintf("other: errcode %d: %s", e.code, e.msg) }
func (e *otherRefusal) Refusal() (int, string, string) {
	return e.code, e.msg, "/other/token"
}
func (e *otherRefusal) StaleAccessToken() bool { return e.code == 777 }

// countingFetch returns a fetch that answers with the errors in order,
// then with a credential, and counts its calls.
type countingFetch struct {
	mu    sync.Mutex
	calls int
	errs  []error
	now   time.Time
}

func (f *countingFetch) fetch(context.Context) (mp.Credential, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return mp.Credential{}, err
	}
	return mp.Credential{Value: fmt.Sprintf("value-%d", f.calls), Expiry: f.now.Add(time.Hour)}, nil
}

func (f *countingFetch) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newOtherSource(f *countingFetch, refused bool) *mp.CredentialSource {
	fetcher := mp.CredentialFetcher{Name: "other token", Fetch: f.fetch, Now: func() time.Time { return f.now }}
	if refused {
		fetcher.Refused = func(code int, msg, _ string) error { return &otherRefusal{code: code, msg: msg} }
	}
	return mp.NewCredentialSource(fetcher, mp.CredentialOptions{})
}

// TestCredentialSourceOtherPlatform checks that a source of another
// platform backs off from that platform's refusals, and that callers met by
// the back-off get them back as that platform's errors.
func TestCredentialSourceOtherPlatform(t *testing.T) {
	ctx := context.Background()
	f := &countingFetch{now: time.Now(), errs: []error{&otherRefusal{code: 45009, msg: "quota"}}}
	src := newOtherSource(f, true)
	_, err := src.Get(ctx)
	var o *otherRefusal
	if !errors.As(err, &o) || o.code != 45009 {
		t.Fatalf("first Get: got %v, want the refusal", err)
	}
	_, err = src.Get(ctx)
	var be *mp.BackoffError
	if !errors.As(err, &be) || be.What != "other token" || !errors.As(err, &o) || o.code != 45009 || o.msg != "quota" {
		t.Fatalf("second Get: got %v, want a back-off over the other platform's refusal", err)
	}
	if f.count() != 1 {
		t.Errorf("fetches: got %d, want 1", f.count())
	}

	// Without Refused, the back-off carries an *mp.Error.
	f = &countingFetch{now: time.Now(), errs: []error{&otherRefusal{code: 45009, msg: "quota"}}}
	src = newOtherSource(f, false)
	src.Get(ctx)
	_, err = src.Get(ctx)
	var e *mp.Error
	if !errors.As(err, &e) || e.Code != 45009 || e.Endpoint != "/other/token" {
		t.Errorf("second Get without Refused: got %v, want a back-off over an *mp.Error", err)
	}
}

func TestCredentialSourceOtherPlatformStaleAndBusy(t *testing.T) {
	ctx := context.Background()
	// A stale token is the caller's to cure, not backed off.
	f := &countingFetch{now: time.Now(), errs: []error{&otherRefusal{code: 777}}}
	src := newOtherSource(f, true)
	if _, err := src.Get(ctx); err == nil {
		t.Fatal("first Get: got no error, want the stale refusal")
	}
	if v, err := src.Get(ctx); err != nil || v != "value-2" || f.count() != 2 {
		t.Errorf("second Get: got %q, %v after %d fetches; want value-2 after 2", v, err, f.count())
	}
	// A busy platform (-1) is retried at once.
	f = &countingFetch{now: time.Now(), errs: []error{&otherRefusal{code: -1}}}
	src = newOtherSource(f, true)
	if v, err := src.Get(ctx); err != nil || v != "value-2" || f.count() != 2 {
		t.Errorf("Get after busy: got %q, %v after %d fetches; want value-2 after 2", v, err, f.count())
	}
}

func TestCredentialSourceInvalidate(t *testing.T) {
	ctx := context.Background()
	f := &countingFetch{now: time.Now()}
	src := newOtherSource(f, true)
	v1, _ := src.Get(ctx)
	if err := src.Invalidate(ctx, "not the cached value"); err != nil {
		t.Fatal(err)
	}
	if v, _ := src.Get(ctx); v != v1 {
		t.Errorf("after invalidating another value: got %q, want %q", v, v1)
	}
	if err := src.Invalidate(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if v, _ := src.Get(ctx); v == v1 || f.count() != 2 {
		t.Errorf("after invalidating the cached value: got %q after %d fetches, want a new one", v, f.count())
	}
}

func TestNewCredentialSourceWithoutFetchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a nil Fetch")
		}
	}()
	mp.NewCredentialSource(mp.CredentialFetcher{}, mp.CredentialOptions{})
}

// tokenList is an AccessTokenSource that hands out its tokens in turn.
type tokenList struct {
	tokens      []string
	invalidated []string
}

func (l *tokenList) Token(context.Context) (string, error) {
	t := l.tokens[0]
	if len(l.tokens) > 1 {
		l.tokens = l.tokens[1:]
	}
	return t, nil
}

func (l *tokenList) Invalidate(_ context.Context, t string) error {
	l.invalidated = append(l.invalidated, t)
	return nil
}

// TestWithAccessTokenOtherPlatform checks that WithAccessToken retries once
// after another platform's stale-token refusal, and not after its others.
func TestWithAccessTokenOtherPlatform(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		code  int
		calls int
	}{{777, 2}, {40001, 1}} {
		ts := &tokenList{tokens: []string{"t1", "t2", "t3"}}
		var used []string
		err := mp.WithAccessToken(ctx, ts, func(token string) error {
			used = append(used, token)
			return &otherRefusal{code: tc.code}
		})
		if len(used) != tc.calls || err == nil {
			t.Errorf("errcode %d: calls with %q, err %v; want %d calls and the refusal", tc.code, used, err, tc.calls)
		}
		if tc.calls == 2 && (len(ts.invalidated) != 1 || ts.invalidated[0] != "t1" || used[1] != "t2") {
			t.Errorf("errcode %d: invalidated %q, used %q; want t1 invalidated and t2 used", tc.code, ts.invalidated, used)
		}
	}
}
