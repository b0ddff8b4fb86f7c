package wechatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// CallbackHandler returns the handler for Options.CallbackURL, where WeChat
// sends the browser back with code and state. Mount it on the callback's
// path inside Options.Sessions.LoadAndSave. It also starts a login when
// called with only ?next=/path (see LoginURL).
//
// A state must be one this browser started (constant-time comparison,
// single use, expiry). When WeChat or the browser delivers a callback
// twice, with the same code or a new one, the code is exchanged once and
// every delivery ends logged in.
func (a *Auth) CallbackHandler() http.Handler {
	return http.HandlerFunc(a.serveCallback)
}

func (a *Auth) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The callback URL holds a code: keep it out of Referer headers.
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := r.Context()
	cur, err := a.sessionUser(ctx)
	if err != nil {
		a.fail(w, r, err, "/")
		return
	}
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if state == "" && code == "" && q.Has("next") {
		next := safeReturn(q.Get("next"))
		if u, ok := decodeUser(cur); ok && !u.Snapshot {
			redirect(w, next)
			return
		}
		a.startLogin(w, r, next, a.opts.Scope.wire(), 0)
		return
	}
	if !a.states.issued(state) {
		err := fmt.Errorf("callback: not a state of this site's: %w", ErrInvalidState)
		if validState(state) {
			// Perhaps one of this site's before the AppSecret changed.
			a.refuse(w, r, code, err, "/")
			return
		}
		a.fail(w, r, err, "/")
		return
	}
	a.watch.arrived(a, r)

	p, found := a.logins.find(r, state)
	if !found {
		a.replayCallback(w, r, state, code, cur)
		return
	}
	// From here on the login is over, whatever its end, unless it goes on
	// to another round trip, which gets a cookie of its own.
	a.logins.end(w, r, p, a.now())
	retry := a.LoginURL(p.Return)
	switch {
	case a.expired(p):
		a.refuse(w, r, code, fmt.Errorf("callback: %w", errStateExpired), retry)
		return
	case code == "" && a.ledger.used(ctx, state):
		a.fail(w, r, fmt.Errorf("callback: no code for a login already completed: %w", ErrInvalidState), retry)
		return
	case code == "":
		a.event(r, Event{Kind: EventRefused})
		a.refused(w, r, retry)
		return
	case !isToken(code):
		a.fail(w, r, fmt.Errorf("callback: malformed code: %w", ErrInvalidState), retry)
		return
	}

	ap := a.appNamed(p.App) // the login cookie's MAC vouches for a known app
	rec, err := a.exchangeOnce(ctx, r, ap, state, code, p)
	if ap.spent(err) {
		// The code was used up or timed out with no login behind it: one
		// fresh round trip, counted against MaxAttempts.
		a.startLogin(w, r, p.Return, p.Scope, p.Attempts+1)
		return
	}
	if err == nil {
		err = a.mayJoin(rec, p)
	}
	if err == nil {
		// The record may come from a concurrent delivery with another code.
		err = a.vouch(ctx, ap, rec, callbackKey(state), code)
	}
	if err != nil {
		if errors.Is(err, ErrInvalidState) {
			a.refuse(w, r, code, err, retry)
			return
		}
		a.fail(w, r, ap.misconfigured(err), retry)
		return
	}
	a.complete(w, r, rec, cur, p.Attempts)
}

// expired reports whether the login p is past its expiry, or claims one
// further off than StateTTL allows.
func (a *Auth) expired(p pendingLogin) bool {
	now := a.now().Unix()
	return now >= p.Expires || p.Expires-now > int64(a.opts.StateTTL/time.Second)
}

// refuse ends a callback that brought code with err, and remembers the
// code as refused so that no other login takes it (see refuseCode).
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, code string, err error, retry string) {
	a.ledger.refuse(r.Context(), code)
	a.fail(w, r, err, retry)
}

