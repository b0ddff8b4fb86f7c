package storetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/testclock"
)

var callbackChecks = []check[wechatauth.CallbackStore]{
	{"callback lifecycle", callbackLifecycle},
	{"a claim reads as no record", claimReadsAsNoRecord},
	{"keys with colons are keys of their own", keysWithColons},
	{"claim is atomic", claimIsAtomic},
	{"claims and records expire with their ttl", callbacksExpire},
}

// hexKey is a key of the shape the middleware makes: 32 hex digits.
const hexKey = "0123456789abcdef0123456789abcdef"

// claim claims key and fails the check unless the claim is won.
func claim(t checker, s wechatauth.CallbackStore, key string, ttl time.Duration) {
	t.Helper()
	if ok, err := s.Claim(context.Background(), key, ttl); !ok || err != nil {
		t.Fatalf("Claim(%q) of a key not held: got %v, %v; want true, nil", key, ok, err)
	}
}

// finish finishes key with record and fails the check on an error.
func finish(t checker, s wechatauth.CallbackStore, key string, record []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Finish(context.Background(), key, record, ttl); err != nil {
		t.Fatalf("Finish(%q, %q): %v", key, record, err)
	}
}

// wantRecord checks what Record gives for key: want, or with want nil,
// the nil record of a claimed key, or with notFound, ErrNotFound.
func wantRecord(t checker, s wechatauth.CallbackStore, key string, want []byte, notFound bool, when string) {
	t.Helper()
	rec, err := s.Record(context.Background(), key)
	switch {
	case notFound:
		if !errors.Is(err, wechatauth.ErrNotFound) {
			t.Errorf("Record(%q) %s: got %q, %v; want an error wrapping wechatauth.ErrNotFound", key, when, rec, err)
		}
	case want == nil:
		if rec != nil || err != nil {
			t.Errorf("Record(%q) %s: got %#v, %v; want a nil record and a nil error", key, when, rec, err)
		}
	default:
		if string(rec) != string(want) || err != nil {
			t.Errorf("Record(%q) %s: got %q, %v; want %q", key, when, rec, err, want)
		}
	}
}

// wantClaim checks that a Claim of key gives want.
func wantClaim(t checker, s wechatauth.CallbackStore, key string, ttl time.Duration, want bool, when string) {
	t.Helper()
	if ok, err := s.Claim(context.Background(), key, ttl); ok != want || err != nil {
		t.Errorf("Claim(%q) %s: got %v, %v; want %v, nil", key, when, ok, err, want)
	}
}

func callbackLifecycle(t checker, s wechatauth.CallbackStore) {
	const key, ttl = hexKey, 10 * time.Minute
	wantRecord(t, s, key, nil, true, "before any claim")
	claim(t, s, key, ttl)
	wantRecord(t, s, key, nil, false, "while claimed")
	wantClaim(t, s, key, ttl, false, "while claimed")
	finish(t, s, key, nil, ttl)
	wantRecord(t, s, key, nil, true, "after Finish with no record let go")
	claim(t, s, key, ttl)
	record := []byte("r2 - - - - /account/\nu1")
	finish(t, s, key, record, 2*time.Minute)
	wantRecord(t, s, key, record, false, "after Finish")
	wantClaim(t, s, key, ttl, false, "after Finish")
	wantRecord(t, s, key, record, false, "after a Claim of the finished key")
}

// claimReadsAsNoRecord checks how the middleware remembers a code it
// refused: a claim that is never finished, whose Record is nil, nil
// (found) for as long as the claim lasts.
func claimReadsAsNoRecord(t checker, s wechatauth.CallbackStore) {
	const key, ttl = "refused:" + hexKey, 10 * time.Minute
	claim(t, s, key, ttl)
	wantRecord(t, s, key, nil, false, "of a claim never finished")
	wantClaim(t, s, key, ttl, false, "of a claim never finished")
	wantRecord(t, s, key, nil, false, "of a claim never finished, claimed again")
}

