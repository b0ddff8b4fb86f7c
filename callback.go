package wechatauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

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

// loginRecord is how a login was completed, kept in the CallbackStore for
// the deliveries of the same callback that come after the first.
type loginRecord struct {
	User     User
	Return   string // a same-origin path and query, as safeReturn passes it
	Browser  string // browserID of the request that started the login
	Code     string // codeHash of the code that was exchanged
	App      string // appWebsite for a QR login
	Snapshot bool
	// Consent means the login needs a snsapi_userinfo round trip first
	// (ScopeProgressive with an unknown user or a stale profile).
	Consent bool
	// Refused marks a second code that WeChat refused, so that replaying
	// it does not reach WeChat again.
	Refused bool
}

// A loginRecord is stored as one line of fields, "r2 browser code app
// flags return", then the user as encodeUser writes it. The return path
// holds no space.
const recordVersion = "r2"

func (rec *loginRecord) encode() []byte {
	browser, code, app, flags := orDash(rec.Browser), orDash(rec.Code), orDash(rec.App), ""
	if rec.Snapshot {
		flags += "s"
	}
	if rec.Consent {
		flags += "c"
	}
	if rec.Refused {
		flags += "x"
	}
	if flags == "" {
		flags = "-"
	}
	return []byte(recordVersion + " " + browser + " " + code + " " + app + " " + flags + " " + rec.Return + "\n" + encodeUser(rec.User))
}

func decodeRecord(b []byte) (*loginRecord, error) {
	head, user, _ := strings.Cut(string(b), "\n")
	f := strings.SplitN(head, " ", 6)
	if len(f) != 6 || f[0] != recordVersion {
		return nil, errors.New("wechatauth: callback store: unreadable record")
	}
	refused := strings.Contains(f[4], "x")
	u, ok := decodeUser(user)
	if !ok && !refused {
		return nil, errors.New("wechatauth: callback store: unreadable record")
	}
	return &loginRecord{
		User: u, Browser: undash(f[1]), Code: undash(f[2]), App: undash(f[3]), Return: f[5],
		Snapshot: strings.Contains(f[4], "s"), Consent: strings.Contains(f[4], "c"), Refused: refused,
	}, nil
}

// orDash and undash stand "-" in for an empty field of a stored line.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// codeHash names a code in a record without keeping the code.
func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:16])
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

// callbackKey is the CallbackStore key of a state: a hash, so the store
// never holds a live state.
func callbackKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:16])
}

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

// completeLogin exchanges the code, keeps the tokens, and finds or makes
// the user, fetching the profile when the scope allows and the stored one
// is missing or older than ProfileMaxAge.
func (a *Auth) completeLogin(ctx context.Context, code string, p pendingLogin, browser string) (*loginRecord, error) {
	client := a.clientFor(p.App)
	tok, err := client.Exchange(ctx, code)
	if err != nil {
		return nil, err
	}
	rec := &loginRecord{Return: p.Return, Browser: browser, Code: codeHash(code), App: p.App}
	if tok.Snapshot {
		// A snapshot-page user's openid is virtual: keep nothing of it.
		rec.Snapshot = true
		rec.User = User{Snapshot: true}
		return rec, nil
	}
	if err := a.opts.Tokens.SaveToken(ctx, *tok); err != nil {
		return nil, storeError("token", err)
	}
	u, err := a.findUser(ctx, tok, p.App)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return nil, storeError("user", err)
	}
	changed := isNew
	if isNew {
		u = User{OpenID: tok.OpenID}
	}
	profileAllowed := tok.HasScope(string(ScopeUserInfo)) || tok.HasScope(string(scopeLogin))
	if tok.UnionID != "" && u.UnionID != tok.UnionID {
		u.UnionID, changed = tok.UnionID, true
	}
	now := a.now()
	stale := u.UpdatedAt.IsZero() || now.Sub(u.UpdatedAt) > a.opts.ProfileMaxAge
	if stale && a.opts.Scope == ScopeProgressive && !profileAllowed {
		if changed {
			if err := a.opts.Users.SaveUser(ctx, u); err != nil {
				return nil, storeError("user", err)
			}
		}
		rec.Consent, rec.User = true, u
		return rec, nil
	}
	if stale && profileAllowed {
		p, err := client.UserInfo(ctx, tok.AccessToken, tok.OpenID)
		if err != nil {
			// The code is spent: log in with what is known rather than fail.
			a.opts.Logger.Warn("wechatauth: fetching the profile failed; logging in without it", "openid", tok.OpenID, "err", err)
		} else {
			u.Nickname, u.HeadImgURL, u.UpdatedAt, changed = p.Nickname, p.HeadImgURL, now, true
			if p.UnionID != "" {
				u.UnionID = p.UnionID
			}
		}
	}
	if changed {
		if err := a.opts.Users.SaveUser(ctx, u); err != nil {
			return nil, storeError("user", err)
		}
	}
	rec.User = u
	return rec, nil
}

// findUser returns the stored user behind a token. A QR login's openid is
// the website app's: when the token's unionid belongs to a known user, that
// user is the one logging in.
func (a *Auth) findUser(ctx context.Context, tok *mp.Token, app string) (User, error) {
	if app == appWebsite && tok.UnionID != "" {
		u, err := a.opts.Users.UserByUnionID(ctx, tok.UnionID)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return u, err
		}
	}
	return a.opts.Users.User(ctx, tok.OpenID)
}
