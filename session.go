package wechatauth

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"time"
)

// Session keys. Each value is a string, so any scs codec stores it.
const (
	keyUser  = "wechatauth.user"  // the logged-in user, see encodeUser
	keyLogin = "wechatauth.login" // logins under way, see loginState.encode
)

// loginState is what a session remembers of the logins it has started and
// not finished: the states sent to WeChat and the round trips counted
// against Options.MaxAttempts.
type loginState struct {
	Pending  []pendingLogin
	Attempts int
	Since    int64 // Unix time of the first counted attempt
}

// pendingLogin is one state sent to WeChat and where to go once it returns.
type pendingLogin struct {
	State   string
	Return  string // a same-origin path and query, as safeReturn passes it
	Expires int64  // Unix time
	Scope   Scope  // the scope sent to WeChat
	App     string // appWebsite for a QR login; "" for the Official Account
}

// The session holds a loginState as lines of space-separated fields, cheap
// to read and write on every login: a header line, then one line per
// pending login with the return path last. None of the fields can hold a
// space or a line break (safeReturn refuses them in return paths).
const loginStateVersion = "l1"

func (ls loginState) encode() string {
	b := make([]byte, 0, 64+len(ls.Pending)*96)
	b = append(b, loginStateVersion+" "...)
	b = strconv.AppendInt(b, int64(ls.Attempts), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ls.Since, 10)
	for _, p := range ls.Pending {
		app := p.App
		if app == "" {
			app = "-"
		}
		b = append(b, '\n')
		b = append(b, p.State...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, p.Expires, 10)
		b = append(b, ' ')
		b = append(b, p.Scope...)
		b = append(b, ' ')
		b = append(b, app...)
		b = append(b, ' ')
		b = append(b, p.Return...)
	}
	return string(b)
}

// decodeLoginState reads what encode wrote; anything else reads as no
// login under way.
func decodeLoginState(s string) loginState {
	var ls loginState
	lines := strings.Split(s, "\n")
	head := strings.Fields(lines[0])
	if len(head) != 3 || head[0] != loginStateVersion {
		return loginState{}
	}
	attempts, err1 := strconv.Atoi(head[1])
	since, err2 := strconv.ParseInt(head[2], 10, 64)
	if err1 != nil || err2 != nil {
		return loginState{}
	}
	ls.Attempts, ls.Since = attempts, since
	for _, line := range lines[1:] {
		f := strings.SplitN(line, " ", 5)
		if len(f) != 5 {
			return loginState{}
		}
		exp, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return loginState{}
		}
		p := pendingLogin{State: f[0], Expires: exp, Scope: Scope(f[2]), App: f[3], Return: f[4]}
		if p.App == "-" {
			p.App = ""
		}
		ls.Pending = append(ls.Pending, p)
	}
	return ls
}

// maxPending bounds the logins one session keeps under way (one per tab,
// say); the oldest is dropped first.
const maxPending = 8

// sessionUser returns the encoded user held by the session, or "" when
// nobody is logged in. It reports errNoSession instead of letting scs panic
// when the handler is not inside Sessions.LoadAndSave.
func (a *Auth) sessionUser(ctx context.Context) (s string, err error) {
	defer func() {
		if recover() != nil {
			err = errNoSession
		}
	}()
	return a.sm.GetString(ctx, keyUser), nil
}

func (a *Auth) loadLoginState(ctx context.Context) loginState {
	return decodeLoginState(a.sm.GetString(ctx, keyLogin))
}

func (a *Auth) saveLoginState(ctx context.Context, ls loginState) {
	if len(ls.Pending) == 0 && ls.Attempts == 0 {
		if a.sm.Exists(ctx, keyLogin) {
			a.sm.Remove(ctx, keyLogin)
		}
		return
	}
	a.sm.Put(ctx, keyLogin, ls.encode())
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