// keysWithColons checks keys of the shapes the middleware uses: a state's
// hash, "code:<hash>", "refused:<hash>", "<hash>:second:1". Each is a key
// of its own, whatever the store makes of ':'.
func keysWithColons(t checker, s wechatauth.CallbackStore) {
	const ttl = 10 * time.Minute
	state, code, refused, second := hexKey, "code:"+hexKey, "refused:"+hexKey, hexKey+":second:1"
	stateRec, codeRec := []byte("state's record"), []byte("code's record")
	claim(t, s, state, ttl)
	finish(t, s, state, stateRec, ttl)
	wantRecord(t, s, second, nil, true, "with only "+state+" finished")
	wantRecord(t, s, code, nil, true, "with only "+state+" finished")
	claim(t, s, second, ttl)
	claim(t, s, code, ttl)
	finish(t, s, code, codeRec, ttl)
	claim(t, s, refused, ttl)
	wantRecord(t, s, state, stateRec, false, "beside the other keys")
	wantRecord(t, s, code, codeRec, false, "beside the other keys")
	wantRecord(t, s, second, nil, false, "claimed beside the other keys")
	wantRecord(t, s, refused, nil, false, "claimed beside the other keys")
	wantRecord(t, s, hexKey+":second:2", nil, true, "never claimed")
	wantRecord(t, s, "refused:"+hexKey[1:], nil, true, "never claimed")
	finish(t, s, second, nil, ttl)
	wantRecord(t, s, second, nil, true, "after letting it go")
	wantRecord(t, s, state, stateRec, false, "after letting "+second+" go")
	wantRecord(t, s, refused, nil, false, "after letting "+second+" go")
}

// claimIsAtomic has 50 callers claim one key at once: one wins.
func claimIsAtomic(t checker, s wechatauth.CallbackStore) {
	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		won   int
		errs  []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := s.Claim(context.Background(), hexKey, time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if ok {
				won++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Claim failed %d times out of %d, first: %v", len(errs), n, errs[0])
	}
	if won != 1 {
		t.Errorf("%d concurrent Claims of one key: %d won, want 1", n, won)
	}
}

// callbacksExpire checks that a claim ends with the ttl of Claim, a record
// with the ttl of Finish (shorter or longer than the claim's), on the
// store's own clock: it polls until a short one is gone, for at most 30
// seconds past its ttl (scaled by testclock.Patience), so that a busy
// machine slows the check down rather than failing it.
func callbacksExpire(t checker, s wechatauth.CallbackStore) {
	const short, long = 50 * time.Millisecond, 10 * time.Minute
	const kept, claimed, finished = "a" + hexKey, "b" + hexKey, "c" + hexKey
	rec := []byte("record")
	// kept's claim is short, its record long; it is claimed first, so that
	// once claimed's short claim is gone, kept's has run out too.
	claim(t, s, kept, short)
	finish(t, s, kept, rec, long)
	claim(t, s, claimed, short)
	claim(t, s, finished, long)
	finish(t, s, finished, rec, short)

	waitGone(t, s, claimed, short, "a claim")
	wantRecord(t, s, kept, rec, false, "finished for "+long.String()+" after a claim for "+short.String()+" ran out")
	waitGone(t, s, finished, short, "a record")
	wantClaim(t, s, claimed, short, true, "after its claim expired")
	wantClaim(t, s, finished, short, true, "after its record expired")
}

// waitGone polls until Record of key is ErrNotFound, for at most
// testclock.Patience(30s) past ttl.
func waitGone(t checker, s wechatauth.CallbackStore, key string, ttl time.Duration, what string) {
	t.Helper()
	limit := testclock.Patience(30 * time.Second)
	deadline := time.Now().Add(ttl + limit)
	for {
		rec, err := s.Record(context.Background(), key)
		if errors.Is(err, wechatauth.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s for %v (%q) is still there %v past its ttl: Record gives %q, %v; %s",
				what, ttl, key, limit, rec, err, testclock.RanOut("the store", ttl+limit, "expiring it"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
