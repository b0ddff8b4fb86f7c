package engine

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
)

// exchangeOnce completes the login of state with code, once across every
// delivery of the callback, r being the first delivery: the login is
// counted (EventLogin) and handed to Config.OnLogin once, by it. When
// OnLogin refuses the login, r's delivery gets its error; the others find
// the record Denied.
func (e *Engine[U]) exchangeOnce(ctx context.Context, r *http.Request, ap App[U], state, code string, p pendingLogin) (*loginRecord[U], error) {
	var denied error
	rec, err := e.ledger.once(ctx, callbackKey(state), func(ctx context.Context) (*loginRecord[U], error) {
		rec, err := e.completeLogin(ctx, ap, code, p)
		if err != nil {
			return nil, err
		}
		rec.Browser, rec.Done = p.browser(), e.now().UnixMilli()
		if !rec.Consent && (!rec.Snapshot || e.cfg.Guests) {
			denied = e.loggedIn(r.WithContext(ctx), rec.User, EventLogin)
			rec.Denied = denied != nil
		}
		return rec, nil
	})
	if denied != nil {
		return nil, denied
	}
	return rec, err
}

// completeLogin redeems code through ap and has the face find or make
// the user whom it names; a guest is kept nowhere.
func (e *Engine[U]) completeLogin(ctx context.Context, ap App[U], code string, p pendingLogin) (*loginRecord[U], error) {
	g, err := e.ledger.redeem(ctx, ap, code)
	if err != nil {
		return nil, err
	}
	rec := &loginRecord[U]{Return: p.Return, Code: codeHash(code), App: p.App}
	if e.face.Guest(g.User) {
		rec.Snapshot, rec.User = true, g.User
		return rec, nil
	}
	if rec.User, rec.Consent, err = e.face.Resolve(ctx, ap, g); err != nil {
		return nil, err
	}
	rec.Profile = g.Profile
	return rec, nil
}

// loggedIn counts a completed login as kind and hands it to
// Config.OnLogin; the error says the application refused it.
func (e *Engine[U]) loggedIn(r *http.Request, u U, kind EventKind) error {
	if e.cfg.OnLogin != nil && !e.face.Guest(u) {
		if err := e.cfg.OnLogin(e.hookRequest(r), u); err != nil {
			return fmt.Errorf("%w: %w", errLoginDenied, err)
		}
	}
	e.event(r, Event{Kind: kind, ID: e.face.Key(u)})
	return nil
}

// vouch checks that a delivery bringing code may take the login of rec,
// kept under stateKey: it brings the code that was exchanged, or another
// code, which it exchanges itself, that WeChat gives for the same user
// (WeChat may redirect twice with two codes and one state). A request
// without a code of the user's gets nothing.
func (e *Engine[U]) vouch(ctx context.Context, ap App[U], rec *loginRecord[U], stateKey, code string) error {
	if subtle.ConstantTimeCompare([]byte(codeHash(code)), []byte(rec.Code)) == 1 {
		return nil
	}
	if !isToken(code) {
		return fmt.Errorf("callback: missing or malformed code: %w", ErrInvalidState)
	}
	// Each second code is exchanged once too, however often it comes, and
	// a login has few of them.
	key := "code:" + codeHash(code)
	if _, err := e.ledger.store.Record(ctx, key); errors.Is(err, e.cfg.NotFound) {
		if err := e.ledger.secondCode(ctx, stateKey, code); err != nil {
			e.ledger.refuse(ctx, code)
			return err
		}
	}
	other, err := e.ledger.once(ctx, key, func(ctx context.Context) (*loginRecord[U], error) {
		g, err := e.ledger.redeem(ctx, ap, code)
		if _, refused := e.face.Errcode(err); refused {
			return &loginRecord[U]{Code: codeHash(code), Refused: true}, nil
		}
		if err != nil {
			return nil, err
		}
		return &loginRecord[U]{User: g.User, Code: codeHash(code), App: rec.App, Snapshot: e.face.Guest(g.User)}, nil
	})
	if err != nil {
		return err
	}
	if other.Refused {
		return fmt.Errorf("callback: WeChat refused a second code for a completed login: %w", ErrInvalidState)
	}
	alias := e.face.Alias(other.User)
	same := e.face.Key(other.User) == e.face.Key(rec.User) || (alias != "" && alias == e.face.Alias(rec.User))
	if other.Snapshot != rec.Snapshot || (!rec.Snapshot && !same) {
		return fmt.Errorf("callback: a second code for another user: %w", ErrInvalidState)
	}
	return nil
}

// LeaveDeadClaim claims the callback of state the way an instance does
// before it exchanges the code, and never finishes: an instance that died
// in between, for tests of those that live on.
func (e *Engine[U]) LeaveDeadClaim(state string) error {
	_, err := e.ledger.store.Claim(context.Background(), callbackKey(state), e.ledger.claimTTL())
	return err
}
