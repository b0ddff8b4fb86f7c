package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/wechatauth/wechatauth"
	"github.com/wechatauth/wechatauth/internal/engine"
)

// A second public face needs no line of the flow: a toy identity (a
// member of a corp, as WeCom has them), a toy face and a toy app, built on
// the engine's exported names alone, log a browser in through an
// authorize page and a code exchange.

// member is the toy identity: not an openid, not a wechatauth.User.
type member struct{ CorpID, UserID string }

// memberFace keeps members as "m1 corp user flags" in the session.
type memberFace struct {
	app    engine.App[member]
	refuse string // a userid the face refuses, with a page of its own
}

func (memberFace) Encode(m member, profile bool) string {
	flags := "-"
	if profile {
		flags = "p"
	}
	return strings.Join([]string{"m1", m.CorpID, m.UserID, flags}, "\x1f")
}

func (memberFace) Decode(s string) (member, bool) {
	f := strings.SplitN(s, "\x1f", 5)
	if len(f) < 4 || f[0] != "m1" || f[2] == "" {
		return member{}, false
	}
	return member{CorpID: f[1], UserID: f[2]}, true
}

func (memberFace) LoginKey(s string) string {
	if f := strings.SplitN(s, "\x1f", 5); len(f) == 5 {
		return f[4]
	}
	return ""
}

func (memberFace) Key(m member) string                       { return m.CorpID + "/" + m.UserID }
func (memberFace) Alias(member) string                       { return "" }
func (memberFace) Guest(member) bool                         { return false }
func (memberFace) HasProfile(s string) (has, guest bool)     { return strings.Contains(s, "\x1fp"), false }
func (f memberFace) AppFor(*http.Request) engine.App[member] { return f.app }
func (f memberFace) App(name string) engine.App[member] {
	if name == f.app.Name() {
		return f.app
	}
	return nil
}
func (memberFace) Outside(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }
func (f memberFace) Resolve(_ context.Context, _ engine.App[member], g engine.Grant[member]) (member, bool, error) {
	if g.User.UserID == f.refuse {
		return member{}, false, &engine.Refusal{Err: errors.New("not a member of the corp"), Status: http.StatusForbidden,
			Title: "您不是本企业成员 · You are not a member", Advice: "请联系管理员。 · Ask your administrator."}
	}
	return g.User, false, nil
}
func (memberFace) DebugUser(_ *http.Request, key string) member {
	corp, user, _ := strings.Cut(key, "/")
	return member{corp, user}
}
func (memberFace) Errcode(error) (int, bool) { return 0, false }
func (memberFace) Upstream(error) bool       { return false }

// corpApp is the toy app: its authorize page sends the browser straight
// back with a code, and a code names the member it was issued for.
type corpApp struct {
	authorize string // the authorize page's URL
	redeemed  atomic.Int32
}

func (*corpApp) Name() string                         { return "corp" }
func (*corpApp) Scope(want engine.Scope) engine.Scope { return want }
func (a *corpApp) AuthorizeURL(callbackURL, state string, scope engine.Scope) string {
	return a.authorize + "?" + url.Values{"redirect_uri": {callbackURL}, "state": {state}, "scope": {string(scope)}}.Encode()
}
func (a *corpApp) Redeem(_ context.Context, code string) (engine.Grant[member], error) {
	a.redeemed.Add(1)
	corp, user, ok := strings.Cut(code, "-")
	if !ok {
		return engine.Grant[member]{}, errors.New("corp: unknown code")
	}
	return engine.Grant[member]{User: member{corp, user}}, nil
}
func (*corpApp) Spent(error) bool              { return false }
func (*corpApp) Misconfigured(err error) error { return err }

