package engine

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
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
	App      string // the name of the app the login goes through (App.Name)
	Attempts int    // round trips of this login that came back to the callback without one
	Return   string // a same-origin path and query, as SafeReturn passes it
}

// browser names the browser of a login by a hash of its nonce, which a
// loginRecord keeps.
func (p pendingLogin) browser() string {
	sum := sha256.Sum256([]byte(p.Nonce))
	return hex.EncodeToString(sum[:16])
}

const (
	pendingVersion = "p2"
	// pendingIDLen is how much of the state names a pending login's cookie.
	pendingIDLen = 16
	// maxPending bounds the logins one browser keeps under way (one a tab,
	// say), and maxPendingBytes their cookies; the oldest go first.
	maxPending      = 4
	maxPendingBytes = 4096
	// maxCookieValue bounds one login's cookie so that even logins started
	// at once, each unaware of the others, stay within what servers and
	// proxies take in a Cookie header (nginx: 8 KB): a return path too long
	// for it loses its query, then becomes "/".
	maxCookieValue = 900
	// maxDrops bounds the login cookies one response deletes, whatever
	// the request carries.
	maxDrops = 8
	// cookieMAC is the length in bytes of the MAC of a login's cookie.
	cookieMAC = 16
)

// loginCookies writes and reads the cookies of logins under way. Every
// field the server relies on (state, nonce, expiry, scope, app, attempts,
// return path) is under a MAC of the site's key: a browser can keep or
// drop a login's cookie, never change it.
type loginCookies struct {
	prefix   string // starts every login cookie's name
	secure   bool
	sameSite http.SameSite
	key      []byte // the key of the cookies' MAC
	// known reports whether a login of app with scope is one the site
	// starts; a cookie that names another is no login.
	known func(app string, scope Scope) bool
}

// newLoginCookies returns the login cookies of the face named face
// (Config.Name) of a site at origin whose session cookie is sc. On an https site they are Secure and named
// "__Host-", which only this host can set over https, whatever the
// session cookie says: a sibling subdomain or a tampered plain-http answer
// cannot plant a login.
func newLoginCookies(origin, face string, sc scs.SessionCookie, key []byte, known func(app string, scope Scope) bool) loginCookies {
	prefix := "wechatauth-login-"
	if face != "" {
		prefix = "wechatauth-" + face + "-login-"
	}
	c := loginCookies{prefix: prefix, secure: sc.Secure || strings.HasPrefix(origin, "https:"), sameSite: sc.SameSite, key: key, known: known}
	if c.secure {
		c.prefix = "__Host-" + c.prefix
	}
	if c.sameSite == http.SameSiteDefaultMode {
		c.sameSite = http.SameSiteLaxMode
	}
	return c
}

// encode writes p as a cookie value: its MAC, then the fields separated by
// ':', the return path last with the bytes a cookie cannot hold escaped.
func (lc loginCookies) encode(p pendingLogin) string {
	app := p.App
	if app == "" {
		app = "-"
	}
	b := make([]byte, 0, 128+len(p.Return))
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
	return pendingVersion + ":" + lc.mac(b) + ":" + string(b)
}

func (lc loginCookies) mac(fields []byte) string {
	m := hmac.New(sha256.New, lc.key)
	m.Write(fields)
	return hex.EncodeToString(m.Sum(nil)[:cookieMAC])
}

// decode reads what encode wrote with the site's key; anything else,
// and anything changed since, is no login.
func (lc loginCookies) decode(s string) (pendingLogin, bool) {
	version, rest, _ := strings.Cut(s, ":")
	mac, fields, _ := strings.Cut(rest, ":")
	if version != pendingVersion || subtle.ConstantTimeCompare([]byte(mac), []byte(lc.mac([]byte(fields)))) != 1 {
		return pendingLogin{}, false
	}
	f := strings.SplitN(fields, ":", 7)
	if len(f) != 7 || !validState(f[0]) || !validNonce(f[1]) {
		return pendingLogin{}, false
	}
	exp, err1 := strconv.ParseInt(f[2], 10, 64)
	attempts, err2 := strconv.Atoi(f[5])
	ret, err3 := url.PathUnescape(f[6])
	if err1 != nil || err2 != nil || err3 != nil || attempts < 0 {
		return pendingLogin{}, false
	}
	p := pendingLogin{State: f[0], Nonce: f[1], Expires: exp, Scope: Scope(f[3]), App: f[4], Attempts: attempts, Return: SafeReturn(ret)}
	if p.App == "-" {
		p.App = ""
	}
	if !lc.known(p.App, p.Scope) {
		return pendingLogin{}, false
	}
	return p, true
}

