package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// keyUser is the one session key of the flow, written when a login
// completes: the user and the login, see sessionValue. Logins under way
// live in cookies of their own (pending.go). The value is a string, so any
// scs codec stores it.
const keyUser = "wechatauth.user"

// sessionKey is the session key of the face named name (Config.Name).
func sessionKey(name string) string {
	if name == "" {
		return keyUser
	}
	return "wechatauth." + name + ".user"
}

// sessionUser returns the session's value under key, or "" when nobody is
// logged in there. It reports errNoSession instead of letting scs panic
// when the handler is not inside Sessions.LoadAndSave.
func (e *Engine[U]) sessionUser(ctx context.Context, key string) (s string, err error) {
	defer func() {
		if recover() != nil {
			err = errNoSession
		}
	}()
	return e.cfg.Sessions.GetString(ctx, key), nil
}

// keyOf returns the session key of the user of the account that serves r:
// the face's key, or for a Tenanted face the key of that account.
func (e *Engine[U]) keyOf(r *http.Request) string {
	if e.tenant == nil {
		return e.key
	}
	return e.accountKey(e.tenant.Account(r))
}

// keyOfUser returns the session key that u is kept under.
func (e *Engine[U]) keyOfUser(u U) string {
	if e.tenant == nil {
		return e.key
	}
	return e.accountKey(e.tenant.AccountOf(u))
}

// accountKey is the session key of a Tenanted face's users of account.
// The keys of the first maxAccountKeys accounts are kept, so that the
// logged-in path makes none.
func (e *Engine[U]) accountKey(account string) string {
	if k, ok := e.accountKeys.Load(account); ok {
		return k.(string)
	}
	k := e.key + ":" + account
	if e.accountKeyCount.Add(1) <= maxAccountKeys {
		e.accountKeys.Store(account, k)
	}
	return k
}

// maxAccountKeys bounds the session keys kept: an Authorizer that names
// accounts from what a request holds cannot grow the memory.
const maxAccountKeys = 10000

// sessionValue is what a session holds for u, logged in by the login kept
// under loginKey: the user as the face encodes it, then the login's
// CallbackStore key (which Logout closes), so that the logged-in path
// reads one key once.
func (e *Engine[U]) sessionValue(u U, profile bool, loginKey string) string {
	return e.face.Encode(u, profile) + "\x1f" + loginKey
}

// contextKey marks requests that Require let through, with the *Engine,
// and, in debug mode, requests that the flow hands to the application's
// hooks, with an outsideMark. Each identity type has a key of its own.
type contextKey[U any] struct{}

// outsideMark is what a request that the flow hands to a hook of the
// face's options (OnEvent, ErrorHandler, Unauthorized, Refused) carries in
// debug mode, so that UserFrom can say that it is called where it finds no
// user.
type outsideMark[U any] struct{ e *Engine[U] }

// UserFrom returns the logged-in user of a request that Require let
// through: one context lookup and one session read. Elsewhere ok is
// false; in debug mode the first call on a request that the flow handed
// to a hook is logged as a warning.
func UserFrom[U any](r *http.Request) (u U, ok bool) {
	switch v := r.Context().Value(contextKey[U]{}).(type) {
	case *Engine[U]:
		return v.sessionUserOf(r)
	case outsideMark[U]:
		v.e.watch.userFromOutside()
	}
	return u, false
}

// CurrentUser returns the logged-in user of any request inside
// Config.Sessions.LoadAndSave. A request that brings the platform's
// redirect back to the callback on another path is logged as a warning,
// once.
func (e *Engine[U]) CurrentUser(r *http.Request) (u U, ok bool) {
	if e.misroutedCallback(r) {
		e.noteMisrouted(r)
	}
	return e.sessionUserOf(r)
}

// sessionUserOf returns the user that r's session holds for the account
// that serves r.
func (e *Engine[U]) sessionUserOf(r *http.Request) (u U, ok bool) {
	s, err := e.userOf(r)
	if err != nil || s == "" {
		return u, false
	}
	return e.face.Decode(s)
}

// userOf returns r's session value of the user of the account that
// serves r (see Tenanted), asking the face for the account once; "" when
// there is none, or the value under that account's key is not one of its
// users.
func (e *Engine[U]) userOf(r *http.Request) (string, error) {
	if e.tenant == nil {
		return e.sessionUser(r.Context(), e.key)
	}
	account := e.tenant.Account(r)
	s, err := e.sessionUser(r.Context(), e.accountKey(account))
	if err != nil || s == "" || e.tenant.Serves(account, s) {
		return s, err
	}
	return "", nil
}

// hookRequest returns r as the flow hands it to a hook of the face's
// options: in debug mode, marked for UserFrom (see outsideMark), unless
// Require let it through.
func (e *Engine[U]) hookRequest(r *http.Request) *http.Request {
	if !e.cfg.DebugBypass {
		return r
	}
	ctx := r.Context()
	if _, in := ctx.Value(contextKey[U]{}).(*Engine[U]); in {
		return r
	}
	return r.WithContext(context.WithValue(ctx, contextKey[U]{}, outsideMark[U]{e}))
}

// Logout ends the login of r's session: the user is forgotten, the
// session token is renewed, and no later delivery of the login's callback
// logs anyone in again. Other session data stays. r must be inside
// Config.Sessions.LoadAndSave.
//
// A Tenanted face's session is logged out of every account.
func (e *Engine[U]) Logout(r *http.Request) error {
	ctx := r.Context()
	if _, err := e.sessionUser(ctx, e.key); err != nil {
		return err
	}
	keys := []string{e.key}
	if e.tenant != nil {
		keys = keys[:0]
		for _, k := range e.cfg.Sessions.Keys(ctx) {
			if strings.HasPrefix(k, e.key+":") {
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		if login := e.face.LoginKey(e.cfg.Sessions.GetString(ctx, k)); login != "" {
			if err := e.ledger.close(ctx, login); err != nil {
				return err
			}
		}
	}
	if err := e.cfg.Sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("wechatauth: renewing the session token: %w", err)
	}
	for _, k := range keys {
		e.cfg.Sessions.Remove(ctx, k)
	}
	return nil
}
