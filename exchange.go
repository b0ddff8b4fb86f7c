package wechatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
)

// exchangeOnce completes the login of state with code, once across every
// delivery of the callback, r being the first delivery: the login is
// counted (EventLogin) and handed to Options.OnLogin once, by it. When
// OnLogin refuses the login, r's delivery gets its error; the others find
// the record Denied.
func (a *Auth) exchangeOnce(ctx context.Context, r *http.Request, ap app, state, code string, p pendingLogin) (*loginRecord, error) {
	var denied error
	rec, err := a.ledger.once(ctx, callbackKey(state), func(ctx context.Context) (*loginRecord, error) {
		rec, err := a.completeLogin(ctx, ap, code, p)
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

// vouch checks that a delivery bringing code may take the login of rec,
// kept under stateKey: it brings the code that was exchanged, or another
// code, which it exchanges itself, that WeChat gives for the same user
// (WeChat may redirect twice with two codes and one state). A request
// without a code of the user's gets nothing.
func (a *Auth) vouch(ctx context.Context, ap app, rec *loginRecord, stateKey, code string) error {
	if subtle.ConstantTimeCompare([]byte(codeHash(code)), []byte(rec.Code)) == 1 {
		return nil
	}
	if !isToken(code) {
		return fmt.Errorf("callback: missing or malformed code: %w", ErrInvalidState)
	}
	// Each second code is exchanged once too, however often it comes, and
	// a login has few of them.
	key := "code:" + codeHash(code)
	if _, err := a.ledger.store.Record(ctx, key); errors.Is(err, ErrNotFound) {
		if err := a.ledger.secondCode(ctx, stateKey); err != nil {
			a.ledger.refuse(ctx, code)
			return err
		}
	}
	other, err := a.ledger.once(ctx, key, func(ctx context.Context) (*loginRecord, error) {
		g, err := a.ledger.redeem(ctx, ap, code)
		if refusedUpstream(err) {
			return &loginRecord{Code: codeHash(code), Refused: true}, nil
		}
		if err != nil {
			return nil, err
		}
		u := User{OpenID: g.OpenID, UnionID: g.UnionID, Snapshot: g.Snapshot}
		return &loginRecord{User: u, Code: codeHash(code), App: rec.App, Snapshot: g.Snapshot}, nil
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
