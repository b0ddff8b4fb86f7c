package engine

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// returnSeeds are known open-redirect payloads and ordinary paths.
var returnSeeds = []string{
	"/", "/account/orders?id=7", "//evil.example", "/\\evil.example", "\\\\evil.example",
	"https://evil.example/", "http:evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
	"/%5Cevil.example", "/\tevil", "/\x00", "//user@evil.example", "/a#frag", "/..//evil.example",
	"/.%2F/evil.example", "/ /evil.example", "\u3000//evil.example", "/\u2215evil.example", "",
}

func FuzzSafeReturn(f *testing.F) {
	for _, s := range returnSeeds {
		f.Add(s)
	}
	site, _ := url.Parse("https://site.example/wechat/callback")
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeReturn(in)
		if out != "/" && out != in {
			t.Fatalf("SafeReturn(%q) = %q: neither the input nor /", in, out)
		}
		// Whatever comes out, a browser resolving it stays on the site.
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("SafeReturn(%q) = %q, which does not parse: %v", in, out, err)
		}
		if got := site.ResolveReference(ref); got.Host != site.Host || got.Scheme != site.Scheme {
			t.Fatalf("SafeReturn(%q) = %q leads to %s://%s", in, out, got.Scheme, got.Host)
		}
		if strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") || strings.ContainsAny(out, "\\\x00\r\n\t") {
			t.Fatalf("SafeReturn(%q) = %q", in, out)
		}
	})
}

// otherKey returns lc with another key.
func otherKey(lc loginCookies) loginCookies {
	lc.key = []byte("other key")
	return lc
}

// testCookies are the login cookies of an https site with a website app.
var testCookies = testEngine().logins

// signed returns fields as a login cookie's value with a good MAC, so
// that the parser behind the MAC is what a test reaches.
func signed(fields string) string {
	return pendingVersion + ":" + testCookies.mac([]byte(fields)) + ":" + fields
}

func FuzzPendingLogin(f *testing.F) {
	lc := testCookies
	for _, p := range []pendingLogin{
		{State: testState(), Nonce: newNonce(), Return: "/account/x?y=1|z", Expires: 1700000600, Scope: "snsapi_base"},
		{State: testState(), Nonce: newNonce(), Return: "/中文?a=\"b\";c,d%e", Expires: 1700000601, Scope: "snsapi_login", App: "web", Attempts: 2},
	} {
		_, fields, _ := strings.Cut(lc.encode(p)[len(pendingVersion)+1:], ":")
		f.Add(fields)
	}
	f.Add("")
	f.Add(strings.Repeat("a", 80) + ":" + strings.Repeat("b", 48) + ":5:snsapi_base:-:0:/x")
	f.Fuzz(func(t *testing.T, s string) {
		if p, ok := lc.decode(s); ok {
			t.Fatalf("%q: decoded %+v without the MAC", s, p)
		}
		p, ok := lc.decode(signed(s))
		if !ok {
			return
		}
		if SafeReturn(p.Return) != p.Return || !validState(p.State) || !validNonce(p.Nonce) {
			t.Fatalf("%q: decoded %+v, which encode could not have written", s, p)
		}
		enc := lc.encode(p)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c <= ' ' || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\' {
				t.Fatalf("%+v: encoded %q holds %q, which a cookie cannot", p, enc, c)
			}
		}
		if again, ok := lc.decode(enc); !ok || again != p {
			t.Fatalf("%q: decoded %+v, re-decoded %+v, %v", s, p, again, ok)
		}
	})
}

// testState is a state of the right shape, whatever its MAC.
func testState() string { return newNonce() + newNonce()[:2*stateMAC] }

