package wechattest_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wechatauth/wechatauth/wechattest"
)

const (
	pathComponentOAuthToken   = "/sns/oauth2/component/access_token"
	pathComponentOAuthRefresh = "/sns/oauth2/component/refresh_token"
)

// compAuthQuery is an authorize link's query in component mode for the
// authorizer appID: the Official Account's order, component_appid after
// state.
func compAuthQuery(s *wechattest.Server, appID, scope, state string) string {
	return query("appid", appID, "redirect_uri", callback, "response_type", "code", "scope", scope, "state", state, "component_appid", s.ComponentAppID)
}

// compExchange redeems code for the authorizer appID.
func compExchange(t *testing.T, s *wechattest.Server, token, appID, code string) reply {
	t.Helper()
	return call(t, s, pathComponentOAuthToken, "appid", appID, "code", code, "grant_type", "authorization_code",
		"component_appid", s.ComponentAppID, "component_access_token", token)
}

// compRefresh refreshes for the authorizer appID.
func compRefresh(t *testing.T, s *wechattest.Server, token, appID, refreshToken string) reply {
	t.Helper()
	return call(t, s, pathComponentOAuthRefresh, "appid", appID, "grant_type", "refresh_token",
		"component_appid", s.ComponentAppID, "component_access_token", token, "refresh_token", refreshToken)
}

