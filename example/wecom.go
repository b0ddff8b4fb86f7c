package main

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/wechatauth/wechatauth/jssdk"
	"github.com/wechatauth/wechatauth/mp"
	"github.com/wechatauth/wechatauth/wecom"
	"github.com/wechatauth/wechatauth/work"
)

// newWeComApp builds the example app for the members of a WeCom corp
// (WECOM=1, or WECOM_CORPID and the rest):
//
//	GET  /               public home page, with a login link
//	     /account/...    requires a WeCom login; shows the member (or, with
//	                     AllowNonMembers, the non-member's openid)
//	GET  /account/jssdk  a JS-SDK page: wx.config, then the location, and
//	                     wx.agentConfig, then the app's context
//	GET  /wecom/callback WeCom's callback, from its authorize page and its Web login
//	GET  /wecom/jssdk    the page's wx.config and wx.agentConfig (?url=<page URL>&agent=1); POST: "invalid signature"
//	GET  /wecom/jssdk.js the script that asks for them
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

	signer, err := newWeComSigner(cfg, st)
	if err != nil {
		st.close()
		return nil, nil, err
	}
	scripts := weComScripts(cfg)

	mux := http.NewServeMux()
	mux.Handle("GET /wecom/callback", auth.CallbackHandler())
	mux.Handle("/account/", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _ := wecom.MemberFrom(r)
		render(w, memberPage, m)
	})))
	mux.Handle("GET /wecom/jssdk", signer.Handler())
	mux.Handle("POST /wecom/jssdk", signer.Handler())
	mux.Handle("GET /wecom/jssdk.js", signer.ScriptHandler())
	mux.Handle("GET /account/jssdk", auth.RequireMember(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, weComJSSDKPage, map[string]any{"Scripts": scripts})
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

// newWeComSigner signs the pages of the callback URL's origin: wx.config
// with the corp's jsapi_ticket, wx.agentConfig with the app's ticket. Both
// are fetched with the app's corp access_token, the login's: st.corpTokens
// caches it for both, and st caches the tickets beside it (in Redis with
// REDIS_ADDR: one fetch of each per expiry for every instance).
func newWeComSigner(cfg config, st *storage) (*jssdk.Signer, error) {
	cb, err := url.Parse(cfg.CallbackURL)
	if err != nil {
		return nil, fmt.Errorf("WECOM_CALLBACK_URL: %w", err)
	}
	client := &work.Client{CorpID: cfg.CorpID, AgentID: cfg.AgentID, Secret: cfg.CorpSecret, HTTPClient: cfg.HTTPClient, Endpoints: cfg.WeComEndpoints}
	tokens := work.NewAccessTokenSource(client, mp.CredentialOptions{Cache: st.corpTokens})
	return jssdk.New(jssdk.Options{
		CorpID:       cfg.CorpID,
		Tickets:      work.NewJSAPITicketSource(client, tokens, mp.CredentialOptions{Cache: st.corpTickets}),
		AgentTickets: work.NewAgentTicketSource(client, tokens, mp.CredentialOptions{Cache: st.agentTickets}),
		AgentID:      cfg.AgentID,
		Origins:      []string{cb.Scheme + "://" + cb.Host}, // the app's trusted domain (可信域名)
		APIs:         []string{"getLocation"},
		AgentAPIs:    []string{"getContext"},
		Logger:       cfg.Logger,
	})
}

// weComScripts are the scripts a WeCom page loads before the package's:
// WeCom's jweixin and, for wx.agentConfig, its jwxwork; on the emulator
// (cfg.Endpoints.JSSDK set), the emulator's stand-in, which has both.
func weComScripts(cfg config) []string {
	if cfg.Endpoints.JSSDK != "" {
		return []string{cfg.Endpoints.JSSDK}
	}
	return []string{"https://res.wx.qq.com/open/js/jweixin-1.2.0.js", "https://open.work.weixin.qq.com/wwopen/js/jwxwork-1.0.0.js"}
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
<p><a href="/account/jssdk">The JS-SDK page</a></p>
{{else}}<p id="non-member">Not a member of the corp: let in by Options.AllowNonMembers.</p>
<dl><dt>openid</dt><dd id="openid">{{.OpenID}}</dd>{{if .ExternalUserID}}<dt>external_userid</dt><dd id="external-userid">{{.ExternalUserID}}</dd>{{end}}</dl>{{end}}
<form method="post" action="/logout"><button id="logout">Log out</button></form>`))

// weComJSSDKPage loads WeCom's scripts (the emulator's stand-in by
// default), then the package's, which makes wx.config and, with
// data-agent-apis, wx.agentConfig: on jssdk:ready the page shows the
// location, on jssdk:agent-ready the context WeCom opened it in.
var weComJSSDKPage = template.Must(template.New("wecom-jssdk").Parse(`<!doctype html><title>JS-SDK (WeCom)</title>` + style + `
<h1>JS-SDK (WeCom)</h1>
<p id="jssdk-status">Configuring the JS-SDK…</p>
<p id="jssdk-ready" hidden>wx.config ready</p>
<p id="agent-ready" hidden>wx.agentConfig ready</p>
<dl><dt>signed URL</dt><dd id="signed-url">–</dd><dt>configured</dt><dd id="ready-count">0</dd>
<dt>location</dt><dd id="location">–</dd>
<dt>agent signed URL</dt><dd id="agent-url">–</dd><dt>agent configured</dt><dd id="agent-count">0</dd>
<dt>context (getContext)</dt><dd id="context">–</dd></dl>
<p><button id="route" type="button">Change route (history.pushState)</button></p>
{{range .Scripts}}<script src="{{.}}"></script>
{{end}}<script>
(function () {
  var ready = 0, agentReady = 0;
  function show(id, text) { document.getElementById(id).textContent = text; }
  document.addEventListener("jssdk:ready", function (e) {
    show("location", "–");
    show("ready-count", String(++ready));
    show("signed-url", e.detail.url);
    show("jssdk-status", "JS-SDK ready");
    document.getElementById("jssdk-ready").hidden = false;
    wx.getLocation({ type: "wgs84", success: function (res) { show("location", res.latitude + "," + res.longitude); } });
  });
  document.addEventListener("jssdk:agent-ready", function (e) {
    show("context", "–");
    show("agent-count", String(++agentReady));
    show("agent-url", e.detail.url);
    document.getElementById("agent-ready").hidden = false;
    wx.invoke("getContext", {}, function (res) {
      show("context", res.err_msg === "getContext:ok" ? res.entry : res.err_msg);
    });
  });
  document.addEventListener("jssdk:error", function (e) { show("jssdk-status", "JS-SDK error: " + e.detail.errMsg); });
  document.addEventListener("jssdk:agent-error", function (e) { show("jssdk-status", "wx.agentConfig error: " + e.detail.errMsg); });
  document.getElementById("route").addEventListener("click", function () {
    history.pushState({}, "", "/account/jssdk?tab=orders#top");
  });
})();
</script>
<script src="/wecom/jssdk.js" data-config="/wecom/jssdk" data-apis="getLocation" data-agent-apis="getContext"></script>
<p><a href="/account/">Your account</a></p>`))
