package wechatauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"
)

// Session keys. Each value is a string, so any scs codec stores it.
const (
	keyUser  = "wechatauth.user"  // the logged-in user, see encodeUser
	keyLogin = "wechatauth.login" // logins under way, a JSON loginState
)

// loginState is what a session remembers of the logins it has started and
// not finished: the states sent to WeChat and the round trips counted
// against Options.MaxAttempts.
type loginState struct {
	Pending  []pendingLogin `json:"p,omitempty"`
	Attempts int            `json:"a,omitempty"`
	Since    int64          `json:"s,omitempty"` // Unix time of the first counted attempt
}

// pendingLogin is one state sent to WeChat and where to go once it returns.
type pendingLogin struct {
	State   string `json:"s"`
	Return  string `json:"r"`           // a same-origin path and query
	Expires int64  `json:"e"`           // Unix time
	Scope   Scope  `json:"c"`           // the scope sent to WeChat
	App     string `json:"a,omitempty"` // appWebsite for a QR login; "" for the Official Account
}

// maxPending bounds the logins one session keeps under way (one per tab,
// say); the oldest is dropped first.
const maxPending = 8

// sessionUser returns the encoded user held by the session, or "" when
// nobody is logged in. It reports ErrNoSession instead of letting scs panic
// when the handler is not inside Sessions.LoadAndSave.
func (a *Auth) sessionUser(ctx context.Context) (s string, err error) {
	defer func() {
		if recover() != nil {
			err = ErrNoSession
		}
	}()
	return a.sm.GetString(ctx, keyUser), nil
}

func (a *Auth) loadLoginState(ctx context.Context) loginState {
	var ls loginState
	if s := a.sm.GetString(ctx, keyLogin); s != "" {
		// A value that does not decode is treated as no login under way.
		_ = json.Unmarshal([]byte(s), &ls)
	}
	return ls
}

func (a *Auth) saveLoginState(ctx context.Context, ls loginState) {
	if len(ls.Pending) == 0 && ls.Attempts == 0 {
		if a.sm.Exists(ctx, keyLogin) {
			a.sm.Remove(ctx, keyLogin)
		}
		return
	}
	b, _ := json.Marshal(ls) // cannot fail: strings and numbers only
	a.sm.Put(ctx, keyLogin, string(b))
}

// prune drops expired logins and forgets attempts older than window.
func (ls *loginState) prune(now time.Time, window time.Duration) {
	kept := ls.Pending[:0]
	for _, p := range ls.Pending {
		if now.Unix() < p.Expires {
			kept = append(kept, p)
		}
	}
	ls.Pending = kept
	if ls.Since != 0 && now.Sub(time.Unix(ls.Since, 0)) > window {
		ls.Attempts, ls.Since = 0, 0
	}
}

// add records a new login and counts it as an attempt.
func (ls *loginState) add(p pendingLogin, now time.Time) {
	if len(ls.Pending) >= maxPending {
		ls.Pending = append(ls.Pending[:0], ls.Pending[len(ls.Pending)-maxPending+1:]...)
	}
	ls.Pending = append(ls.Pending, p)
	if ls.Attempts == 0 {
		ls.Since = now.Unix()
	}
	ls.Attempts++
}

// take removes the login with the given state and returns it. Every stored
// state is compared in constant time.
func (ls *loginState) take(state string) (pendingLogin, bool) {
	found := -1
	for i, p := range ls.Pending {
		if subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) == 1 {
			found = i
		}
	}
	if found < 0 {
		return pendingLogin{}, false
	}
	p := ls.Pending[found]
	ls.Pending = append(ls.Pending[:found], ls.Pending[found+1:]...)
	return p, true
}