// mayJoin checks that the browser of p may take the login of rec: it is
// the browser that started the login, and the login completed a moment
// ago, as long as a retry of WeChat's can come, and was not logged out
// since. A copy of the login's cookie, or its callback URL read from a log,
// is worth nothing after that.
func (a *Auth) mayJoin(rec *loginRecord, p pendingLogin) error {
	switch {
	case subtle.ConstantTimeCompare([]byte(rec.Browser), []byte(p.browser())) != 1:
		return fmt.Errorf("callback: the login of another browser: %w", ErrInvalidState)
	case rec.Closed:
		return fmt.Errorf("callback: the login was logged out: %w", ErrInvalidState)
	case a.now().Sub(time.UnixMilli(rec.Done)) > a.recoveryWindow():
		return fmt.Errorf("callback: the login completed %v ago: %w", a.now().Sub(time.UnixMilli(rec.Done)).Round(time.Second), ErrInvalidState)
	}
	return nil
}

// recoveryWindow is how long after a login completed another delivery of
// its callback from the same browser may still join it: the time WeChat
// takes to retry a slow callback (about five seconds) after the longest
// first answer (Options.Timeout).
func (a *Auth) recoveryWindow() time.Duration { return a.opts.Timeout + 5*time.Second }

// complete ends a callback whose login is done: logged in, or, for
// progressive consent that found no fresh profile, on to snsapi_userinfo.
func (a *Auth) complete(w http.ResponseWriter, r *http.Request, rec *loginRecord, cur string, attempts int) {
	if rec.Consent {
		a.startLogin(w, r, rec.Return, ScopeUserInfo, attempts)
		return
	}
	a.finishLogin(w, r, rec, cur)
}

// replayCallback answers a callback that brings no cookie of a login under
// way: the browser already has the answer of a delivery (a reload, Back),
// or never started the login. A session already logged in as the login's
// user goes on to the page; anything else is refused, and a state of this
// site's that brings a code is spent (see spend).
func (a *Auth) replayCallback(w http.ResponseWriter, r *http.Request, state, code, cur string) {
	if u, ok := decodeUser(cur); ok {
		ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
		defer cancel()
		rec, err := a.ledger.await(ctx, callbackKey(state))
		if err != nil && !errors.Is(err, ErrNotFound) {
			a.fail(w, r, err, "/")
			return
		}
		if rec != nil && !rec.Closed && ((u.OpenID != "" && u.OpenID == rec.User.OpenID) || (u.Snapshot && rec.Snapshot)) {
			a.complete(w, r, rec, cur, 0)
			return
		}
	}
	if isToken(code) {
		a.ledger.spend(r.Context(), state, a.now())
	}
	if !a.logins.any(r) {
		a.refuse(w, r, code, a.noCookieError(), "/")
		return
	}
	a.refuse(w, r, code, fmt.Errorf("callback: state unknown to this browser: %w", ErrInvalidState), "/")
}

// finishLogin logs the session in as rec's user, when it is not already,
// and sends the browser where the login started.
func (a *Auth) finishLogin(w http.ResponseWriter, r *http.Request, rec *loginRecord, cur string) {
	ctx := r.Context()
	if rec.Snapshot && !a.opts.SnapshotGuests {
		a.fail(w, r, fmt.Errorf("callback: %w", errSnapshotUser), a.LoginURL(rec.Return))
		return
	}
	if rec.Denied {
		a.fail(w, r, fmt.Errorf("callback: %w", errLoginDenied), a.LoginURL(rec.Return))
		return
	}
	if enc := sessionValue(rec.User, rec.Profile, rec.key); enc != cur {
		if u, ok := decodeUser(cur); !ok || u.OpenID != rec.User.OpenID || u.Snapshot != rec.Snapshot {
			// A new token for the new privilege level: a token planted
			// before the login is worthless after it.
			if err := a.sm.RenewToken(ctx); err != nil {
				a.fail(w, r, fmt.Errorf("wechatauth: renewing the session token: %w", err), a.LoginURL(rec.Return))
				return
			}
		}
		// The same user may come back with more: the profile of a consent.
		a.sm.Put(ctx, keyUser, enc)
	}
	redirect(w, safeReturn(rec.Return))
}
