package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestLedger returns two ledgers on one store: two instances.
func newTestLedger() (*ledger[testUser], *ledger[testUser]) {
	store := newTestStore()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &ledger[testUser]{store: store, notFound: errNotFound, timeout: 5 * time.Second, keep: 10 * time.Minute, log: log, face: testFace{}},
		&ledger[testUser]{store: store, notFound: errNotFound, timeout: 5 * time.Second, keep: 10 * time.Minute, log: log, face: testFace{}}
}

// However many deliveries on however many instances, the work runs once
// and every delivery gets its record.
func TestLedgerRunsWorkOnce(t *testing.T) {
	a, b := newTestLedger()
	var runs atomic.Int32
	release := make(chan struct{})
	work := func(context.Context) (*loginRecord[testUser], error) {
		runs.Add(1)
		<-release
		return &loginRecord[testUser]{User: testUser{OpenID: "oAlice"}, Return: "/"}, nil
	}
	var wg sync.WaitGroup
	got := make([]*loginRecord[testUser], 6)
	errs := make([]error, 6)
	for i := range got {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = l.once(context.Background(), "key", work)
		}()
	}
	for runs.Load() == 0 { // the first holder is at work: let it finish
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("work ran %d times, want 1", n)
	}
	for i := range got {
		if errs[i] != nil || got[i] == nil || got[i].User.OpenID != "oAlice" || got[i].key != "key" {
			t.Errorf("delivery %d: got %+v, %v", i, got[i], errs[i])
		}
	}
}

// A failed work lets the next delivery try again.
func TestLedgerFailedWorkIsRetried(t *testing.T) {
	a, b := newTestLedger()
	boom := errors.New("boom")
	if _, err := a.once(context.Background(), "key", func(context.Context) (*loginRecord[testUser], error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("first: got %v, want boom", err)
	}
	rec, err := b.once(context.Background(), "key", func(context.Context) (*loginRecord[testUser], error) {
		return &loginRecord[testUser]{User: testUser{OpenID: "oBob"}}, nil
	})
	if err != nil || rec.User.OpenID != "oBob" {
		t.Errorf("retry: got %+v, %v", rec, err)
	}
}

// A refused code is refused on every instance; others are not.
func TestLedgerRefusedCodes(t *testing.T) {
	a, b := newTestLedger()
	ctx := context.Background()
	a.refuse(ctx, "CODE1")
	a.refuse(ctx, "bad code!") // not a code WeChat issues: not kept
	if err := b.refused(ctx, "CODE1"); !errors.Is(err, ErrInvalidState) {
		t.Errorf("refused code on the other instance: got %v, want ErrInvalidState", err)
	}
	for _, code := range []string{"CODE2", "bad code!"} {
		if err := b.refused(ctx, code); err != nil {
			t.Errorf("%q: got %v, want nil", code, err)
		}
	}
}

// A login takes maxSecondCodes second codes, and a spent state finds a
// closed, refused record.
func TestLedgerSecondCodesAndSpentStates(t *testing.T) {
	a, b := newTestLedger()
	ctx := context.Background()
	for i := 0; i < maxSecondCodes; i++ {
		if err := a.secondCode(ctx, "login", fmt.Sprintf("CODE%d", i)); err != nil {
			t.Fatalf("second code %d: %v", i+1, err)
		}
	}
	if err := b.secondCode(ctx, "login", "CODE9"); !errors.Is(err, ErrInvalidState) {
		t.Errorf("one more: got %v, want ErrInvalidState", err)
	}
	state := "spent-state"
	if b.used(ctx, state) {
		t.Fatal("a fresh state is used")
	}
	a.spend(ctx, state, time.Now())
	rec, err := b.await(ctx, callbackKey(state))
	if err != nil || !rec.Refused || !rec.Closed || !b.used(ctx, state) {
		t.Errorf("spent state: got %+v, %v; want a closed refused record", rec, err)
	}
}

// Deliveries of one second code, at once or one after another, on one
// instance or two, take one place between them: the places count codes,
// not deliveries. A place whose taker died before naming its code is
// taken again.
func TestLedgerSecondCodePlacesCountCodes(t *testing.T) {
	a, b := newTestLedger()
	ctx := context.Background()
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.secondCode(ctx, "login", "CODE2")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d of one code at once: %v", i, err)
		}
	}
	for i := range 3 {
		if err := b.secondCode(ctx, "login", "CODE2"); err != nil {
			t.Errorf("delivery %d of the code later: %v", i, err)
		}
	}
	// A taker that died between claiming the last place and naming its
	// code: the place goes back once its claim runs out.
	if ok, err := a.store.Claim(ctx, "login:second:2", a.claimTTL()); !ok || err != nil {
		t.Fatalf("claim of the last place: %v, %v", ok, err)
	}
	a.store.Finish(ctx, "login:second:2", nil, 0) // the claim runs out
	if err := a.secondCode(ctx, "login", "CODE3"); err != nil {
		t.Errorf("another code after a dead taker: %v", err)
	}
	if err := b.secondCode(ctx, "login", "CODE4"); !errors.Is(err, ErrInvalidState) {
		t.Errorf("a third second code: got %v, want ErrInvalidState", err)
	}
}
