package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"
)

// ledger keeps in the CallbackStore how the login of each state ended, so
// that however often and wherever a callback is delivered (WeChat's
// retries, a reload, two instances) its code is exchanged once and every
// delivery finds the answer. It also spends states and remembers refused
// codes. Keys are hashes: the store never holds a live state or code.
type ledger[U any] struct {
	store    Store
	notFound error         // what store wraps when nothing is kept under a key
	timeout  time.Duration // an exchange's budget (Config.Timeout)
	keep     time.Duration // how long a finished record lives (Config.StateTTL)
	log      *slog.Logger
	face     Face[U]            // how a record keeps its user
	flight   singleflight.Group // one exchange per key in this process
}

// claimTTL is how long a claim on a callback holds others off: the
// exchange's budget and a second to record its end. A claim of an instance
// that died in between ends with it; only finished records are kept for
// StateTTL.
func (l *ledger[U]) claimTTL() time.Duration { return l.timeout + time.Second }

// once runs work for key once across every request and instance: concurrent
// requests in this process share one flight, and the CallbackStore's claim
// and record cover other instances and later requests. The work is detached
// from the request, so a browser that gives up on the first delivery does
// not cancel the work its retry waits for.
func (l *ledger[U]) once(ctx context.Context, key string, work func(context.Context) (*loginRecord[U], error)) (*loginRecord[U], error) {
	v, err, _ := l.flight.Do(key, func() (any, error) {
		// Room to wait out the claim of a holder that died, then work.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.claimTTL()+l.timeout)
		defer cancel()
		for {
			claimed, err := l.store.Claim(ctx, key, l.claimTTL())
			if err != nil {
				return nil, StoreError("callback", err)
			}
			if !claimed {
				rec, err := l.await(ctx, key)
				if errors.Is(err, l.notFound) {
					continue // the holder failed and let go: try ourselves
				}
				return rec, err
			}
			wctx, wcancel := context.WithTimeout(ctx, l.timeout)
			rec, err := work(wctx)
			wcancel()
			var b []byte
			if err == nil {
				b = rec.encode(l.face)
			}
			// Finish even when the work ran out of time: a claim left
			// behind would hold every later request until it expires.
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			ferr := l.store.Finish(fctx, key, b, l.keep)
			fcancel()
			if ferr != nil && err == nil {
				err = StoreError("callback", ferr)
			}
			return rec, err
		}
	})
	if err != nil {
		return nil, err
	}
	rec := *v.(*loginRecord[U]) // shared with the flight's other callers
	rec.key = key
	return &rec, nil
}