func TestComponentAuthorizeAutoApprove(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	p := authorize(t, s, noRedirect(s), compAuthQuery(s, authorizerA, "snsapi_base", "st1"))
	if p.status != http.StatusFound {
		t.Fatalf("authorize: HTTP %d %s", p.status, p.body)
	}
	q := redirectParams(t, p.location, callback)
	if q.Get("state") != "st1" || q.Get("appid") != authorizerA || q.Get("code") == "" {
		t.Fatalf("callback %q: want code, state and appid", p.location)
	}
	if !strings.HasSuffix(p.location, "&state=st1&appid="+authorizerA) {
		t.Errorf("callback %q: want code, state, appid in that order", p.location)
	}
	r := compExchange(t, s, tok, authorizerA, q.Get("code"))
	wantErrcode(t, r, 0)
	if want := s.AuthorizerOpenID(authorizerA, defaultOpenID); r.OpenID != want || r.Scope != "snsapi_base" {
		t.Errorf("exchange: openid %q scope %q, want %q snsapi_base", r.OpenID, r.Scope, want)
	}
	if r.contentType != "text/plain" {
		t.Errorf("Content-Type %q", r.contentType)
	}

	t.Run("the Official Account's scopes do not apply", func(t *testing.T) {
		s.SetScopes() // the Official Account has no web authorization
		defer s.SetScopes("snsapi_base", "snsapi_userinfo")
		if p := authorize(t, s, noRedirect(s), compAuthQuery(s, authorizerA, "snsapi_userinfo", "s")); p.status != http.StatusFound {
			t.Errorf("authorizer link: HTTP %d, want a redirect", p.status)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		s.SetMode(wechattest.Refuse)
		defer s.SetMode(wechattest.AutoApprove)
		p := authorize(t, s, noRedirect(s), compAuthQuery(s, authorizerA, "snsapi_userinfo", "st2"))
		if want := callback + "?state=st2"; p.location != want {
			t.Errorf("refusal: got %q, want %q", p.location, want)
		}
	})
	t.Run("fragment", func(t *testing.T) {
		raw := query("appid", authorizerB, "redirect_uri", callback+"#/home", "response_type", "code", "scope", "snsapi_base", "state", "s", "component_appid", s.ComponentAppID)
		p := authorize(t, s, noRedirect(s), raw)
		if !strings.HasSuffix(p.location, "&state=s&appid="+authorizerB+"#/home") {
			t.Errorf("callback %q: appid goes before the fragment", p.location)
		}
	})
}

func TestComponentAuthorizeErrors(t *testing.T) {
	s := newServer(t)
	c := noRedirect(s)
	wantPage := func(t *testing.T, raw string, code int, text string) {
		t.Helper()
		p := authorize(t, s, c, raw)
		if p.status != http.StatusBadRequest {
			t.Fatalf("got HTTP %d (Location %q), want the error page", p.status, p.location)
		}
		hasCode := strings.Contains(p.body, `id="errcode"`)
		if (code != 0) != hasCode || code != 0 && !strings.Contains(p.body, `<p class="code" id="errcode">`+strconv.Itoa(code)+`</p>`) {
			t.Errorf("page %q: want code %d", p.body, code)
		}
		if !strings.Contains(p.body, text) {
			t.Errorf("page lacks %q: %s", text, p.body)
		}
	}
	t.Run("authorizer without component_appid", func(t *testing.T) {
		wantPage(t, query("appid", authorizerA, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s"),
			10016, "component_appid")
	})
	t.Run("another component_appid", func(t *testing.T) {
		raw := query("appid", authorizerA, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "state", "s", "component_appid", "wx00000000000000c9")
		wantPage(t, raw, 0, "component_appid")
	})
	t.Run("the component appid as appid", func(t *testing.T) {
		wantPage(t, compAuthQuery(s, s.ComponentAppID, "snsapi_base", "s"), 10016, "")
	})
	t.Run("not an authorizer", func(t *testing.T) {
		wantPage(t, compAuthQuery(s, "wx00000000000000ff", "snsapi_base", "s"), 10015, "has not authorized")
		wantPage(t, compAuthQuery(s, s.AppID, "snsapi_base", "s"), 10015, "has not authorized")
	})
	t.Run("revoked", func(t *testing.T) {
		if p := authorize(t, s, c, compAuthQuery(s, authorizerB, "snsapi_base", "s")); p.status != http.StatusFound {
			t.Fatalf("before RevokeAuthorizer: HTTP %d", p.status)
		}
		s.RevokeAuthorizer(authorizerB)
		wantPage(t, compAuthQuery(s, authorizerB, "snsapi_base", "s"), 10015, "has not authorized")
	})
	t.Run("redirect domain", func(t *testing.T) {
		s.SetCallbackDomain("platform.example")
		defer s.SetCallbackDomain("")
		wantPage(t, compAuthQuery(s, authorizerA, "snsapi_base", "s"), 10003, "")
	})
	t.Run("component_appid before state", func(t *testing.T) {
		raw := query("appid", authorizerA, "redirect_uri", callback, "response_type", "code", "scope", "snsapi_base", "component_appid", s.ComponentAppID, "state", "s")
		wantPage(t, raw, 0, "order")
	})
	t.Run("the Official Account's own link is unchanged", func(t *testing.T) {
		p := authorize(t, s, c, authQuery(s, "snsapi_base", "s"))
		if q := redirectParams(t, p.location, callback); q.Has("appid") || q.Get("code") == "" {
			t.Errorf("OA callback %q", p.location)
		}
	})
}

func TestComponentConsentPage(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	s.AddUser(wechattest.User{OpenID: "oAlice", Nickname: "Alice", UnionID: "uAlice"})
	s.SetMode(wechattest.ConsentPage)
	c := noRedirect(s)
	p := authorize(t, s, c, compAuthQuery(s, authorizerB, "snsapi_userinfo", "st"))
	if p.status != http.StatusOK || !strings.Contains(p.body, `name="component_appid" value="`+s.ComponentAppID+`"`) || !strings.Contains(p.body, `<b>`+authorizerB+`</b>`) {
		t.Fatalf("consent page: HTTP %d %s", p.status, p.body)
	}
	form := url.Values{"appid": {authorizerB}, "redirect_uri": {callback}, "scope": {"snsapi_userinfo"}, "state": {"st"},
		"component_appid": {s.ComponentAppID}, "openid": {"oAlice"}, "decision": {"allow"}}
	p = confirm(t, s, c, form)
	q := redirectParams(t, p.location, callback)
	if q.Get("appid") != authorizerB || q.Get("state") != "st" {
		t.Fatalf("allow: %q", p.location)
	}
	r := compExchange(t, s, tok, authorizerB, q.Get("code"))
	wantErrcode(t, r, 0)
	if r.OpenID != s.AuthorizerOpenID(authorizerB, "oAlice") || r.UnionID != "uAlice" {
		t.Errorf("exchange: %s", r.body)
	}

	form.Set("decision", "refuse")
	if p := confirm(t, s, c, form); p.location != callback+"?state=st" {
		t.Errorf("refuse: %q", p.location)
	}
	form.Set("decision", "allow")
	form.Del("component_appid")
	if p := confirm(t, s, c, form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "component_appid") {
		t.Errorf("form without component_appid: HTTP %d %q", p.status, p.location)
	}
	form.Set("component_appid", s.ComponentAppID)
	s.RevokeAuthorizer(authorizerB)
	if p := confirm(t, s, c, form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "10015") {
		t.Errorf("form of a revoked authorizer: HTTP %d %q", p.status, p.location)
	}
}

func TestComponentExchange(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	s.AddUser(wechattest.User{OpenID: "oAlice", Nickname: "Alice", UnionID: "uAlice"})

	// Same shape as the Official Account's exchange.
	oa := login(t, s, "oAlice", "snsapi_userinfo")
	r := compExchange(t, s, tok, authorizerA, s.IssueAuthorizerCode(authorizerA, "oAlice", "snsapi_userinfo"))
	wantErrcode(t, r, 0)
	if keys(t, r.body) != keys(t, oa.body) {
		t.Errorf("reply keys %s, want the Official Account's %s", keys(t, r.body), keys(t, oa.body))
	}
	if r.OpenID != s.AuthorizerOpenID(authorizerA, "oAlice") || r.UnionID != "uAlice" || r.ExpiresIn != 7200 || r.RefreshToken == "" {
		t.Errorf("exchange: %s", r.body)
	}
	rb := compExchange(t, s, tok, authorizerB, s.IssueAuthorizerCode(authorizerB, "oAlice", "snsapi_userinfo"))
	if rb.OpenID == r.OpenID || rb.UnionID != r.UnionID {
		t.Errorf("two authorizers: openids %q %q (want different), unionids %q %q (want the same)", r.OpenID, rb.OpenID, r.UnionID, rb.UnionID)
	}

	t.Run("userinfo and auth", func(t *testing.T) {
		u := userInfo(t, s, r.AccessToken, r.OpenID)
		wantErrcode(t, u, 0)
		if u.OpenID != r.OpenID || u.Nickname != "Alice" || u.UnionID != "uAlice" {
			t.Errorf("userinfo: %s", u.body)
		}
		wantErrcode(t, userInfo(t, s, r.AccessToken, "oAlice"), 40003)
		wantErrcode(t, call(t, s, pathAuth, "access_token", r.AccessToken, "openid", r.OpenID), 0)
	})

	code := func() string { return s.IssueAuthorizerCode(authorizerA, "", "snsapi_base") }
	base := func(pairs ...string) []string {
		m := map[string]string{"appid": authorizerA, "code": code(), "grant_type": "authorization_code", "component_appid": s.ComponentAppID, "component_access_token": tok}
		for i := 0; i+1 < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		var out []string
		for _, k := range []string{"appid", "code", "grant_type", "component_appid", "component_access_token"} {
			if m[k] != "" {
				out = append(out, k, m[k])
			}
		}
		return out
	}
	access, _ := authorizeAccount(t, s, tok, authorizerA)
	for _, tt := range []struct {
		name  string
		pairs []string
		want  int
	}{
		{"ok", base(), 0},
		{"no component_appid", base("component_appid", ""), 41018},
		{"another component_appid", base("component_appid", "wx00000000000000c9"), 61011},
		{"no component token", base("component_access_token", ""), 41001},
		{"unknown component token", base("component_access_token", strings.Repeat("A", 128)), 40001},
		{"the message-check Token", base("component_access_token", s.ComponentToken), 40001},
		{"the Official Account's global token", base("component_access_token", globalToken(t, s)), 40001},
		{"an authorizer token", base("component_access_token", access), 48001},
		{"no appid", base("appid", ""), 41002},
		{"appid not an authorizer", base("appid", "wx00000000000000ff"), 61003},
		{"grant_type", base("grant_type", "client_credential"), 40002},
		{"no code", base("code", ""), 41008},
		{"unknown code", base("code", "nope"), 40029},
		{"code of the Official Account", base("code", s.IssueCode("", "snsapi_base")), 40029},
		{"code of authorizer B", base("code", s.IssueAuthorizerCode(authorizerB, "", "snsapi_base")), 40029},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, pathComponentOAuthToken, tt.pairs...)
			wantErrcode(t, r, tt.want)
			if tt.want != 0 && !strings.Contains(r.ErrMsg, ", rid: ") {
				t.Errorf("errmsg %q: /sns/ texts end in \", rid: …\"", r.ErrMsg)
			}
		})
	}

	t.Run("code bound to its authorizer", func(t *testing.T) {
		c := s.IssueAuthorizerCode(authorizerA, "", "snsapi_base")
		wantErrcode(t, compExchange(t, s, tok, authorizerB, c), 40029)
		wantErrcode(t, exchange(t, s, c), 40029) // not the Official Account's either
		wantErrcode(t, compExchange(t, s, tok, authorizerA, c), 0)
		wantErrcode(t, compExchange(t, s, tok, authorizerA, c), 40163)
	})
	t.Run("code expiry", func(t *testing.T) {
		c := code()
		s.Advance(4*time.Minute + 59*time.Second)
		early := code()
		wantErrcode(t, compExchange(t, s, tok, authorizerA, early), 0)
		s.Advance(time.Second)
		wantErrcode(t, compExchange(t, s, tok, authorizerA, c), 40029)
	})
	t.Run("expired component token", func(t *testing.T) {
		s.Advance(7200 * time.Second)
		wantErrcode(t, compExchange(t, s, tok, authorizerA, code()), 40001)
	})
	t.Run("revoked authorizer", func(t *testing.T) {
		fresh := platformToken(t, s)
		c := s.IssueAuthorizerCode(authorizerB, "", "snsapi_base")
		s.RevokeAuthorizer(authorizerB)
		wantErrcode(t, compExchange(t, s, fresh, authorizerB, c), 61003)
	})
}