// name is the name of the cookie of the login under way of state.
func (lc loginCookies) name(state string) string {
	return lc.prefix + state[:pendingIDLen]
}

// cookie returns a login's cookie named name with value, or, with
// maxAge < 0, the one that deletes it.
func (lc loginCookies) cookie(name, value string, maxAge int) *http.Cookie {
	if maxAge < 0 {
		value = ""
	}
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, Secure: lc.secure, HttpOnly: true, SameSite: lc.sameSite}
}

// set sets the cookie of p on w, lasting ttl, and deletes the oldest of
// the browser's other login cookies (unreadable ones first) while there
// are too many, at most maxDrops of them. A return path too long for a
// cookie loses its query, then becomes "/"; set returns p as it stored it.
func (lc loginCookies) set(w http.ResponseWriter, r *http.Request, p pendingLogin, ttl time.Duration) pendingLogin {
	value := lc.encode(p)
	if len(value) > maxCookieValue {
		if path, _, ok := strings.Cut(p.Return, "?"); ok {
			p.Return = path
			value = lc.encode(p)
		}
	}
	if len(value) > maxCookieValue {
		p.Return = "/"
		value = lc.encode(p)
	}
	c := lc.cookie(lc.name(p.State), value, int(ttl/time.Second))
	type held struct {
		name    string
		expires int64
		size    int
	}
	var others []held
	total := len(c.Name) + len(c.Value)
	for _, old := range r.Cookies() {
		if !strings.HasPrefix(old.Name, lc.prefix) || old.Name == c.Name {
			continue
		}
		op, _ := lc.decode(old.Value)
		others = append(others, held{old.Name, op.Expires, len(old.Name) + len(old.Value)})
		total += len(old.Name) + len(old.Value)
	}
	slices.SortFunc(others, func(x, y held) int { return cmp.Compare(x.expires, y.expires) })
	for drops := 0; len(others) > 0 && (len(others) >= maxPending || total > maxPendingBytes) && drops < maxDrops; drops++ {
		drop := others[0]
		others, total = others[1:], total-drop.size
		http.SetCookie(w, lc.cookie(drop.name, "", -1))
	}
	http.SetCookie(w, c)
	return p
}

// find returns the login under way that state names, from the cookie of
// the browser that started it.
func (lc loginCookies) find(r *http.Request, state string) (pendingLogin, bool) {
	c, err := r.Cookie(lc.name(state))
	if err != nil {
		return pendingLogin{}, false
	}
	p, ok := lc.decode(c.Value)
	if !ok || subtle.ConstantTimeCompare([]byte(p.State), []byte(state)) != 1 {
		return pendingLogin{}, false
	}
	return p, true
}

// end deletes the cookie of p, a login that is over whatever its end, and
// the browser's login cookies that are expired or unreadable, at most
// maxDrops in all.
func (lc loginCookies) end(w http.ResponseWriter, r *http.Request, p pendingLogin, now time.Time) {
	own := lc.name(p.State)
	http.SetCookie(w, lc.cookie(own, "", -1))
	drops := 1
	for _, c := range r.Cookies() {
		if drops >= maxDrops {
			return
		}
		if !strings.HasPrefix(c.Name, lc.prefix) || c.Name == own {
			continue
		}
		if op, ok := lc.decode(c.Value); !ok || now.Unix() >= op.Expires {
			http.SetCookie(w, lc.cookie(c.Name, "", -1))
			drops++
		}
	}
}

// any reports whether r carries the cookie of any login under way.
func (lc loginCookies) any(r *http.Request) bool {
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, lc.prefix) {
			return true
		}
	}
	return false
}
