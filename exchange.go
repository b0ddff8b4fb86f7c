package wechatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/wechatauth/wechatauth/mp"
)

// exchangeOnce completes the login of state with code, once across every
// delivery of the callback.
func (a *Auth) exchangeOnce(ctx context.Context, state, code string, p pendingLogin, browser string) (*loginRecord, error) {
	return a.once(ctx, callbackKey(state), func(ctx context.Context) (*loginRecord, error) {
		return a.completeLogin(ctx, code, p, browser)
	})
}

// once runs work for key once across every request and instance: concurrent
// requests in this process share one flight, and the CallbackStore's claim
// and record cover other instances and later requests. The work is detached
// from the request, so a browser that gives up on the first delivery does
// not cancel the work its retry waits for.
func (a *Auth) once(ctx context.Context, key string, work func(context.Context) (*loginRecord, error)) (*loginRecord, error) {
	v, err, _ := a.flight.Do(key, func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.Timeout)
		defer cancel()
		for {
			claimed, err := a.opts.Callbacks.Claim(ctx, key, a.opts.StateTTL)
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
			rec, err := work(ctx)
			var b []byte
			if err == nil {
				b = rec.encode()
			}
			// Finish even when the work ran out of time: a claim left
			// behind would hold every later request for StateTTL.
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
	return v.(*loginRecord), nil
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

// vouch checks that a delivery bringing code may take the login of rec:
// it brings the code that was exchanged, or another code, which it
// exchanges itself, that WeChat gives for the same user (WeChat may
// redirect twice with two codes and one state). A request that knows the
// state and holds the cookie from before the login, but not a code of the
// user's, gets nothing.
func (a *Auth) vouch(ctx context.Context, rec *loginRecord, code string) error {
	if subtle.ConstantTimeCompare([]byte(codeHash(code)), []byte(rec.Code)) == 1 {
		return nil
	}
	if !isToken(code) {
		return fmt.Errorf("callback: missing or malformed code: %w", ErrInvalidState)
	}
	// Each second code is exchanged once too, however often it comes.
	other, err := a.once(ctx, "code:"+codeHash(code), func(ctx context.Context) (*loginRecord, error) {
		tok, err := a.clientFor(rec.App).Exchange(ctx, code)
		var apiErr *mp.Error
		if errors.As(err, &apiErr) {
			return &loginRecord{Code: codeHash(code), Refused: true}, nil
		}
		if err != nil {
			return nil, err
		}
		if !tok.Snapshot {
			if err := a.opts.Tokens.SaveToken(ctx, *tok); err != nil {
				return nil, storeError("token", err)
			}
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