// keys lists the top-level keys of a JSON object in their order.
func keys(t *testing.T, body string) string {
	t.Helper()
	var out []string
	depth := 0
	inString, escaped := false, false
	start := -1
	for i, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			if !inString && depth == 1 {
				start = i + 1
			} else if inString && start >= 0 {
				if i+1 < len(body) && body[i+1] == ':' {
					out = append(out, body[start:i])
				}
				start = -1
			}
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
		case !inString && (c == '}' || c == ']'):
			depth--
		}
	}
	return strings.Join(out, ",")
}

func TestComponentRefresh(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	r := compExchange(t, s, tok, authorizerA, s.IssueAuthorizerCode(authorizerA, "", "snsapi_userinfo"))
	wantErrcode(t, r, 0)
	f := compRefresh(t, s, tok, authorizerA, r.RefreshToken)
	wantErrcode(t, f, 0)
	if f.RefreshToken != r.RefreshToken || f.AccessToken == r.AccessToken || f.OpenID != r.OpenID || keys(t, f.body) != keys(t, r.body) {
		t.Errorf("refresh: %s after %s", f.body, r.body)
	}
	wantErrcode(t, userInfo(t, s, f.AccessToken, f.OpenID), 0)

	oa := login(t, s, "", "snsapi_base")
	rb := compExchange(t, s, tok, authorizerB, s.IssueAuthorizerCode(authorizerB, "", "snsapi_base"))
	for _, tt := range []struct {
		name string
		got  reply
		want int
	}{
		{"another authorizer's refresh token", compRefresh(t, s, tok, authorizerA, rb.RefreshToken), 40030},
		{"the Official Account's refresh token", compRefresh(t, s, tok, authorizerA, oa.RefreshToken), 40030},
		{"on the Official Account's refresh", refresh(t, s, r.RefreshToken), 40030},
		{"unknown", compRefresh(t, s, tok, authorizerA, "nope"), 40030},
		{"missing", compRefresh(t, s, tok, authorizerA, ""), 41003},
		{"no component_appid", call(t, s, pathComponentOAuthRefresh, "appid", authorizerA, "grant_type", "refresh_token", "component_access_token", tok, "refresh_token", r.RefreshToken), 41018},
		{"authorizer token as component token", compRefresh(t, s, authorizerAccess(t, s, tok), authorizerA, r.RefreshToken), 48001},
		{"bad component token", compRefresh(t, s, "x"+tok[1:], authorizerA, r.RefreshToken), 40001},
		{"grant_type", call(t, s, pathComponentOAuthRefresh, "appid", authorizerA, "grant_type", "authorization_code", "component_appid", s.ComponentAppID, "component_access_token", tok, "refresh_token", r.RefreshToken), 40002},
	} {
		t.Run(tt.name, func(t *testing.T) { wantErrcode(t, tt.got, tt.want) })
	}
	t.Run("30 days", func(t *testing.T) {
		s.Advance(30*24*time.Hour - time.Second)
		wantErrcode(t, compRefresh(t, s, platformToken(t, s), authorizerA, r.RefreshToken), 0)
		s.Advance(time.Second)
		wantErrcode(t, compRefresh(t, s, platformToken(t, s), authorizerA, r.RefreshToken), 42002)
	})
}