func TestPendingLoginRoundTrip(t *testing.T) {
	lc := testCookies
	for _, p := range []pendingLogin{
		{State: testState(), Nonce: newNonce(), Return: "/account/orders?id=7&a=|b", Expires: 1700000600, Scope: "snsapi_userinfo"},
		{State: testState(), Nonce: newNonce(), Return: "/路径?q=\"x\";y,z%20", Expires: 1700000601, Scope: "snsapi_login", App: "web", Attempts: 3},
	} {
		if got, ok := lc.decode(lc.encode(p)); !ok || got != p {
			t.Errorf("round trip: got %+v, %v; want %+v", got, ok, p)
		}
	}
	good := lc.encode(pendingLogin{State: testState(), Nonce: newNonce(), Return: "/", Scope: "snsapi_base", Expires: 1700000000})
	_, fields, _ := strings.Cut(good[len(pendingVersion)+1:], ":")
	for _, bad := range []string{"garbage", signed("x:y:1:snsapi_base:-:0:/"), signed(strings.Replace(fields, "snsapi_base", "snsapi_login2", 1)),
		signed(strings.Replace(fields, ":-:", ":other:", 1)), signed(strings.Replace(fields, ":0:/", ":-1:/", 1)), "p1" + good[2:],
		// The same fields under another key's MAC, or changed under this one's.
		otherKey(testCookies).encode(pendingLogin{State: testState(), Nonce: newNonce(), Return: "/", Scope: "snsapi_base", Expires: 1700000000}),
		strings.Replace(good, ":1700000000:", ":1700000001:", 1), strings.Replace(good, "snsapi_base", "snsapi_userinfo", 1), good + "x"} {
		if got, ok := lc.decode(bad); ok {
			t.Errorf("decode(%q): got %+v, want nothing", bad, got)
		}
	}
}

func TestLoginRecordRoundTrip(t *testing.T) {
	for _, rec := range []loginRecord[testUser]{
		{User: testUser{OpenID: "o1", UnionID: "u1", Nickname: "名 字", HeadImgURL: "https://x/0", UpdatedAt: time.Unix(1700000000, 0)}, Return: "/a?b=c d", Browser: "ab12", Done: 1700000000123},
		{User: testUser{OpenID: "o3"}, Return: "/", Closed: true},
		{User: testUser{Snapshot: true}, Return: "/", Snapshot: true},
		{User: testUser{OpenID: "o2"}, Return: "/p", Browser: "cd", Consent: true, Code: "ef", App: "web"},
		{Code: "01", Refused: true},
	} {
		got, err := decodeRecord(rec.encode(testFace{}), testFace{})
		if err != nil || *got != rec {
			t.Errorf("round trip of %+v: got %+v, %v", rec, got, err)
		}
	}
	for _, bad := range []string{"", "r1 x", "r3 - - - - 0 /\nu1\x1fo\x1f\x1f\x1f\x1f", "r3 - - - - 0 /\nnot a user", "r3 - - - - x /\nu1"} {
		if _, err := decodeRecord([]byte(bad), testFace{}); err == nil {
			t.Errorf("decodeRecord(%q): nil error", bad)
		}
	}
}

// A login's cookie stays within what browsers keep, whatever the page,
// and small enough that logins started at once stay within a server's
// Cookie header: a return path too long for it loses its query, then
// becomes "/".
func TestPendingCookieFitsABrowser(t *testing.T) {
	a := testEngine()
	longQuery := "/orders/7?" + strings.Repeat("utm=x&", 300)
	for _, tc := range []struct{ ret, want string }{
		{"/short?q=1", "/short?q=1"},
		{"/" + strings.Repeat("中", 680), "/"}, // 2041 bytes, 6 KB escaped
		{longQuery, "/orders/7"},
		{"/" + strings.Repeat("a", 700) + "?q=1", "/" + strings.Repeat("a", 700) + "?q=1"},
	} {
		w := httptest.NewRecorder()
		p := a.newPending(w, httptest.NewRequest("GET", "/", nil), pendingLogin{Return: SafeReturn(tc.ret), Scope: "snsapi_base"})
		sc := w.Header().Get("Set-Cookie")
		name, value, _ := strings.Cut(strings.Split(sc, ";")[0], "=")
		if len(name)+len(value) > maxCookieValue+len(a.logins.prefix)+pendingIDLen {
			t.Errorf("return of %d bytes: cookie of %d bytes", len(tc.ret), len(name)+len(value))
		}
		if p.Return != tc.want {
			t.Errorf("return of %d bytes: got %.40q (%d bytes), want %.40q", len(tc.ret), p.Return, len(p.Return), tc.want)
		}
	}
}
