package wechatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// exchangeOnce completes the login of state with code, once across every
// delivery of the callback, r being the first delivery: the login is
// counted (EventLogin) and handed to Options.OnLogin once, by it. When
// OnLogin refuses the login, r's delivery gets its error; the others find
// the record Denied.
func (a *Auth) exchangeOnce(ctx context.Context, r *http.Request, state, code string, p pendingLogin) (*loginRecord, error) {
	var denied error
	rec, err := a.once(ctx, callbackKey(state), func(ctx context.Context) (*loginRecord, error) {
		rec, err := a.completeLogin(ctx, code, p)
		if err != nil {
			return nil, err
		}
		rec.Browser, rec.Done = p.browser(), a.now().UnixMilli()
		if !rec.Consent && (!rec.Snapshot || a.opts.SnapshotGuests) {
			denied = a.loggedIn(r.WithContext(ctx), rec.User, EventLogin)
			rec.Denied = denied != nil
		}
		return rec, nil
	})
	if denied != nil {
		return nil, denied
	}
	return rec, err
}

// loggedIn counts a completed login as kind and hands it to
// Options.OnLogin; the error says the application refused it.
func (a *Auth) loggedIn(r *http.Request, u User, kind EventKind) error {
	if a.opts.OnLogin != nil && !u.Snapshot {
		if err := a.opts.OnLogin(a.hookRequest(r), u); err != nil {
			return fmt.Errorf("%w: %w", errLoginDenied, err)
		}
	}
	a.event(r, Event{Kind: kind, OpenID: u.OpenID})
	return nil
}

// claimTTL is how long a claim on a callback holds others off: the
// exchange's budget and a second to record its end. A claim of an instance
// that died in between ends with it; only finished records are kept for
// StateTTL.
func (a *Auth) claimTTL() time.Duration { return a.opts.Timeout + time.Second }

// once runs work for key once across every request and instance: concurrent
// requests in this process share one flight, and the CallbackStore's claim
// and record cover other instances and later requests. The work is detached
// from the request, so a browser that gives up on the first delivery does
// not cancel the work its retry waits for.
func (a *Auth) once(ctx context.Context, key string, work func(context.Context) (*loginRecord, error)) (*loginRecord, error) {
	v, err, _ := a.flight.Do(key, func() (any, error) {
		// Room to wait out the claim of a holder that died, then work.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.claimTTL()+a.opts.Timeout)
		defer cancel()
		for {
			claimed, err := a.opts.Callbacks.Claim(ctx, key, a.claimTTL())
			if err != nil {
				return nil, storeError("callback", err)
			}
			if !claimed {
				rec, err := a.awaitRecord(ctx, key)
				if errors.Is(err, ErrNotFound) {
					continue // the holder failed and let go: try ourselves
				}
				return rec, err
			}
			wctx, wcancel := context.WithTimeout(ctx, a.opts.Timeout)
			rec, err := work(wctx)
			wcancel()
			var b []byte
			if err == nil {
				b = rec.encode()
			}
			// Finish even when the work ran out of time: a claim left
			// behind would hold every later request until it expires.
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			ferr := a.opts.Callbacks.Finish(fctx, key, b, a.opts.StateTTL)
			fcancel()
			if ferr != nil && err == nil {
				err = storeError("callback", ferr)
			}
			return rec, err
		}
	})
	if err != nil {
		return nil, err
	}
	rec := *v.(*loginRecord) // shared with the flight's other callers
	rec.key = key
	return &rec, nil
}

// awaitRecord returns the record stored under key, waiting while another
// request or instance holds the claim. A key neither claimed nor finished
// gives an error wrapping ErrNotFound.
func (a *Auth) awaitRecord(ctx context.Context, key string) (*loginRecord, error) {
	wait := 5 * time.Millisecond
	for {
		b, err := a.opts.Callbacks.Record(ctx, key)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, err
			}
			return nil, storeError("callback", err)
		}
		if len(b) > 0 {
			return decodeRecord(b)
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

// vouch checks that a delivery bringing code may take the login of rec,
// kept under stateKey: it brings the code that was exchanged, or another
// code, which it exchanges itself, that WeChat gives for the same user
// (WeChat may redirect twice with two codes and one state). A request
// without a code of the user's gets nothing.
func (a *Auth) vouch(ctx context.Context, rec *loginRecord, stateKey, code string) error {
	if subtle.ConstantTimeCompare([]byte(codeHash(code)), []byte(rec.Code)) == 1 {
		return nil
	}
	if !isToken(code) {
		return fmt.Errorf("callback: missing or malformed code: %w", ErrInvalidState)
	}
	// Each second code is exchanged once too, however often it comes, and
	// a login has few of them.
	key := "code:" + codeHash(code)
	if _, err := a.opts.Callbacks.Record(ctx, key); errors.Is(err, ErrNotFound) {
		if err := a.secondCodeSlot(ctx, stateKey); err != nil {
			a.refuseCode(ctx, code)
			return err
		}
	}
	other, err := a.once(ctx, key, func(ctx context.Context) (*loginRecord, error) {
		tok, err := a.redeem(ctx, rec.App, code)
		var apiErr *mp.Error
		if errors.As(err, &apiErr) {
			return &loginRecord{Code: codeHash(code), Refused: true}, nil
		}
		if err != nil {
			return nil, err
		}
		u := User{OpenID: tok.OpenID, UnionID: tok.UnionID}
		if tok.Snapshot {
			u = User{Snapshot: true} // a virtual identity is not kept
		}
		return &loginRecord{User: u, Code: codeHash(code), App: rec.App, Snapshot: tok.Snapshot}, nil
	})
	if err != nil {
		return err
	}
	if other.Refused {
		return fmt.Errorf("callback: WeChat refused a second code for a completed login: %w", ErrInvalidState)
	}
	same := other.User.OpenID == rec.User.OpenID || (other.User.UnionID != "" && other.User.UnionID == rec.User.UnionID)
	if other.Snapshot != rec.Snapshot || (!rec.Snapshot && !same) {
		return fmt.Errorf("callback: a second code for another user: %w", ErrInvalidState)
	}
	return nil
}

// secondCodeSlot takes one of the maxSecondCodes places of the login kept
// under stateKey for a code never seen, or says there is none left.
func (a *Auth) secondCodeSlot(ctx context.Context, stateKey string) error {
	for i := 1; i <= maxSecondCodes; i++ {
		ok, err := a.opts.Callbacks.Claim(ctx, stateKey+":second:"+strconv.Itoa(i), a.opts.StateTTL)
		if err != nil {
			return storeError("callback", err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("callback: more than %d codes for one login: %w", 1+maxSecondCodes, ErrInvalidState)
}

// closeLogin marks the record under key closed, so that no delivery of its
// callback joins it again. A record already gone needs nothing.
func (a *Auth) closeLogin(ctx context.Context, key string) error {
	b, err := a.opts.Callbacks.Record(ctx, key)
	if errors.Is(err, ErrNotFound) || (err == nil && len(b) == 0) {
		return nil
	}
	if err != nil {
		return storeError("callback", err)
	}
	rec, err := decodeRecord(b)
	if err != nil {
		return nil // unreadable: no delivery can join it either
	}
	rec.Closed = true
	if err := a.opts.Callbacks.Finish(ctx, key, rec.encode(), a.opts.StateTTL); err != nil {
		return storeError("callback", err)
	}
	return nil
}