func authorizerAccess(t *testing.T, s *wechattest.Server, tok string) string {
	t.Helper()
	a, _ := authorizeAccount(t, s, tok, authorizerA)
	return a
}

func TestComponentSnapshotUser(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	s.AddUser(wechattest.User{OpenID: "oSnap", UnionID: "uSnap", Snapshot: true})
	r := compExchange(t, s, tok, authorizerA, s.IssueAuthorizerCode(authorizerA, "oSnap", "snsapi_userinfo"))
	wantErrcode(t, r, 0)
	if r.IsSnapshotUser != 1 || r.OpenID == s.AuthorizerOpenID(authorizerA, "oSnap") || r.UnionID == "uSnap" || r.UnionID == "" {
		t.Errorf("snapshot exchange: %s", r.body)
	}
}

func TestComponentPathsFailNextAndCalls(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	c := s.IssueAuthorizerCode(authorizerA, "", "snsapi_base")
	s.FailNext(pathComponentOAuthToken, -1)
	wantErrcode(t, compExchange(t, s, tok, authorizerA, c), -1)
	wantErrcode(t, compExchange(t, s, tok, authorizerA, c), 40163) // spent, as on the Official Account
	r := compExchange(t, s, tok, authorizerA, s.IssueAuthorizerCode(authorizerA, "", "snsapi_base"))
	s.FailNext(pathComponentOAuthRefresh, 40030)
	wantErrcode(t, compRefresh(t, s, tok, authorizerA, r.RefreshToken), 40030)
	wantErrcode(t, compRefresh(t, s, tok, authorizerA, r.RefreshToken), 0)
	s.FailNext(pathAuthorize, 10009)
	if p := authorize(t, s, noRedirect(s), compAuthQuery(s, authorizerA, "snsapi_base", "s")); p.status != http.StatusBadRequest || !strings.Contains(p.body, "10009") {
		t.Errorf("FailNext on the authorize page: HTTP %d", p.status)
	}
	if s.Calls(pathComponentOAuthToken) != 3 || s.Calls(pathComponentOAuthRefresh) != 2 {
		t.Errorf("Calls: %d exchanges, %d refreshes; want 3, 2", s.Calls(pathComponentOAuthToken), s.Calls(pathComponentOAuthRefresh))
	}
}

