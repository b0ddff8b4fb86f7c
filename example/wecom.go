package main

import (
	"html/template"
	"net/http"

	"github.com/wechatauth/wechatauth/wecom"
)

// newWeComApp builds the example app for the members of a WeCom corp
// (WECOM=1, or WECOM_CORPID and the rest):
//
//	GET  /               public home page, with a login link
//	     /account/...    requires a WeCom login; shows the member (or, with
//	                     AllowNonMembers, the non-member's openid)
//	GET  /wecom/callback WeCom's callback, from its authorize page and its Web login
//	POST /logout         logs out
//
// The WeCom client goes through WeCom's authorize page, desktop browsers
// through its Web login, personal WeChat gets a page asking to open the
// link in WeCom. The returned func releases the app's storage.
func newWeComApp(cfg config) (http.Handler, func() error, error) {
	st, err := newStorage(cfg)
	if err != nil {
		return nil, nil, err
	}
	auth, err := wecom.New(wecom.Options{
		CorpID:          cfg.CorpID,
		AgentID:         cfg.AgentID,
		Secret:          cfg.CorpSecret,
		CallbackURL:     cfg.CallbackURL,
		Sessions:        st.sessions,
		Profile:         true, // the member's name and departments
		AllowNonMembers: cfg.AllowNonMembers,
		Callbacks:       st.callbacks,  // Redis with REDIS_ADDR: one exchange per code across instances
		TokenCache:      st.corpTokens, // Redis with REDIS_ADDR: one corp token for every instance
		HTTPClient:      cfg.HTTPClient,
		Endpoints:       cfg.WeComEndpoints,
		Logger:          cfg.Logger,
		DebugBypass:     cfg.Debug,
		DebugMember:     wecom.Member{UserID: "developer", Name: "开发者 (debug login)"},
	})
	if err != nil {
		st.close()
		return nil, nil, err
	}
	st.sessions.ErrorFunc = auth.SessionStoreError

	mux := http.NewServeMux()
	mux.Handle("GET /wecom/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := wecom.MemberFrom(r)
		render(w, memberPage, m)
	})))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := auth.Logout(r); err != nil {
			auth.SessionStoreError(w, r, err)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		m, ok := auth.CurrentMember(r)
		render(w, weComHomePage, map[string]any{"Member": m, "LoggedIn": ok, "LoginURL": auth.LoginURL("/account/")})
	})
	return st.sessions.LoadAndSave(mux), st.close, nil
}

var weComHomePage = template.Must(template.New("wecom-home").Parse(`<!doctype html><title>wechatauth example (WeCom)</title>` + style + `
<h1>wechatauth example (WeCom)</h1>
{{if .LoggedIn}}<p id="greeting">Welcome back, {{or .Member.Name .Member.ID}}.</p><p><a href="/account/">Your account</a></p>
{{else}}<p id="logged-out">You are not logged in.</p><p><a class="button" id="login" href="{{.LoginURL}}">Log in with WeCom</a></p>{{end}}
<p><a href="/account/">/account/</a> requires a WeCom (企业微信) login.</p>`))

// memberPage shows a wecom.Member: a member's userid (and a linked corp's
// CorpID), name and departments, or a non-member's openid.
var memberPage = template.Must(template.New("member").Parse(`<!doctype html><title>Your account</title>` + style + `
<h1>Your account</h1>
{{if .IsMember}}<p><strong id="name">{{or .Name "(no name: Options.Profile is off, or user/get failed)"}}</strong></p>
<dl><dt>userid</dt><dd id="userid">{{.UserID}}</dd>{{if .CorpID}}<dt>corp (linked)</dt><dd id="corpid">{{.CorpID}}</dd>{{end}}
<dt>departments</dt><dd id="department">{{range $i, $d := .Department}}{{if $i}}, {{end}}{{$d}}{{end}}</dd></dl>
{{else}}<p id="non-member">Not a member of the corp: let in by Options.AllowNonMembers.</p>
<dl><dt>openid</dt><dd id="openid">{{.OpenID}}</dd>{{if .ExternalUserID}}<dt>external_userid</dt><dd id="external-userid">{{.ExternalUserID}}</dd>{{end}}</dl>{{end}}
<form method="post" action="/logout"><button id="logout">Log out</button></form>`))