// await returns the record stored under key, waiting while another
// request or instance holds the claim. A key neither claimed nor finished
// gives an error wrapping Config.NotFound.
func (l *ledger[U]) await(ctx context.Context, key string) (*loginRecord[U], error) {
	wait := 5 * time.Millisecond
	for {
		b, err := l.store.Record(ctx, key)
		if err != nil {
			if errors.Is(err, l.notFound) {
				return nil, err
			}
			return nil, StoreError("callback", err)
		}
		if len(b) > 0 {
			return decodeRecord(b, l.face)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("wechatauth: waiting for a concurrent callback: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// maxSecondCodes is how many codes besides the first one login may have
// exchanged: WeChat redirects twice at most, and made-up codes must not
// spend the app's quota.
const maxSecondCodes = 2

// secondCode takes one of the maxSecondCodes places of the login kept
// under stateKey for code, a code never exchanged, or says there is none
// left. A place keeps the hash of its code, so that deliveries of one
// code at once, which all find it never exchanged, take one place between
// them.
func (l *ledger[U]) secondCode(ctx context.Context, stateKey, code string) error {
	mark := []byte(codeHash(code))
	for i := 1; i <= maxSecondCodes; i++ {
		place := stateKey + ":second:" + strconv.Itoa(i)
		ok, err := l.store.Claim(ctx, place, l.claimTTL())
		if err != nil {
			return StoreError("callback", err)
		}
		if ok {
			if err := l.store.Finish(ctx, place, mark, l.keep); err != nil {
				return StoreError("callback", err)
			}
			return nil
		}
		b, err := l.placeOf(ctx, place)
		switch {
		case errors.Is(err, l.notFound):
			i-- // its taker died before naming its code: try it again
		case err != nil:
			return err
		case bytes.Equal(b, mark):
			return nil
		}
	}
	return fmt.Errorf("callback: more than %d codes for one login: %w", 1+maxSecondCodes, ErrInvalidState)
}

// placeOf returns the code hash that the place of a second code keeps,
// waiting while its taker has claimed it and not yet named its code, for
// as long as a claim holds at most; a place still unnamed then (taken by
// a version that named no code) keeps no code, and placeOf returns nil.
func (l *ledger[U]) placeOf(ctx context.Context, place string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, l.claimTTL())
	defer cancel()
	wait := time.Millisecond
	for {
		b, err := l.store.Record(ctx, place)
		if err != nil {
			if errors.Is(err, l.notFound) {
				return nil, err
			}
			return nil, StoreError("callback", err)
		}
		if len(b) > 0 {
			return b, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// close marks the record under key closed, so that no delivery of its
// callback joins it again. A record already gone needs nothing.
func (l *ledger[U]) close(ctx context.Context, key string) error {
	b, err := l.store.Record(ctx, key)
	if errors.Is(err, l.notFound) || (err == nil && len(b) == 0) {
		return nil
	}
	if err != nil {
		return StoreError("callback", err)
	}
	rec, err := decodeRecord(b, l.face)
	if err != nil {
		return nil // unreadable: no delivery can join it either
	}
	rec.Closed = true
	if err := l.store.Finish(ctx, key, rec.encode(l.face), l.keep); err != nil {
		return StoreError("callback", err)
	}
	return nil
}

// used reports whether the login of state has been claimed or completed,
// so that a delivery without a code is a replay, not a refusal.
func (l *ledger[U]) used(ctx context.Context, state string) bool {
	_, err := l.store.Record(ctx, callbackKey(state))
	return !errors.Is(err, l.notFound)
}

// spend closes the login of state to every browser, before anyone
// exchanges its code. A code brought by a browser that did not start the
// login is someone's code for someone else's state: the victim of a link
// that an attacker started, whose callback URL the attacker might later
// read from a log and replay with the login's cookie. The record lives as
// long as the state could (StateTTL) and costs one store entry; only
// states with this site's MAC reach it.
func (l *ledger[U]) spend(ctx context.Context, state string, now time.Time) {
	key := callbackKey(state)
	claimed, err := l.store.Claim(ctx, key, l.keep)
	if err != nil || !claimed {
		return // already claimed or completed: mayJoin guards it
	}
	rec := loginRecord[U]{Refused: true, Closed: true, Done: now.UnixMilli()}
	if err := l.store.Finish(ctx, key, rec.encode(l.face), l.keep); err != nil {
		l.log.WarnContext(ctx, "wechatauth: spending a state brought by another browser", "err", err)
	}
}

// A code that a callback refused stays valid at WeChat for minutes, and it
// is in every access log and analytics beacon that saw the callback's URL.
// Whoever reads it could bring it with a login of their own and be logged
// in as the code's user (authorization-code injection; WeChat has no PKCE).
// So a refused code is remembered, by a hash, for as long as WeChat honours
// it, on every instance that shares the CallbackStore, and no exchange
// takes it. Refusing it costs no call to WeChat.

// codeLife is the longest a code of any app is honoured: ten minutes (a
// QR login's; an authorize page's lives five).
const codeLife = 10 * time.Minute

// errRefusedCode marks a code that a callback refused before.
var errRefusedCode = fmt.Errorf("%w: the code was refused by an earlier callback", ErrInvalidState)

// refusedKey is the CallbackStore key that marks code as refused.
func refusedKey(code string) string { return "refused:" + codeHash(code) }

// refuse remembers code as refused for codeLife: one small store entry
// per distinct code, gone when the code would be. Codes of the wrong shape
// are not remembered: WeChat never issued them.
func (l *ledger[U]) refuse(ctx context.Context, code string) {
	if !isToken(code) {
		return
	}
	if _, err := l.store.Claim(ctx, refusedKey(code), codeLife); err != nil {
		l.log.WarnContext(ctx, "wechatauth: remembering a refused code", "err", err)
	}
}

// codeHash names a code in a record without keeping the code.
func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:16])
}

// callbackKey is the CallbackStore key of a state: a hash, so the store
// never holds a live state.
func callbackKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:16])
}

// refused returns errRefusedCode when a callback refused code before.
func (l *ledger[U]) refused(ctx context.Context, code string) error {
	_, err := l.store.Record(ctx, refusedKey(code))
	switch {
	case err == nil:
		return errRefusedCode
	case !errors.Is(err, l.notFound):
		return StoreError("callback", err)
	}
	return nil
}

// redeem trades code for whom it names through ap, unless a callback
// refused the code before (see refuse).
func (l *ledger[U]) redeem(ctx context.Context, ap App[U], code string) (Grant[U], error) {
	if err := l.refused(ctx, code); err != nil {
		return Grant[U]{}, err
	}
	return ap.Redeem(ctx, code)
}