func TestASecondFace(t *testing.T) {
	// The authorize page, standing in for the platform's.
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {"wwcorp-zhangsan"}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	}))
	defer platform.Close()

	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	defer site.Close()

	app := &corpApp{authorize: platform.URL + "/connect/oauth2/authorize"}
	sessions := scs.New()
	var admitted []member
	var events []engine.Event
	e := engine.New(engine.Config[member]{
		Name:        "corp", // a face of its own beside an Official Account's on one site
		CallbackURL: site.URL + "/corp/callback", Sessions: sessions,
		Store: wechatauth.NewMemoryStore(), NotFound: wechatauth.ErrNotFound, Secret: "corp secret",
		Scope: "snsapi_base", ProfileScope: "snsapi_privateinfo", Scopes: []engine.Scope{"snsapi_base", "snsapi_privateinfo"},
		Timeout: 5 * time.Second, StateTTL: 10 * time.Minute, MaxAttempts: 5,
		Logger: slog.New(slog.DiscardHandler), IDName: "userid",
		OnLogin: func(_ *http.Request, m member) error { admitted = append(admitted, m); return nil },
		OnEvent: func(_ *http.Request, ev engine.Event) { events = append(events, ev) },
	}, memberFace{app: app})
	mux.Handle("/corp/callback", sessions.LoadAndSave(http.HandlerFunc(e.ServeCallback)))
	mux.Handle("/peek", sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "own=%t official=%t", sessions.GetString(r.Context(), "wechatauth.corp.user") != "", sessions.Exists(r.Context(), "wechatauth.user"))
	})))
	mux.Handle("/", sessions.LoadAndSave(e.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := engine.UserFrom[member](r)
		if !ok {
			http.Error(w, "no member", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s of %s at %s", m.UserID, m.CorpID, r.URL.RequestURI())
	}), "", false)))

	jar, _ := cookiejar.New(nil)
	var loginCookies []string
	client := &http.Client{Jar: jar, Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			for _, c := range resp.Cookies() {
				if strings.Contains(c.Name, "login-") {
					loginCookies = append(loginCookies, c.Name)
				}
			}
		}
		return resp, err
	})}
	for i, want := range []string{"zhangsan of wwcorp at /orders?id=7", "zhangsan of wwcorp at /orders?id=7"} {
		resp, err := client.Get(site.URL + "/orders?id=7")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("request %d: %d %q, %v; want 200 %q", i+1, resp.StatusCode, body, err, want)
		}
	}
	for _, name := range loginCookies {
		if !strings.HasPrefix(name, "wechatauth-corp-login-") {
			t.Errorf("login cookie %q, want the face's own prefix wechatauth-corp-login-", name)
		}
	}
	if len(loginCookies) == 0 {
		t.Error("no login cookie seen")
	}
	resp, err := client.Get(site.URL + "/peek")
	if err != nil {
		t.Fatal(err)
	}
	peek, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(peek) != "own=true official=false" {
		t.Errorf("session keys: %s, want the face's own key only", peek)
	}
	if n := app.redeemed.Load(); n != 1 {
		t.Errorf("codes redeemed: %d, want 1 (the second request is logged in)", n)
	}
	if len(admitted) != 1 || admitted[0] != (member{"wwcorp", "zhangsan"}) {
		t.Errorf("OnLogin saw %v, want the member once", admitted)
	}
	var kinds []engine.EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	if len(events) != 2 || kinds[0] != engine.EventRedirect || kinds[1] != engine.EventLogin || events[1].ID != "wwcorp/zhangsan" {
		t.Errorf("events %+v, want a redirect, then the login of wwcorp/zhangsan", events)
	}
}

// roundTrip is an http.RoundTripper of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A face refuses a login for a reason of its own, with its own page and
// status, and the session stays logged out.
func TestAFaceRefusesALogin(t *testing.T) {
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {"wwcorp-stranger"}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
	}))
	defer platform.Close()
	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	defer site.Close()
	sessions := scs.New()
	e := engine.New(engine.Config[member]{
		CallbackURL: site.URL + "/corp/callback", Sessions: sessions,
		Store: wechatauth.NewMemoryStore(), NotFound: wechatauth.ErrNotFound, Secret: "corp secret",
		Scope: "snsapi_base", ProfileScope: "snsapi_privateinfo", Scopes: []engine.Scope{"snsapi_base", "snsapi_privateinfo"},
		Timeout: 5 * time.Second, StateTTL: 10 * time.Minute, MaxAttempts: 5,
		Logger: slog.New(slog.DiscardHandler), IDName: "userid",
	}, memberFace{app: &corpApp{authorize: platform.URL + "/connect/oauth2/authorize"}, refuse: "stranger"})
	mux.Handle("/corp/callback", sessions.LoadAndSave(http.HandlerFunc(e.ServeCallback)))
	mux.Handle("/", sessions.LoadAndSave(e.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "inside")
	}), "", false)))
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(site.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "您不是本企业成员") || strings.Contains(string(body), "inside") {
		t.Errorf("refused login: %d %q; want 403 with the face's page", resp.StatusCode, body)
	}
}
