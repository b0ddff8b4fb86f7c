package wechatauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A login under way lives in a cookie of its own, one per login, and in
// nothing on the server: a login that is started and never finished (a
// crawler, a flood, an abandoned tab) costs the server no session and no
// store entry, and logins started at once in two tabs do not overwrite
// each other. The session is written only when a login completes.

// pendingLogin is one login sent to WeChat and where to go once it returns.
type pendingLogin struct {
	State string
	// Nonce proves the browser that started the login: it is in the
	// cookie (HttpOnly) and never in a URL, so a callback URL read from a
	// log gets nobody in.
	Nonce    string
	Expires  int64  // Unix time
	Scope    Scope  // the scope sent to WeChat
	App      string // appWebsite for a QR login; "" for the Official Account
	Attempts int    // round trips of this login that came back to the callback without one
	Return   string // a same-origin path and query, as safeReturn passes it
}

// browser names the browser of a login by a hash of its nonce, which a
// loginRecord keeps.
func (p pendingLogin) browser() string {
	sum := sha256.Sum256([]byte(p.Nonce))
	return hex.EncodeToString(sum[:16])
}

const (
	pendingVersion = "p1"
	// pendingIDLen is how much of the state names a pending login's cookie.
	pendingIDLen = 16
	// maxPending bounds the logins one browser keeps under way (one a tab,
	// say), and maxPendingBytes their cookies; the oldest go first.
	maxPending      = 4
	maxPendingBytes = 4096
	// maxCookieValue keeps a login's cookie within what every browser
	// keeps (4096 bytes with its name); a return path too long for it is
	// replaced by "/".
	maxCookieValue = 3800
)

// encode writes p as a cookie value: fields separated by ':', the return
// path last with the bytes a cookie cannot hold escaped.
func (p pendingLogin) encode() string {
	app := p.App
	if app == "" {
		app = "-"
	}
	b := make([]byte, 0, 128+len(p.Return))
	b = append(b, pendingVersion+":"...)
	b = append(b, p.State...)
	b = append(b, ':')
	b = append(b, p.Nonce...)
	b = append(b, ':')
	b = strconv.AppendInt(b, p.Expires, 10)
	b = append(b, ':')
	b = append(b, p.Scope...)
	b = append(b, ':')
	b = append(b, app...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(p.Attempts), 10)
	b = append(b, ':')
	for i := 0; i < len(p.Return); i++ {
		c := p.Return[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '%' || c == ',' || c == ';' || c == '\\' {
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// decodePending reads what encode wrote; anything else is no login.
func decodePending(s string) (pendingLogin, bool) {
	f := strings.SplitN(s, ":", 8)
	if len(f) != 8 || f[0] != pendingVersion || !validState(f[1]) || !validNonce(f[2]) {
		return pendingLogin{}, false
	}
	exp, err1 := strconv.ParseInt(f[3], 10, 64)
	attempts, err2 := strconv.Atoi(f[6])
	ret, err3 := url.PathUnescape(f[7])
	if err1 != nil || err2 != nil || err3 != nil || attempts < 0 {
		return pendingLogin{}, false
	}
	p := pendingLogin{State: f[1], Nonce: f[2], Expires: exp, Scope: Scope(f[4]), App: f[5], Attempts: attempts, Return: safeReturn(ret)}
	switch p.App {
	case "-":
		p.App = ""
	case appWebsite:
	default:
		return pendingLogin{}, false
	}
	switch p.Scope {
	case ScopeBase, ScopeUserInfo, scopeLogin:
	default:
		return pendingLogin{}, false
	}
	return p, true
}

// pendingPrefix starts the name of every pending login's cookie: with a
// Secure session cookie, "__Host-", which only this host can set over
// https, so a sibling subdomain cannot plant a login.
func (a *Auth) pendingPrefix() string {
	if a.sm.Cookie.Secure {
		return "__Host-wechatauth-login-"
	}
	return "wechatauth-login-"
}

// pendingName is the name of the cookie of the login under way of state.
func (a *Auth) pendingName(state string) string {
	return a.pendingPrefix() + state[:pendingIDLen]
}

// loginCookie returns a login's cookie named name with value, or, with
// maxAge < 0, the one that deletes it.
func (a *Auth) loginCookie(name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   a.sm.Cookie.Secure,
		HttpOnly: true,
		SameSite: a.sm.Cookie.SameSite,
	}
	if maxAge < 0 {
		c.Value = ""
	}
	if c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}

// newPending makes a login under way and sets its cookie on w, dropping
// the oldest of the browser's others when there are too many.
func (a *Auth) newPending(w http.ResponseWriter, r *http.Request, p pendingLogin) pendingLogin {
	p.State, p.Nonce = a.newState(), newNonce()
	p.Expires = a.now().Add(a.opts.StateTTL).Unix()
	value := p.encode()
	if len(value) > maxCookieValue {
		p.Return = "/"
		value = p.encode()
	}
	c := a.loginCookie(a.pendingName(p.State), value, int(a.opts.StateTTL/time.Second))
	type held struct {
		name    string
		expires int64
		size    int
	}
	var others []held
	total := len(c.Name) + len(c.Value)
	prefix := a.pendingPrefix()
	for _, old := range r.Cookies() {
		if !strings.HasPrefix(old.Name, prefix) {
			continue
		}
		op, _ := decodePending(old.Value)
		others = append(others, held{old.Name, op.Expires, len(old.Name) + len(old.Value)})
		total += len(old.Name) + len(old.Value)
	}
	slices.SortFunc(others, func(x, y held) int { return int(x.expires - y.expires) })
	for len(others) > 0 && (len(others) >= maxPending || total > maxPendingBytes) {
		drop := others[0]
		others, total = others[1:], total-drop.size
		http.SetCookie(w, a.loginCookie(drop.name, "", -1))
	}
	http.SetCookie(w, c)
	return p
}

// pendingFrom returns the login under way that state names, from the
// cookie of the browser that started it.
func (a *Auth) pendingFrom(r *http.Request, state string) (pendingLogin, bool) {
	c, err := r.Cookie(a.pendingName(state))
	if err != nil {
		return pendingLogin{}, false
	}
	p, ok := decodePending(c.Value)
	if !ok || subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1 {
		return pendingLogin{}, false
	}
	return p, true
}

// endPending deletes the cookie of a login that is over, whatever its end.
func (a *Auth) endPending(w http.ResponseWriter, p pendingLogin) {
	http.SetCookie(w, a.loginCookie(a.pendingName(p.State), "", -1))
}

// hasPending reports whether r carries the cookie of any login under way.
func (a *Auth) hasPending(r *http.Request) bool {
	prefix := a.pendingPrefix()
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, prefix) {
			return true
		}
	}
	return false
}

// newNonce returns 192 random bits as 48 hex digits.
func newNonce() string {
	b := make([]byte, stateBytes)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}
