package wechatauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/wechatauth/wechatauth/mp"
)

// CallbackHandler returns the handler for Options.CallbackURL, where WeChat
// sends the browser back with code and state. Mount it on the callback's
// path inside Options.Sessions.LoadAndSave. It also starts a login when
// called with only ?next=/path (see LoginURL).
//
// A state is checked against the session in constant time and used once.
// When WeChat or the browser delivers a callback twice, with the same code
// or a new one, the code is exchanged once and every delivery ends logged in.
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
		a.startLogin(w, r, next, a.opts.Scope.wire())
		return
	}
	if !validState(state) {
		a.fail(w, r, fmt.Errorf("callback: %w", ErrInvalidState), "/")
		return
	}

	ls := a.loadLoginState(ctx)
	p, found := ls.take(state)
	if !found {
		a.replayCallback(w, r, state, code, cur)
		return
	}
	if a.now().Unix() >= p.Expires {
		a.saveLoginState(ctx, ls)
		a.fail(w, r, fmt.Errorf("callback: %w", errStateExpired), a.LoginURL(p.Return))
		return
	}
	if code == "" {
		a.saveLoginState(ctx, ls)
		a.event(r, Event{Kind: EventRefused})
		a.refused(w, r, a.LoginURL(p.Return))
		return
	}
	if !isToken(code) {
		a.saveLoginState(ctx, ls)
		a.fail(w, r, fmt.Errorf("callback: malformed code: %w", ErrInvalidState), a.LoginURL(p.Return))
		return
	}

	rec, err := a.exchangeOnce(ctx, state, code, p, a.browserID(r))
	if err != nil {
		var apiErr *mp.Error
		if errors.As(err, &apiErr) && spentCode(apiErr.Code) {
			// The code was used up or timed out with no login behind it: one
			// fresh round trip, counted against MaxAttempts.
			a.saveLoginState(ctx, ls)
			scope := p.Scope
			if scope == "" {
				scope = a.opts.Scope.wire()
			}
			a.startLogin(w, r, p.Return, scope)
			return
		}
		a.saveLoginState(ctx, ls)
		a.fail(w, r, err, a.LoginURL(p.Return))
		return
	}
	// The record may come from a concurrent delivery with another code.
	if err := a.vouch(ctx, rec, code); err != nil {
		a.saveLoginState(ctx, ls)
		a.fail(w, r, err, a.LoginURL(p.Return))
		return
	}
	a.complete(w, r, rec, cur, ls)
}

// complete ends a callback whose login is done: logged in, or, for
// progressive consent that found no fresh profile, on to snsapi_userinfo.
func (a *Auth) complete(w http.ResponseWriter, r *http.Request, rec *loginRecord, cur string, ls loginState) {
	if rec.Consent {
		a.saveLoginState(r.Context(), ls)
		a.startLogin(w, r, rec.Return, ScopeUserInfo)
		return
	}
	a.finishLogin(w, r, rec, cur, ls)
}

// clientFor returns the API client of an app: appWebsite or the website
// app's AppID for the website app, anything else for the Official Account.
func (a *Auth) clientFor(app string) *mp.Client {
	if a.webClient != nil && (app == appWebsite || app == a.webClient.AppID) {
		return a.webClient
	}
	return a.client
}

// spentCode reports errcodes that mean the code can no longer be exchanged.
func spentCode(code int) bool {
	return code == mp.CodeInvalidCode || code == mp.CodeCodeUsed || code == mp.CodeCodeExpired
}

// replayCallback answers a callback whose state the session no longer holds
// as pending: a second delivery of a login already completed, or under way.
// A session already logged in as its user goes on to the page; the browser
// that started the login (known by its cookie from before the login) ends
// logged in if it brings a code of the same user; anything else is refused.
func (a *Auth) replayCallback(w http.ResponseWriter, r *http.Request, state, code, cur string) {
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.Timeout)
	defer cancel()
	rec, err := a.awaitRecord(ctx, callbackKey(state))
	if err != nil && !errors.Is(err, ErrNotFound) {
		a.fail(w, r, err, "/")
		return
	}
	if rec != nil {
		ls := a.loadLoginState(r.Context())
		// Already logged in as the record's user (or as its snapshot guest).
		if u, ok := decodeUser(cur); ok && ((u.OpenID != "" && u.OpenID == rec.User.OpenID) || (u.Snapshot && rec.Snapshot)) {
			a.complete(w, r, rec, cur, ls)
			return
		}
		if browser := a.browserID(r); browser != "" && subtle.ConstantTimeCompare([]byte(browser), []byte(rec.Browser)) == 1 {
			if err := a.vouch(r.Context(), rec, code); err != nil {
				a.fail(w, r, err, a.LoginURL(rec.Return))
				return
			}
			a.complete(w, r, rec, cur, ls)
			return
		}
	}
	a.fail(w, r, fmt.Errorf("callback: state unknown to this session: %w", ErrInvalidState), "/")
}

// finishLogin logs the session in as rec's user, when it is not already,
// and sends the browser where the login started.
func (a *Auth) finishLogin(w http.ResponseWriter, r *http.Request, rec *loginRecord, cur string, ls loginState) {
	ctx := r.Context()
	if rec.Snapshot && !a.opts.SnapshotGuests {
		a.saveLoginState(ctx, ls)
		a.fail(w, r, fmt.Errorf("callback: %w", errSnapshotUser), a.LoginURL(rec.Return))
		return
	}
	if u, ok := decodeUser(cur); !ok || u.OpenID != rec.User.OpenID || u.Snapshot != rec.Snapshot {
		// A new token for the new privilege level: a token planted before the
		// login is worthless after it.
		if err := a.sm.RenewToken(ctx); err != nil {
			a.fail(w, r, fmt.Errorf("wechatauth: renewing the session token: %w", err), a.LoginURL(rec.Return))
			return
		}
		a.sm.Put(ctx, keyUser, encodeUser(rec.User))
		a.event(r, Event{Kind: EventLogin, OpenID: rec.User.OpenID})
	}
	ls.Attempts, ls.Since = 0, 0
	a.saveLoginState(ctx, ls)
	redirect(w, safeReturn(rec.Return))
}
