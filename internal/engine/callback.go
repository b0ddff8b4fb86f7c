package engine

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ServeCallback serves the callback, where the platform sends the browser
// back with code and state; called with only ?next=/path, it starts a
// login.
//
// A state must be one this browser started (constant-time comparison,
// single use, expiry). When the platform or the browser delivers a
// callback twice, with the same code or a new one, the code is exchanged
// once and every delivery ends logged in.
func (e *Engine[U]) ServeCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The callback URL holds a code: keep it out of Referer headers.
	w.Header().Set("Referrer-Policy", "no-referrer")
	ctx := r.Context()
	if _, err := e.sessionUser(ctx, e.key); err != nil {
		e.fail(w, r, err, "/")
		return
	}
	q := r.URL.Query()
	state, code := q.Get("state"), q.Get("code")
	if state == "" && code == "" && q.Has("next") {
		next := SafeReturn(q.Get("next"))
		page := requestFor(r, next)
		cur, _ := e.userOf(page)
		if u, ok := e.face.Decode(cur); ok && !e.face.Guest(u) {
			redirect(w, next)
			return
		}
		e.startLogin(w, r, next, e.cfg.Scope, 0)
		return
	}
	if !e.states.issued(state) {
		err := fmt.Errorf("callback: not a state of this site's: %w", ErrInvalidState)
		if validState(state) {
			// Perhaps one of this site's before the AppSecret changed.
			e.refuse(w, r, code, err, "/")
			return
		}
		e.fail(w, r, err, "/")
		return
	}
	e.watch.arrived(r)

	p, found := e.logins.find(r, state)
	if !found {
		e.replayCallback(w, r, state, code)
		return
	}
	// From here on the login is over, whatever its end, unless it goes on
	// to another round trip, which gets a cookie of its own.
	e.logins.end(w, r, p, e.now())
	retry := e.LoginURL(p.Return)
	switch {
	case e.expired(p):
		e.refuse(w, r, code, fmt.Errorf("callback: %w", errStateExpired), retry)
		return
	case code == "" && e.ledger.used(ctx, state):
		e.fail(w, r, fmt.Errorf("callback: no code for a login already completed: %w", ErrInvalidState), retry)
		return
	case code == "":
		e.event(r, Event{Kind: EventRefused})
		e.refused(w, r, retry)
		return
	case !isToken(code):
		e.fail(w, r, fmt.Errorf("callback: malformed code: %w", ErrInvalidState), retry)
		return
	}

	ap := e.face.App(p.App) // the login cookie's MAC vouches for a known app
	if c, ok := ap.(CallbackChecker); ok {
		if err := c.CheckCallback(q); err != nil {
			e.refuse(w, r, code, fmt.Errorf("callback: %w: %w", err, ErrInvalidState), retry)
			return
		}
	}
	rec, err := e.exchangeOnce(ctx, r, ap, state, code, p)
	if ap.Spent(err) {
		// The code was used up or timed out with no login behind it: one
		// fresh round trip, counted against MaxAttempts.
		e.startLogin(w, r, p.Return, p.Scope, p.Attempts+1)
		return
	}
	if err == nil {
		err = e.mayJoin(rec, p)
	}
	if err == nil {
		// The record may come from a concurrent delivery with another code.
		err = e.vouch(ctx, ap, rec, callbackKey(state), code)
	}
	if err != nil {
		if errors.Is(err, ErrInvalidState) {
			e.refuse(w, r, code, err, retry)
			return
		}
		e.fail(w, r, ap.Misconfigured(err), retry)
		return
	}
	e.complete(w, r, rec, p.Attempts)
}

// expired reports whether the login p is past its expiry, or claims one
// further off than StateTTL allows.
func (e *Engine[U]) expired(p pendingLogin) bool {
	now := e.now().Unix()
	return now >= p.Expires || p.Expires-now > int64(e.cfg.StateTTL/time.Second)
}

// refuse ends a callback that brought code with err, and remembers the
// code as refused so that no other login takes it (see ledger.refuse).
func (e *Engine[U]) refuse(w http.ResponseWriter, r *http.Request, code string, err error, retry string) {
	e.ledger.refuse(r.Context(), code)
	e.fail(w, r, err, retry)
}