// componentApp is a minimal application that logs in for the authorizer
// appID in component mode: /page needs a login, /cb exchanges the code
// at /sns/oauth2/component/access_token and keeps the openid in a
// cookie.
func componentApp(t *testing.T, s *wechattest.Server, appID, tok string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("who"); err == nil {
			io.WriteString(w, "hello "+c.Value)
			return
		}
		cb := "http://" + r.Host + "/cb"
		http.Redirect(w, r, s.URL+"/connect/oauth2/authorize?"+query("appid", appID, "redirect_uri", cb, "response_type", "code",
			"scope", "snsapi_base", "state", "xyz", "component_appid", s.ComponentAppID)+"#wechat_redirect", http.StatusFound)
	})
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != "xyz" || q.Get("appid") != appID {
			http.Error(w, "bad callback "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		resp, err := s.Client().Get(s.URL + pathComponentOAuthToken + "?" + query("appid", appID, "code", q.Get("code"), "grant_type", "authorization_code",
			"component_appid", s.ComponentAppID, "component_access_token", tok))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		openID := between(string(body), `"openid":"`, `"`)
		if openID == "" {
			http.Error(w, "exchange: "+string(body), http.StatusBadGateway)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "who", Value: openID, Path: "/"})
		http.Redirect(w, r, "/page", http.StatusFound)
	})
	return mux
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

func TestLogInComponentMode(t *testing.T) {
	s := newServer(t)
	tok := platformToken(t, s)
	app := componentApp(t, s, authorizerB, tok)

	req := httptest.NewRequest(http.MethodGet, "/page", nil)
	if err := s.LogIn(app, req, "oAlice"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if want := "hello " + s.AuthorizerOpenID(authorizerB, "oAlice"); rec.Body.String() != want {
		t.Errorf("LogIn: the app says %q, want %q", rec.Body.String(), want)
	}

	srv := httptest.NewServer(app)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	if err := s.LogInJar(jar, srv.URL+"/page", "oBob"); err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Jar: jar}).Get(srv.URL + "/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "hello " + s.AuthorizerOpenID(authorizerB, "oBob"); string(body) != want {
		t.Errorf("LogInJar: the app says %q, want %q", body, want)
	}

	s.RevokeAuthorizer(authorizerB)
	err = s.LogIn(app, httptest.NewRequest(http.MethodGet, "/page", nil), "oAlice")
	if err == nil || !strings.Contains(err.Error(), "10015") {
		t.Errorf("LogIn for a revoked authorizer: %v, want a 10015 error", err)
	}
}