// mayJoin checks that the browser of p may take the login of rec: it is
// the browser that started the login, and the login completed a moment
// ago, as long as a retry of WeChat's can come, and was not logged out
// since. A copy of the login's cookie, or its callback URL read from a log,
// is worth nothing after that.
func (e *Engine[U]) mayJoin(rec *loginRecord[U], p pendingLogin) error {
	switch {
	case subtle.ConstantTimeCompare([]byte(rec.Browser), []byte(p.browser())) != 1:
		return fmt.Errorf("callback: the login of another browser: %w", ErrInvalidState)
	case rec.Closed:
		return fmt.Errorf("callback: the login was logged out: %w", ErrInvalidState)
	case e.now().Sub(time.UnixMilli(rec.Done)) > e.recoveryWindow():
		return fmt.Errorf("callback: the login completed %v ago: %w", e.now().Sub(time.UnixMilli(rec.Done)).Round(time.Second), ErrInvalidState)
	}
	return nil
}

// recoveryWindow is how long after a login completed another delivery of
// its callback from the same browser may still join it: the time WeChat
// takes to retry a slow callback (about five seconds) after the longest
// first answer (Config.Timeout).
func (e *Engine[U]) recoveryWindow() time.Duration { return e.cfg.Timeout + 5*time.Second }

// complete ends a callback whose login is done: logged in, or, for
// progressive consent that found no fresh profile, on to snsapi_userinfo.
func (e *Engine[U]) complete(w http.ResponseWriter, r *http.Request, rec *loginRecord[U], attempts int) {
	if rec.Consent {
		e.startLogin(w, r, rec.Return, e.cfg.ProfileScope, attempts)
		return
	}
	e.finishLogin(w, r, rec)
}

// replayCallback answers a callback that brings no cookie of a login under
// way: the browser already has the answer of a delivery (a reload, Back),
// or never started the login. A session already logged in as the login's
// user goes on to the page; anything else is refused, and a state of this
// site's that brings a code is spent (see spend).
func (e *Engine[U]) replayCallback(w http.ResponseWriter, r *http.Request, state, code string) {
	// Whose session to look at: the face's one user, or, for a Tenanted
	// face, the user of the login's account, which only its record tells.
	cur, _ := e.sessionUser(r.Context(), e.key)
	if _, ok := e.face.Decode(cur); ok || e.tenant != nil {
		ctx, cancel := context.WithTimeout(r.Context(), e.cfg.Timeout)
		defer cancel()
		rec, err := e.ledger.await(ctx, callbackKey(state))
		if err != nil && !errors.Is(err, e.cfg.NotFound) {
			e.fail(w, r, err, "/")
			return
		}
		if rec != nil && e.tenant != nil {
			cur, _ = e.sessionUser(r.Context(), e.keyOfUser(rec.User))
		}
		u, ok := e.face.Decode(cur)
		if ok && rec != nil && !rec.Closed && ((e.face.Key(u) != "" && e.face.Key(u) == e.face.Key(rec.User)) || (e.face.Guest(u) && rec.Snapshot)) {
			e.complete(w, r, rec, 0)
			return
		}
	}
	if isToken(code) {
		e.ledger.spend(r.Context(), state, e.now())
	}
	if !e.logins.any(r) {
		e.refuse(w, r, code, e.noCookieError(), "/")
		return
	}
	e.refuse(w, r, code, fmt.Errorf("callback: state unknown to this browser: %w", ErrInvalidState), "/")
}

// finishLogin logs the session in as rec's user, when it is not already,
// and sends the browser where the login started.
func (e *Engine[U]) finishLogin(w http.ResponseWriter, r *http.Request, rec *loginRecord[U]) {
	ctx := r.Context()
	key := e.keyOfUser(rec.User)
	cur, _ := e.sessionUser(ctx, key) // ServeCallback found the session
	if rec.Snapshot && !e.cfg.Guests {
		e.fail(w, r, fmt.Errorf("callback: %w", errSnapshotUser), e.LoginURL(rec.Return))
		return
	}
	if rec.Denied {
		e.fail(w, r, fmt.Errorf("callback: %w", errLoginDenied), e.LoginURL(rec.Return))
		return
	}
	if enc := e.sessionValue(rec.User, rec.Profile, rec.key); enc != cur {
		if u, ok := e.face.Decode(cur); !ok || e.face.Key(u) != e.face.Key(rec.User) || e.face.Guest(u) != rec.Snapshot {
			// A new token for the new privilege level: a token planted
			// before the login is worthless after it.
			if err := e.cfg.Sessions.RenewToken(ctx); err != nil {
				e.fail(w, r, fmt.Errorf("wechatauth: renewing the session token: %w", err), e.LoginURL(rec.Return))
				return
			}
		}
		// The same user may come back with more: the profile of a consent.
		e.cfg.Sessions.Put(ctx, key, enc)
	}
	redirect(w, SafeReturn(rec.Return))
}
